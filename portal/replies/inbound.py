"""What an inbound text does: STOP, START, YES and HELP from any phone, and their replies.

Every change goes through consent/commands.py; replies go out through the outbox in the same
transaction. Called by the inbound-text webhook.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from portal import phones
from portal.clock import to_db
from portal.consent import commands, wording
from portal.consent.reply_texts import reply_text
from portal.consent.rules import Actor, Channel, Status, texting_status
from portal.db import Conn
from portal.db import inbound as inbound_rows
from portal.db import ledger as ledger_rows
from portal.db import organization as org_rows
from portal.db import people as people_rows
from portal.messaging import outbox
from portal.messaging.providers import InboundText
from portal.replies import keywords

if TYPE_CHECKING:
    from portal.context import PortalContext


@dataclasses.dataclass(frozen=True)
class Handled:
    duplicate: bool
    kind: str = ""
    replied: bool = False


async def handle_inbound(conn: Conn, ctx: PortalContext, text: InboundText) -> Handled:
    """Record the text once, apply what it asks, queue at most one reply."""
    phone = phones.try_normalize(text.from_phone) or text.from_phone.strip()
    reading = keywords.classify(
        text.body, has_open_request=await inbound_rows.open_request_for(conn, phone)
    )
    reading = keywords.as_provider_handled(reading, text.provider_answered)
    recorded = await inbound_rows.record_once(
        conn,
        message_sid=text.message_sid,
        from_phone=phone,
        to_phone=text.to_phone,
        body=text.body[:1600],
        kind=reading.kind,
        needs_review=reading.needs_review,
        opt_out_type=text.provider_detail,
        now=to_db(ctx.now()),
    )
    if recorded is None:
        # Twilio retried (maybe concurrently): the first delivery already did everything.
        return Handled(duplicate=True)
    actor = Actor(kind="handset", label=f"handset {phones.mask(phone)}")
    evidence = {
        "message_sid": text.message_sid,
        "body": text.body[:500],
        "keyword": reading.normalized,
        "needs_review": reading.needs_review,
    }
    changed = True
    # Whether this number had opted out before: only then is a START answered with "again".
    again = reading.kind == "opt_in" and await ledger_rows.suppression(conn, phone) is not None
    if reading.kind == "opt_out":
        stop = await commands.suppress_number(
            conn,
            ctx,
            phone=phone,
            channel=Channel.SMS_KEYWORD,
            actor=actor,
            evidence=evidence,
            language=reading.language,
        )
        # A STOP repeated by an already stopped number changes nothing and gets no second text.
        changed = stop.changed
    elif reading.kind == "opt_in" and reading.normalized in keywords.CONDITIONAL_OPT_IN:
        # YES answers the open request(s) of this number only; it never lifts a STOP.
        await _answer_open_requests(conn, ctx, phone, actor, evidence, reading.language)
    elif reading.kind == "opt_in":
        lifted = await commands.lift_suppression(
            conn, ctx, phone=phone, actor=actor, evidence=evidence, language=reading.language
        )
        again = again or any(c.old_status == Status.OPTED_OUT for c in lifted)
        people = await people_rows.with_phone(conn, phone)
        # Everyone with the number is blocked by the organization: START lifted the STOP, but
        # "you are subscribed" would be untrue, so no reply says it.
        changed = not people or any(texting_status(p).may_text for p in people)
    elif reading.kind == "other":
        return Handled(duplicate=False, kind="other")
    # A stop that complains of what texts cost gets no confirmation: the opt-out and the
    # office's email still happen, but one more text would be one more charge (courtesy wins).
    courtesy = reading.kind == "opt_out" and reading.mentions_cost
    replied = changed and not courtesy and not await _provider_answered(conn, ctx, text, reading)
    if replied:
        await _reply(conn, ctx, phone, reading, again=again)
    return Handled(duplicate=False, kind=reading.kind, replied=replied)


async def _answer_open_requests(
    conn: Conn, ctx: PortalContext, phone: str, actor: Actor, evidence: dict, language: str
) -> None:
    for person in await people_rows.with_phone(conn, phone):
        if person.status == Status.PENDING and person.consent_phone == phone:
            await commands.set_texting(
                conn,
                ctx,
                person_id=person.id,
                allow=True,
                channel=Channel.SMS_KEYWORD,
                actor=actor,
                evidence=evidence,
                wording_version=(await wording.current(conn)).version,
                language=language,
            )


async def _provider_answered(
    conn: Conn, ctx: PortalContext, text: InboundText, reading: keywords.Reading
) -> bool:
    """Twilio answers its own keywords when Advanced Opt-Out is on: never a second reply.
    Staff say so in Settings; the setting is the first default."""
    if text.provider_answered:
        return True
    if not reading.provider_keyword:
        return False
    organization = await org_rows.get(conn)
    if organization.provider_answers_keywords is not None:
        return bool(organization.provider_answers_keywords)
    return ctx.settings.provider_answers_keywords


async def _reply(
    conn: Conn, ctx: PortalContext, phone: str, reading: keywords.Reading, *, again: bool = False
) -> None:
    organization = await org_rows.get(conn)
    contact = organization.email + (
        f" or {phones.display(organization.phone)}" if organization.phone else ""
    )
    wording = f"{reading.kind}_again" if again and reading.kind == "opt_in" else reading.kind
    template = await reply_text(conn, wording, language=reading.language)
    body = template.format(org=organization.name, contact=contact)
    await outbox.queue_text(
        conn,
        ctx,
        template=f"reply_{reading.kind}",
        to=phone,
        body=body,
        requires_consent=False,
    )
