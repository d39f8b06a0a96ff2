"""What each consent change owes people (rule 8): the emails and requests it queues.

Called by the commands inside their write transaction, so a notice is queued exactly when
its change commits, and never without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from portal.consent import reply_texts, wording
from portal.consent.rules import Actor, Channel, Status, texting_status
from portal.db import Conn, Row, ledger
from portal.db import organization as org_rows
from portal.db import people as people_rows
from portal.links import LinkFor
from portal.messaging import outbox

if TYPE_CHECKING:
    from portal.context import PortalContext


async def person_changed(
    conn: Conn,
    ctx: PortalContext,
    *,
    person: Row,
    new: Status,
    channel: Channel,
    actor: Actor,
    confirm_by_text: bool = True,
) -> None:
    """Queue the emails and texts one person's change owes, in the change's own transaction."""
    organization = await org_rows.get(conn)
    # A keyword opt-in (START, YES) is confirmed by the reply to that text itself.
    if new == Status.OPTED_IN and channel != Channel.SMS_KEYWORD and confirm_by_text:
        await opt_in_confirmation(conn, ctx, person=person, organization=organization)
    common = {
        "organization": organization,
        "person": person,
        "actor": actor,
        "channel": channel,
        "when": ctx.now(),
    }
    if new == Status.PENDING:
        await queue_consent_request(conn, ctx, person=person, requested_by=actor.label)
    # The office hears of every opt-out it did not make itself (an import is its own doing;
    # an email-link answer has an email of its own below).
    if new == Status.OPTED_OUT and channel not in (Channel.EMAIL_LINK, Channel.IMPORT):
        await outbox.queue_email(conn, ctx, template="org_opt_out", to=organization.email, **common)
    if channel == Channel.EMAIL_LINK:
        await outbox.queue_email(
            conn, ctx, template="org_link_answer", to=organization.email, new_status=new, **common
        )
        if person.email:
            await outbox.queue_email(
                conn,
                ctx,
                template="link_answer_confirmation",
                to=person.email,
                person_id=person.id,
                new_status=new,
                **common,
            )
    elif (
        channel == Channel.PORTAL
        and person.kind == "contact"
        and person.email
        and actor.person_id != person.id
        and new != Status.PENDING
    ):
        # An adult's setting changed by someone else: they hear of it from us.
        await outbox.queue_email(
            conn,
            ctx,
            template="changed_by_other",
            to=person.email,
            person_id=person.id,
            # The email invites a reply: it goes to the office, not to a no-reply sender.
            reply_to=organization.email,
            new_status=new,
            **common,
        )


async def opt_in_confirmation(
    conn: Conn, ctx: PortalContext, *, person: Row, organization: Row
) -> int | None:
    """The one text carriers require when a number opts in (rule 4): once per number, so
    nothing is sent when someone else with the number already receives our texts."""
    phone = person.cell_phone
    if not phone:
        return None
    for other in await people_rows.with_phone(conn, phone):
        if other.id != person.id and texting_status(other).may_text:
            return None  # the number already opted in, and was told so then
    # In the person's saved language: no keyword of theirs says otherwise here.
    template = await reply_texts.reply_text(conn, "opt_in", language=person.language)
    return await outbox.queue_text(
        conn,
        ctx,
        template="opt_in_confirmation",
        to=phone,
        body=template.format(org=organization.name, contact=organization.email),
        person_id=person.id,
    )


async def email_changed_by_other(
    conn: Conn, ctx: PortalContext, *, person: Row, new_email: str | None, actor: Actor
) -> None:
    """Tell the address on file that someone else replaced it."""
    await outbox.queue_email(
        conn,
        ctx,
        template="email_changed_by_other",
        to=person.email,
        person_id=person.id,
        person=person,
        new_email=new_email,
        actor=actor,
    )


async def number_stopped(
    conn: Conn, ctx: PortalContext, *, phone: str, channel: Channel, evidence: dict[str, Any]
) -> None:
    """The office hears of every number-wide opt-out, with everyone who has that number."""
    organization = await org_rows.get(conn)
    await outbox.queue_email(
        conn,
        ctx,
        template="org_number_stopped",
        to=organization.email,
        organization=organization,
        phone=phone,
        channel=channel,
        evidence=evidence,
        people=await people_rows.with_phone(conn, phone),
        when=ctx.now(),
    )


async def queue_consent_request(
    conn: Conn, ctx: PortalContext, *, person: Row, requested_by: str = ""
) -> None:
    """Issue a Yes/No link at the person's current consent version and email it to them.

    Never to an address someone else typed for them (rule 4): whoever typed it could answer."""
    if not person.email or not person.cell_phone or not person.email_confirmed:
        return
    state = await ledger.state_for_update(conn, person.id)
    await _queue_requests(
        conn, ctx, [(person, state.version if state else 0)], requested_by=requested_by
    )


async def queue_consent_requests(
    conn: Conn, ctx: PortalContext, *, people: Sequence[Row], requested_by: str = ""
) -> None:
    """`queue_consent_request` for many people at once, their links and their emails each
    in one statement. The rows must come from `people_rows.locked_for_requests` in this
    transaction, so each consent version is read under the lock a consent change takes."""
    await _queue_requests(
        conn,
        ctx,
        [
            (person, person.consent_version)
            for person in people
            if person.email and person.cell_phone and person.email_confirmed
        ],
        requested_by=requested_by,
    )


async def _queue_requests(
    conn: Conn, ctx: PortalContext, people: Sequence[tuple[Row, int]], *, requested_by: str
) -> None:
    """A link at the given consent version and its email, for each (person, version)."""
    if not people:
        return
    organization = await org_rows.get(conn)
    days = organization.consent_link_days  # set by staff; else the setting's first default
    links = await ctx.consent_links.issue_many(
        conn,
        [
            LinkFor(
                person_id=person.id,
                phone=person.cell_phone,
                consent_version=version,
                sent_to=person.email,
            )
            for person, version in people
        ],
        lifetime=dt.timedelta(days=days) if days else None,
    )
    current = await wording.current(conn)
    await outbox.queue_emails(
        conn,
        ctx,
        [
            outbox.Email(
                to=person.email,
                person_id=person.id,
                language=person.language,
                context={
                    "person": person,
                    "requested_by": requested_by,
                    "link_url": ctx.url_for("consent.link", token=link.token),
                    "wording": current.text(
                        org_name=organization.name,
                        phone=person.cell_phone,
                        language=person.language,
                    ),
                },
            )
            for (person, _), link in zip(people, links, strict=True)
        ],
        template="consent_request",
        organization=organization,
    )


async def imported_opt_ins_confirmed(
    conn: Conn,
    ctx: PortalContext,
    changes: list[tuple[Row, Status]],
    *,
    with_their_numbers: list[Row],
) -> None:
    """What an import's chunk of changes owes, as `person_changed` would queue it change by
    change: an opt-in's one confirmation text (an import's opt-out is the office's own doing,
    and an import never makes anyone pending). `with_their_numbers`: everyone who has one of
    the opted-in numbers, read before the changes were written; each change is then replayed
    in order, so a number two people of the chunk opt in is confirmed once, to the first."""
    opted_in = {person.cell_phone for person, new in changes if new == Status.OPTED_IN}
    opted_in.discard(None)
    if not opted_in:
        return
    textable: dict[str, set[int]] = {}
    for other in with_their_numbers:
        if texting_status(other).may_text:
            textable.setdefault(other.cell_phone, set()).add(other.id)
    organization = await org_rows.get(conn)
    # Each in the person's saved language, as `opt_in_confirmation` sends it one at a time.
    bodies = {
        language: (await reply_texts.reply_text(conn, "opt_in", language=language)).format(
            org=organization.name, contact=organization.email
        )
        for language in ("en", "es")
    }
    texts = []
    for person, new in changes:
        if person.cell_phone not in opted_in:
            continue
        already = textable.setdefault(person.cell_phone, set())
        if new != Status.OPTED_IN:
            already.discard(person.id)
            continue
        if not already - {person.id}:
            body = bodies["es" if person.language == "es" else "en"]
            texts.append(outbox.Text(to=person.cell_phone, body=body, person_id=person.id))
        already.add(person.id)
    if texts:
        await outbox.queue_texts(conn, ctx, texts, template="opt_in_confirmation")
