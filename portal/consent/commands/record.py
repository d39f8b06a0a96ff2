"""The only code that writes the consent tables: a ledger event and the state beside it.

Every command calls these inside its write transaction. Nothing is ever updated or deleted in
the ledger (triggers refuse it); current state and suppressions are kept beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal.clock import to_db
from portal.consent import wording
from portal.consent.rules import Actor, Channel, Status, current_for_phone, opt_in_status
from portal.db import Conn, Row, ledger

if TYPE_CHECKING:
    from portal.context import PortalContext


def decide(
    person: Row, state: Row | None, *, allow: bool, channel: Channel, actor: Actor, evidence
) -> tuple[Status, Status, bool]:
    """(old, new, unchanged) for turning texting on or off: opt-out is always immediate,
    from any channel, for any message (rule 3); an opt-in needs its evidence (rule 4), else
    ConsentError. `unchanged`: the number already stands where the answer puts it."""
    old = Status(state.status) if state else Status.NONE
    new = opt_in_status(person, channel, actor, evidence) if allow else Status.OPTED_OUT
    return old, new, new == current_for_phone(state, person.cell_phone)


async def wording_for(conn: Conn, new: Status) -> str | None:
    """The wording an opt-in (or a request for one) is given under: the one shown now."""
    if new not in (Status.OPTED_IN, Status.PENDING):
        return None
    return (await wording.current(conn)).version


async def person_event(
    conn: Conn,
    ctx: PortalContext,
    *,
    person: Row,
    state: Row | None,
    new: Status,
    channel: Channel,
    actor: Actor,
    evidence: dict[str, Any],
    wording_version: str | None,
    phone: str | None = None,
    language: str | None = None,
) -> int:
    """Append the ledger event and write current state beside it: the only place that does.

    `language`: the one the person saw the change in or said it in; None for staff, imports
    and the system."""
    now = to_db(ctx.now())
    phone = person.cell_phone if phone is None else phone
    event_id = await ledger.append_event(
        conn,
        person_id=person.id,
        phone=phone,
        old_status=Status(state.status) if state else Status.NONE,
        new_status=new,
        channel=channel,
        actor_kind=actor.kind,
        actor_account_id=actor.account_id,
        actor_person_id=actor.person_id,
        actor_label=actor.label,
        evidence=evidence,
        wording_version=wording_version,
        ip=actor.ip,
        user_agent=actor.user_agent,
        now=now,
        language=language,
    )
    await ledger.put_state(
        conn,
        person_id=person.id,
        status=new,
        phone=phone,
        version=(state.version if state else 0) + 1,
        event_id=event_id,
        now=now,
    )
    return event_id


async def number_event(
    conn: Conn,
    ctx: PortalContext,
    *,
    phone: str,
    suppressed: bool,
    channel: Channel,
    actor: Actor,
    evidence: dict[str, Any],
    language: str | None = None,
) -> int:
    """A number-wide event (a STOP or its lifting) in the ledger, and the suppression beside
    it. It names no person: it covers whoever has the number, now or later."""
    now = to_db(ctx.now())
    event_id = await ledger.append_event(
        conn,
        person_id=None,
        phone=phone,
        old_status="active" if suppressed else "suppressed",
        new_status="suppressed" if suppressed else "active",
        channel=channel,
        actor_kind=actor.kind,
        actor_account_id=None,
        actor_person_id=None,
        actor_label=actor.label,
        evidence=evidence,
        wording_version=None if suppressed else (await wording.current(conn)).version,
        ip=actor.ip,
        user_agent=actor.user_agent,
        now=now,
        language=language,
    )
    await ledger.put_suppression(
        conn, phone=phone, active=suppressed, source=channel, event_id=event_id, now=now
    )
    return event_id


async def person_events(
    conn: Conn,
    ctx: PortalContext,
    changes: list[tuple[Row, Row | None, Status]],
    *,
    channel: Channel,
    actor: Actor,
    evidence: dict[int, dict[str, Any]],
    current_wording: str | None,
) -> dict[int, int]:
    """`person_event` for many people at once (an import's chunk), each (person, state, new)
    once, by one actor and channel, with each person's own evidence (by person id): the same
    ledger rows and state, in a few statements. `current_wording` is what `wording_for` gives,
    given to the opt-ins (and requests) among them. The new events' ids, by person id."""
    now = to_db(ctx.now())
    event_ids = await ledger.append_person_events(
        conn,
        [
            {
                "person_id": person.id,
                "phone": person.cell_phone,
                "old_status": Status(state.status) if state else Status.NONE,
                "new_status": new,
                "channel": channel,
                "actor_kind": actor.kind,
                "actor_account_id": actor.account_id,
                "actor_person_id": actor.person_id,
                "actor_label": actor.label,
                "evidence": evidence[person.id],
                "wording_version": (
                    current_wording if new in (Status.OPTED_IN, Status.PENDING) else None
                ),
                "ip": actor.ip,
                "user_agent": actor.user_agent,
                "created_at": now,
            }
            for person, state, new in changes
        ],
    )
    await ledger.put_states(
        conn,
        [
            {
                "person_id": person.id,
                "status": new,
                "phone": person.cell_phone,
                "version": (state.version if state else 0) + 1,
                "event_id": event_ids[person.id],
                "now": now,
            }
            for person, state, new in changes
        ],
    )
    return event_ids
