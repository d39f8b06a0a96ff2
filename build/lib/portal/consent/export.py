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
        writer.writerow(
            [
                event.id,
                event.created_at,
                event.person_id or "",
                _cell(person.first_name) if person else "",
                _cell(person.last_name) if person else "",
                person.kind if person else "number",
                event.phone or "",
                event.old_status or "",
                event.new_status,
                event.channel,
                _cell(event.actor_label),
                _cell(json.dumps(json.loads(event.evidence), ensure_ascii=False)),
                event.wording_version or "",
                event.ip,
                _cell(event.user_agent),
            ]
        )
    return len(events)


def _cell(text: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: make them plain text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
