"""The transactional outbox: queue emails and texts inside a change's transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from portal.clock import to_db
from portal.db import Conn, Row
from portal.db import organization as org_rows
from portal.db import outbox as outbox_rows
from portal.db import people as people_rows
from portal.i18n import languages
from portal.messaging import emails, segments

if TYPE_CHECKING:
    from portal.context import PortalContext


def _message_id(ctx: PortalContext) -> str:
    """Stable for the row's life: a retried email carries the same Message-ID."""
    domain = ctx.settings.mail_from.rsplit("@", 1)[-1].strip(" >") or "portal.invalid"
    return f"<{secrets.token_hex(16)}@{domain}>"


async def queue_email(
    conn: Conn,
    ctx: PortalContext,
    *,
    template: str,
    to: str,
    person_id: int | None = None,
    reply_to: str | None = None,
    **context: Any,
) -> int:
    """Render now (what was sent is what is stored) and queue one email to one address.
    `reply_to`: where a reply goes (the From is a no-reply sender), for an email that invites
    one; the Organization Email."""
    organization = context.pop("organization", None) or await org_rows.get(conn)
    language = await _recipient_language(conn, person_id, context.get("person"))
    rendered = emails.render(
        template, language, organization=organization, url_for=ctx.url_for, **context
    )
    outbox_id = await outbox_rows.add(
        conn,
        channel="email",
        template=template,
        recipient=to,
        person_id=person_id,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        message_id=_message_id(ctx),
        requires_consent=False,
        now=to_db(ctx.now()),
        reply_to=reply_to or "",
    )
    ctx.outbox_wakeup.set()
    return outbox_id


@dataclasses.dataclass(frozen=True)
class Email:
    """One email of many queued together: to whom, for which person, and what its template
    is rendered with besides the organization."""

    to: str
    person_id: int | None
    context: dict[str, Any]
    language: str | None = None  # the person's saved language; None or unknown: English


async def queue_emails(
    conn: Conn, ctx: PortalContext, messages: Sequence[Email], *, template: str, organization: Row
) -> None:
    """Render and queue many emails of one template in one statement (a bulk request's
    batch), as `queue_email` would queue each."""
    now = to_db(ctx.now())
    rows = []
    for email in messages:
        language = email.language if email.language in languages.NAMES else languages.DEFAULT
        rendered = emails.render(
            template, language, organization=organization, url_for=ctx.url_for, **email.context
        )
        rows.append(
            {
                "channel": "email",
                "template": template,
                "recipient": email.to,
                "person_id": email.person_id,
                "subject": rendered.subject,
                "body_text": rendered.text,
                "body_html": rendered.html,
                "message_id": _message_id(ctx),
                "requires_consent": 0,
                "next_attempt_at": now,
                "created_at": now,
                "reply_to": "",
                "mass_text_id": None,
                "segments": 1,
            }
        )
    if rows:
        await outbox_rows.add_many(conn, rows)
        ctx.outbox_wakeup.set()


async def _recipient_language(conn: Conn, person_id: int | None, person: Any) -> str:
    """The language saved for the person an email is for, else English (the office's own
    emails have no person_id). Read from the person row the caller holds when it has it."""
    if person_id is None:
        return languages.DEFAULT
    if isinstance(person, dict) and person.get("id") == person_id and "language" in person:
        saved = person["language"]
    else:
        saved = await people_rows.language_of(conn, person_id)
    return saved if saved in languages.NAMES else languages.DEFAULT


async def queue_text(
    conn: Conn,
    ctx: PortalContext,
    *,
    template: str,
    to: str,
    body: str,
    person_id: int | None = None,
    requires_consent: bool = True,
    not_before: dt.datetime | None = None,
    mass_text_id: int | None = None,
) -> int:
    """Queue one text. `requires_consent=False` only for the replies the rules allow to a
    number that may not be texted otherwise (the one STOP confirmation, HELP answers).
    `not_before`: a scheduled text, or one held for the sending hours."""
    outbox_id = await outbox_rows.add(
        conn,
        channel="sms",
        template=template,
        recipient=to,
        person_id=person_id,
        subject="",
        body_text=body,
        body_html="",
        message_id=_message_id(ctx),
        requires_consent=requires_consent,
        now=to_db(ctx.now()),
        not_before=to_db(not_before) if not_before else None,
        mass_text_id=mass_text_id,
        segments=segments.count(body).segments,
    )
    ctx.outbox_wakeup.set()
    return outbox_id


@dataclasses.dataclass(frozen=True)
class Text:
    """One text of many queued together: to whom, what it says, and for which person."""

    to: str
    body: str
    person_id: int | None = None


async def queue_texts(
    conn: Conn,
    ctx: PortalContext,
    texts: Sequence[Text],
    *,
    template: str,
    not_before: dt.datetime | None = None,
    mass_text_id: int | None = None,
) -> None:
    """Queue many texts that need consent, in one statement (a mass text, a chunk at a time).
    Consent is asked for each when it goes out, as for `queue_text`."""
    now = to_db(ctx.now())
    due = to_db(not_before) if not_before else now
    await outbox_rows.add_many(
        conn,
        [
            {
                "channel": "sms",
                "template": template,
                "recipient": text.to,
                "person_id": text.person_id,
                "subject": "",
                "body_text": text.body,
                "body_html": "",
                "message_id": _message_id(ctx),
                "requires_consent": 1,
                "next_attempt_at": due,
                "created_at": now,
                "reply_to": "",
                "mass_text_id": mass_text_id,
                "segments": segments.count(text.body).segments,
            }
            for text in texts
        ],
    )
    ctx.outbox_wakeup.set()
