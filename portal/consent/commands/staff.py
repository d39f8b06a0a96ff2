"""Staff actions on consent: Text Opt-In with evidence, Block Contact, and corrections.

Staff may always opt a person out (rule 3), and may opt someone in only with the evidence of
that person's agreement (rule 4), never over a STOP (rule 5) or a block. An admin may undo a
staff opt-out made in error, or a stop in plain words that was not meant as one: each undo is
a new correction event, with its reason, that restores the state before. A keyword STOP is
never undone by staff.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.consent import notices
from portal.consent.commands.person import set_texting
from portal.consent.commands.record import number_event, person_event
from portal.consent.rules import (
    Actor,
    Blocked,
    Change,
    Channel,
    NeedsEvidence,
    NotCorrectable,
    Status,
    current_for_phone,
    texting_status,
)
from portal.consent.wording import STAFF_OPT_OUT_TEXT
from portal.db import Conn, ledger
from portal.db import inbound as inbound_rows
from portal.db import organization as org_rows
from portal.db import people as people_rows
from portal.messaging import outbox

if TYPE_CHECKING:
    from portal.context import PortalContext

# How staff say a person agreed; the ledger keeps the code and the note beside it.
EVIDENCE_TYPES = ("paper_form", "registration", "in_person", "by_phone", "other")


async def staff_set_texting(
    conn: Conn,
    ctx: PortalContext,
    *,
    person_id: int,
    allow: bool,
    actor: Actor,
    evidence_type: str = "",
    note: str = "",
    tell_by_text: bool = False,
) -> Change:
    """Check or uncheck *Text Opt-In*. Checking needs the evidence (a type and a note);
    unchecking takes an optional reason and may send one short text saying texts stop."""
    evidence = {"note": note.strip()[:500]}
    if allow:
        if evidence_type not in EVIDENCE_TYPES:
            person = await people_rows.by_id(conn, person_id)
            raise NeedsEvidence(person.first_name if person else "")
        evidence["evidence_type"] = evidence_type
    change = await set_texting(
        conn,
        ctx,
        person_id=person_id,
        allow=allow,
        channel=Channel.STAFF,
        actor=actor,
        evidence=evidence,
    )
    if change.changed and not allow and tell_by_text:
        await _tell_texts_stop(conn, ctx, person_id)
    return change


async def _tell_texts_stop(conn: Conn, ctx: PortalContext, person_id: int) -> None:
    """ThruText's opt-out message: the one text a person opted out by staff may receive."""
    person = await people_rows.by_id(conn, person_id)
    if person is None or not person.cell_phone or person.suppressed:
        return
    for other in await people_rows.with_phone(conn, person.cell_phone):
        if other.id != person.id and texting_status(other).may_text:
            return  # the handset still gets texts for someone else: "no more texts" is untrue
    organization = await org_rows.get(conn)
    await outbox.queue_text(
        conn,
        ctx,
        template="staff_opt_out",
        to=person.cell_phone,
        body=STAFF_OPT_OUT_TEXT[person.language or "en"].format(org=organization.name),
        person_id=person.id,
        requires_consent=False,
    )


async def block(
    conn: Conn, ctx: PortalContext, *, person_id: int, actor: Actor, reason: str = ""
) -> Change:
    """*Block Contact*: the person is opted out and stays out until unblocked."""
    change = await set_texting(
        conn,
        ctx,
        person_id=person_id,
        allow=False,
        channel=Channel.STAFF,
        actor=actor,
        evidence={"note": reason.strip()[:500], "blocked": True},
    )
    await people_rows.set_blocked(conn, person_id, blocked=True, now=to_db(ctx.now()))
    return change


async def unblock(conn: Conn, ctx: PortalContext, *, person_id: int) -> None:
    """Unblocking opts nobody in: it only makes an opt-in possible again."""
    await people_rows.set_blocked(conn, person_id, blocked=False, now=to_db(ctx.now()))


async def undo_staff_opt_out(
    conn: Conn, ctx: PortalContext, *, event_id: int, actor: Actor, reason: str
) -> Change:
    """Restore the state a staff opt-out replaced, if it is still the person's latest word."""
    event = await ledger.event(conn, event_id)
    if event is None or event.person_id is None:
        raise LookupError(event_id)
    person = await people_rows.by_id(conn, event.person_id)
    state = await ledger.state_for_update(conn, event.person_id)
    latest = state is not None and state.last_event_id == event.id
    if not (event.channel == Channel.STAFF and event.new_status == Status.OPTED_OUT and latest):
        raise NotCorrectable(person.first_name if person else "")
    if json.loads(event.evidence).get("blocked"):
        raise Blocked(person.first_name)  # unblock first: that is its own decision
    restored = Status(event.old_status or Status.NONE)
    if restored in (Status.OPTED_IN, Status.PENDING) and (
        person.suppressed or person.blocked or person.cell_phone != event.phone
    ):
        raise NotCorrectable(person.first_name)
    event_id = await person_event(
        conn,
        ctx,
        person=person,
        state=state,
        new=restored,
        channel=Channel.CORRECTION,
        actor=actor,
        evidence={"note": reason.strip()[:500], "undoes_event": event.id},
        wording_version=None,
    )
    await _confirm_restored(conn, ctx, person, restored)
    return Change(person.id, Status.OPTED_OUT, restored, event_id)


async def _confirm_restored(conn: Conn, ctx: PortalContext, person, restored: Status) -> None:
    """They were told texts stop: texts starting again is an opt-in, and owes its text."""
    if restored == Status.OPTED_IN:
        organization = await org_rows.get(conn)
        await notices.opt_in_confirmation(conn, ctx, person=person, organization=organization)


async def not_an_opt_out(
    conn: Conn, ctx: PortalContext, *, event_id: int, actor: Actor, reason: str
) -> list[Change]:
    """A stop in plain words, flagged for review, that was not one ("can you stop by the
    office?"): lift that number's suppression and restore each person's state before it."""
    event = await ledger.event(conn, event_id)
    if event is None or event.person_id is not None:
        raise LookupError(event_id)
    evidence = json.loads(event.evidence)
    suppression = await ledger.suppression(conn, event.phone)
    flagged = event.channel == Channel.SMS_KEYWORD and evidence.get("needs_review")
    current = (
        suppression is not None and suppression.active and suppression.last_event_id == event.id
    )
    if not (flagged and current):
        raise NotCorrectable()
    correction = {"note": reason.strip()[:500], "undoes_event": event.id}
    message_id = await inbound_rows.id_of(conn, str(evidence.get("message_sid", "")))
    if message_id is not None:
        # The stop leaves the Alerts page: staff reviewed it, and it was not an opt-out.
        await inbound_rows.mark_reviewed(
            conn,
            message_id,
            account_id=actor.account_id,
            outcome="not_opt_out",
            now=to_db(ctx.now()),
        )
    await number_event(
        conn,
        ctx,
        phone=event.phone,
        suppressed=False,
        channel=Channel.CORRECTION,
        actor=actor,
        evidence=correction,
    )
    changes = []
    for person, stop_event in await _people_stopped_by(conn, event.phone, evidence):
        state = await ledger.state_for_update(conn, person.id)
        restored = Status(stop_event.old_status or Status.NONE)
        if state is None or state.last_event_id != stop_event.id:
            continue  # the person has spoken since: their later word stands
        if current_for_phone(state, person.cell_phone) != Status.OPTED_OUT:
            continue
        new_event = await person_event(
            conn,
            ctx,
            person=person,
            state=state,
            new=restored,
            channel=Channel.CORRECTION,
            actor=actor,
            evidence=correction,
            wording_version=None,
        )
        changes.append(Change(person.id, Status.OPTED_OUT, restored, new_event))
        await _confirm_restored(conn, ctx, person, restored)
    return changes


async def _people_stopped_by(conn: Conn, phone: str, evidence: dict) -> list:
    """Each person with the number and their ledger event from the same inbound text."""
    found = []
    for person in await people_rows.with_phone(conn, phone):
        for candidate in await ledger.events_of(conn, person.id, limit=20):
            same_text = json.loads(candidate.evidence).get("message_sid") == evidence.get(
                "message_sid"
            )
            if same_text and candidate.new_status == Status.OPTED_OUT:
                found.append((person, candidate))
                break
    return found
