"""Number-wide commands: a STOP (from the handset or the carrier) and START lifting it.

A reply-keyword opt-out is per phone number (rule 5): it covers everyone with the number, now
or later, and only START from that number lifts it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from portal.consent import notices, wording
from portal.consent.commands.person import set_texting
from portal.consent.commands.record import number_event, person_event
from portal.consent.rules import Actor, Change, Channel, Status, StopLocked
from portal.db import Conn, ledger
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext


@dataclasses.dataclass(frozen=True)
class NumberStop:
    newly_suppressed: bool
    changes: list[Change]

    @property
    def changed(self) -> bool:
        return self.newly_suppressed or bool(self.changes)


async def suppress_number(
    conn: Conn,
    ctx: PortalContext,
    *,
    phone: str,
    channel: Channel,
    actor: Actor,
    evidence: dict[str, Any],
    language: str | None = None,
) -> NumberStop:
    """A reply STOP (or carrier 21610) opts out the number and everyone with it (rule 5).

    The suppression also covers people given this number later: their status is read through
    the suppression table, not copied onto them. `language`: the keyword's (ALTO is 'es');
    None when the carrier reports it.
    """
    await ledger.lock_number(conn, phone)  # two STOPs from one number: one after the other
    existing = await ledger.suppression(conn, phone)
    already = existing is not None and existing.active
    event_id = None
    if not already:
        event_id = await number_event(
            conn,
            ctx,
            phone=phone,
            suppressed=True,
            channel=channel,
            actor=actor,
            evidence=evidence,
            language=language,
        )
    changes = []
    for person in await people_rows.with_phone(conn, phone):
        state = await ledger.state_for_update(conn, person.id)
        old = Status(state.status) if state else Status.NONE
        if state is not None and old == Status.OPTED_OUT and state.phone == phone and already:
            continue
        stopped_event = await person_event(
            conn,
            ctx,
            person=person,
            state=state,
            new=Status.OPTED_OUT,
            channel=channel,
            actor=actor,
            evidence=evidence,
            wording_version=None,
            language=language,
        )
        changes.append(Change(person.id, old, Status.OPTED_OUT, stopped_event))
    if event_id is not None or changes:
        await notices.number_stopped(conn, ctx, phone=phone, channel=channel, evidence=evidence)
    return NumberStop(newly_suppressed=not already, changes=changes)


async def carrier_opt_out(
    conn: Conn, ctx: PortalContext, *, phone: str, detail: dict[str, Any]
) -> NumberStop:
    """The SMS provider says the carrier holds a STOP we never heard: record it as one."""
    return await suppress_number(
        conn,
        ctx,
        phone=phone,
        channel=Channel.CARRIER,
        actor=Actor(kind="handset", label="carrier opt-out"),
        evidence=detail,
    )


async def lift_suppression(
    conn: Conn,
    ctx: PortalContext,
    *,
    phone: str,
    actor: Actor,
    evidence: dict[str, Any],
    language: str | None = None,
) -> list[Change]:
    """START / UNSTOP from the handset: the only way a STOP is lifted (rule 5). `language`:
    the keyword's."""
    if actor.kind != "handset":
        raise StopLocked()
    await ledger.lock_number(conn, phone)
    existing = await ledger.suppression(conn, phone)
    if existing is not None and existing.active:
        await number_event(
            conn,
            ctx,
            phone=phone,
            suppressed=False,
            channel=Channel.SMS_KEYWORD,
            actor=actor,
            evidence=evidence,
            language=language,
        )
    changes = []
    for person in await people_rows.with_phone(conn, phone):
        if person.blocked:
            continue
        change = await set_texting(
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
        if change.changed:
            changes.append(change)
    return changes
