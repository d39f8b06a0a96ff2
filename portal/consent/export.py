"""Proof of consent: the whole ledger as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import json
from typing import IO, TYPE_CHECKING

from portal.db import ledger
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

EXPORT_COLUMNS = (
    "event_id",
    "created_at",
    "person_id",
    "first_name",
    "last_name",
    "kind",
    "phone",
    "old_status",
    "new_status",
    "channel",
    "actor",
    "evidence",
    "wording_version",
    "ip",
    "user_agent",
)


async def export_ledger_csv(ctx: PortalContext, handle: IO[str]) -> int:
    """Every consent event, oldest first: the proof of who agreed and who said stop."""
    async with ctx.db.read() as conn:
        events = await ledger.all_events(conn)
        people = {p.id: p for p in await people_rows.all_people(conn)}
    writer = csv.writer(handle)
    writer.writerow(EXPORT_COLUMNS)
    for event in events:
        person = people.get(event.person_id)
        row = [
            event.id,
            event.created_at,
            event.person_id or "",
            person.first_name if person else "",
            person.last_name if person else "",
            person.kind if person else "number",
            event.phone or "",
            event.old_status or "",
            event.new_status,
            event.channel,
            event.actor_label,
            json.dumps(json.loads(event.evidence), ensure_ascii=False),
            event.wording_version or "",
            event.ip,
            event.user_agent,
        ]
        # Every cell, not only the ones a person typed: any field can carry text from outside.
        writer.writerow([_cell("" if value is None else str(value)) for value in row])
    return len(events)


def _cell(text: str) -> str:
    """Spreadsheets run cells starting with = + - @ (or a tab or return) as formulas: make
    them plain text. A phone number in E.164 starts with + too, and is kept as text this way."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
