"""Who a staff text would reach: one person, a family, a saved list, or a group chosen by the
People filters; and who it would not reach, and why, named. A number shared by several people gets
one text. This is the list when it is built; the dispatcher asks consent again as each text
goes out (rule 2), so a STOP meanwhile still stops it.
"""

from __future__ import annotations

import dataclasses
import json

from portal.consent import rules
from portal.db import Conn, Row, people_search
from portal.db import people as people_rows
from portal.people import search

PAGE = 500
# The reasons a chosen person gets no text, in the order the preview lists them.
REASONS = (
    "not_allowed",
    "pending",
    "stopped",
    "blocked",
    "no_phone",
    "archived",
    "same_number",
)


@dataclasses.dataclass(frozen=True)
class Audience:
    """Whom a text is for: one person, one family, one saved list, or the People filters (q
    and status)."""

    person_id: int | None = None
    family_id: int | None = None
    list_id: int | None = None
    q: str = ""
    status: str = ""

    @property
    def kind(self) -> str:
        if self.person_id:
            return "person"
        if self.list_id:
            return "list"
        return "family" if self.family_id else "group"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


@dataclasses.dataclass
class Preview:
    recipients: list[Row] = dataclasses.field(default_factory=list)  # one per number
    skipped: dict[str, list[Row]] = dataclasses.field(default_factory=dict)

    @property
    def skipped_counts(self) -> dict[str, int]:
        return {reason: len(rows) for reason, rows in self.skipped.items()}

    @property
    def skipped_total(self) -> int:
        return sum(len(rows) for rows in self.skipped.values())


async def _chosen(conn: Conn, audience: Audience) -> list[Row]:
    if audience.person_id:
        person = await people_rows.by_id(conn, audience.person_id)
        return [person] if person else []
    if audience.list_id:
        return await _members(conn, audience.list_id)
    criteria = search.read(
        audience.q,
        status=audience.status,
        family_id=audience.family_id,
        # A family's archived members are named as skipped; a filter never chooses them.
        include_archived=audience.family_id is not None,
    )
    found, after = [], None
    while True:  # page by keyset through every match
        rows = await people_search.search(conn, criteria, after=after, limit=PAGE)
        found.extend(rows)
        if len(rows) < PAGE:
            return found
        after = search.read_cursor(search.cursor_of(rows[-1]))


async def _members(conn: Conn, list_id: int) -> list[Row]:
    """Everyone in a saved list, archived people too (they are named as skipped)."""
    found, after = [], 0
    while True:  # page by keyset through every member
        rows = await people_rows.in_saved_list(conn, list_id, after=after, limit=PAGE)
        found.extend(rows)
        if len(rows) < PAGE:
            return found
        after = rows[-1].id


def _reason(person: Row) -> str | None:
    if person.archived_at:
        return "archived"
    code = rules.texting_status(person).code
    return None if code == "allowed" else code


async def preview(conn: Conn, audience: Audience) -> Preview:
    """Everyone the audience chooses, split into who gets the text and who does not."""
    result = Preview()
    allowed = []
    for person in await _chosen(conn, audience):
        reason = _reason(person)
        if reason:
            result.skipped.setdefault(reason, []).append(person)
        else:
            allowed.append(person)
    # One text per number: a contact before a student (the parent reads the family's phone).
    allowed.sort(key=lambda p: (p.kind != "contact", p.id))
    numbers = set()
    for person in allowed:
        if person.cell_phone in numbers:
            result.skipped.setdefault("same_number", []).append(person)
        else:
            numbers.add(person.cell_phone)
            result.recipients.append(person)
    result.recipients.sort(key=lambda p: (p.last_name.lower(), p.first_name.lower(), p.id))
    result.skipped = {r: result.skipped[r] for r in REASONS if r in result.skipped}
    return result
