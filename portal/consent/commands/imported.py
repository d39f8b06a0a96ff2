"""An import's consent column for a chunk of people at once: `set_texting`'s rules, ledger
rows, state and notices for the import channel, in a few statements instead of a few per
person, so a district's roster goes in within one short write transaction per chunk."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from portal.consent import notices
from portal.consent.commands.record import decide, person_events, wording_for
from portal.consent.rules import (
    Actor,
    Change,
    Channel,
    ConsentError,
    Status,
)
from portal.db import Conn, ledger
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext


@dataclasses.dataclass(frozen=True)
class ImportedAnswer:
    """One row's consent column: texting allowed or not, and the note that is its evidence."""

    person_id: int
    allow: bool
    evidence: dict[str, Any]


async def import_texting(
    conn: Conn, ctx: PortalContext, answers: list[ImportedAnswer], *, actor: Actor
) -> list[Change | ConsentError]:
    """`set_texting(channel=Channel.IMPORT)` for each answer, in order, in the caller's write
    transaction: for each, its Change (unchanged when the answer is already true) or the
    ConsentError that refused it (a STOP or a block that came after the file was checked),
    which changes nothing for that person and lets the others go ahead. One answer per person."""
    person_ids = [answer.person_id for answer in answers]
    if len(set(person_ids)) != len(person_ids):
        raise ValueError("one answer per person in a batch")
    if not answers:
        return []
    # The states first, then the people, as set_texting reads them (rule 5 on PostgreSQL).
    states = await ledger.states_for_update(conn, person_ids)
    people = await people_rows.by_ids(conn, person_ids)
    outcomes: list[Change | ConsentError | None] = []
    changes = []
    for answer in answers:
        person = people.get(answer.person_id)
        if person is None:
            raise LookupError(answer.person_id)
        state = states.get(answer.person_id)
        try:
            old, new, unchanged = decide(
                person,
                state,
                allow=answer.allow,
                channel=Channel.IMPORT,
                actor=actor,
                evidence=answer.evidence,
            )
        except ConsentError as refusal:
            outcomes.append(refusal)
            continue
        if unchanged:
            outcomes.append(Change(person.id, old, new, None))
            continue
        changes.append((person, state, new, old))
        outcomes.append(None)  # its event's id is known once written
    if not changes:
        return outcomes
    opted_in_numbers = [p.cell_phone for p, _, new, _ in changes if new == Status.OPTED_IN]
    with_their_numbers = await people_rows.with_phones(conn, [n for n in opted_in_numbers if n])
    event_ids = await person_events(
        conn,
        ctx,
        [(person, state, new) for person, state, new, _ in changes],
        channel=Channel.IMPORT,
        actor=actor,
        evidence={answer.person_id: dict(answer.evidence) for answer in answers},
        current_wording=await wording_for(conn, Status.OPTED_IN) if opted_in_numbers else None,
    )
    await notices.imported_opt_ins_confirmed(
        conn,
        ctx,
        [(person, new) for person, _, new, _ in changes],
        with_their_numbers=with_their_numbers,
    )
    written = iter(changes)
    for n, outcome in enumerate(outcomes):
        if outcome is None:
            person, _, new, old = next(written)
            outcomes[n] = Change(person.id, old, new, event_ids[person.id])
    return outcomes
