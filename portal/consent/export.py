"""Proof of consent: the whole ledger as CSV, and everything about one phone number.

Read-only. The ledger export is streamed a page of events at a time, so its memory stays
flat however long the ledger grows; every cell is neutralised against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import IO, TYPE_CHECKING, Any

from portal.consent import rules, wording
from portal.db import Row, ledger
from portal.db import organization as org_rows
from portal.db import proof as proof_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

PAGE_SIZE = 1000

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
    "language",
    "ip",
    "user_agent",
    "current_status",
)


def current_status(row: Row) -> str:
    """The status today of the person an event is about, in the staff console's codes
    (rules.STAFF_FILTERS); for a number-wide event, "stopped" while the number is."""
    if row.person_id is None:
        return "stopped" if row.suppressed else ""
    status = rules.texting_status(row)
    return "never_asked" if status.never_asked else status.code


def _ledger_row(event: Row) -> list[Any]:
    # Items, not attributes: this runs for every event of an export of hundreds of thousands.
    known = event["first_name"] is not None
    return [
        event["id"],
        event["created_at"],
        event["person_id"] or "",
        event["first_name"] if known else "",
        event["last_name"] if known else "",
        event["kind"] if known else "number",
        event["phone"] or "",
        event["old_status"] or "",
        event["new_status"],
        event["channel"],
        event["actor_label"],
        _evidence_text(event["evidence"]),
        event["wording_version"] or "",
        event["language"] or "",
        event["ip"],
        event["user_agent"],
        current_status(event),
    ]


@functools.lru_cache(maxsize=4096)
def _evidence_text(stored: str) -> str:
    """The evidence as the export writes it. Many events carry the same evidence (an
    import's note, a channel's fixed words), so the recent ones are remembered."""
    return json.dumps(json.loads(stored), ensure_ascii=False)


async def ledger_pages(ctx: PortalContext, page_size: int = PAGE_SIZE) -> AsyncIterator[list]:
    """The ledger's rows, oldest first, a page at a time, every cell neutralised.

    Each page is its own short read: an export of millions of events holds neither them all
    in memory nor a connection while the client downloads."""
    after = 0
    while True:
        async with ctx.db.read() as conn:
            events = await ledger.events_page(conn, after_id=after, limit=page_size)
        if not events:
            return
        yield [neutral_row(_ledger_row(event)) for event in events]
        after = events[-1].id


async def ledger_csv_chunks(ctx: PortalContext, page_size: int = PAGE_SIZE) -> AsyncIterator[str]:
    """The ledger as CSV text, the header first, then one chunk per page (for streaming)."""
    yield csv_text([list(EXPORT_COLUMNS)])
    async for rows in ledger_pages(ctx, page_size):
        yield csv_text(rows)


async def export_ledger_csv(ctx: PortalContext, handle: IO[str]) -> int:
    """Every consent event, oldest first, written page by page: the proof of who agreed and
    who said stop. Returns how many events were written."""
    writer = csv.writer(handle)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    async for rows in ledger_pages(ctx):
        writer.writerows(rows)
        count += len(rows)
    return count


def csv_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def neutral_row(values: Iterable[Any]) -> list[str]:
    # Every cell, not only the ones a person typed: any field can carry text from outside.
    cells = []
    for value in values:
        text = "" if value is None else str(value)
        cells.append("'" + text if text[:1] in _FORMULA_STARTS else text)
    return cells


# Spreadsheets run cells starting with = + - @ (or a tab or return) as formulas: a leading
# quote makes them plain text. A phone number in E.164 starts with + too, and is kept as text.
_FORMULA_STARTS = frozenset(("=", "+", "-", "@", "\t", "\r"))


# -- One phone number ------------------------------------------------------------------------


def wording_key(event: Row) -> tuple[str, str]:
    """Which text an event's person saw: its wording version, in its language (an event from
    before languages, NULL, was English)."""
    return event.wording_version, event.language or "en"


@dataclasses.dataclass(frozen=True)
class ProofEvent:
    event: Row
    evidence: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class ProofPerson:
    person: Row
    status: rules.TextingStatus
    has_number_now: bool
    agreed: list[Row]  # each opt-in (or pending request) of theirs, oldest first
    stopped: list[Row]  # each opt-out of theirs, oldest first


@dataclasses.dataclass(frozen=True)
class NumberProof:
    """Everything the ledger holds about one number: its people, every change, and the full
    text of each consent wording anyone agreed to."""

    phone: str
    people: list[ProofPerson]
    events: list[ProofEvent]
    wordings: dict[tuple[str, str], str]  # by wording_key: (version, language)

    @property
    def known(self) -> bool:
        return bool(self.people or self.events)


async def number_proof(ctx: PortalContext, phone: str) -> NumberProof:
    async with ctx.db.read() as conn:
        people = await proof_rows.people_of_number(conn, phone)
        events = await proof_rows.events_of_number(conn, phone, [p.id for p in people])
        organization = await org_rows.get(conn)
        every_version = await wording.every_wording(conn)
    wordings = {}
    for event in events:
        key = wording_key(event)
        version, language = key
        if version and version in every_version and key not in wordings:
            # The text as the person saw it: the organization's name, their number, and the
            # language the ledger says it was shown in.
            wordings[key] = every_version[version].text(
                org_name=organization.name, phone=phone, language=language
            )
    return NumberProof(
        phone=phone,
        people=[
            ProofPerson(
                p,
                rules.texting_status(p, organization.phone),
                p.cell_phone == phone,
                agreed=[e for e in events if e.person_id == p.id and e.new_status == "opted_in"],
                stopped=[e for e in events if e.person_id == p.id and e.new_status == "opted_out"],
            )
            for p in people
        ],
        events=[ProofEvent(e, json.loads(e.evidence)) for e in events],
        wordings=wordings,
    )


NUMBER_COLUMNS = (
    "event_id",
    "created_at",
    "person_id",
    "first_name",
    "last_name",
    "phone",
    "old_status",
    "new_status",
    "channel",
    "actor_kind",
    "actor",
    "ip",
    "user_agent",
    "evidence",
    "wording_version",
    "language",
    "wording_text",
)


def number_proof_csv(proof: NumberProof) -> str:
    """The proof page's rows as CSV, every cell neutralised."""
    rows = [list(NUMBER_COLUMNS)]
    for item in proof.events:
        event = item.event
        rows.append(
            neutral_row(
                [
                    event.id,
                    event.created_at,
                    event.person_id or "",
                    event.first_name or "",
                    event.last_name or "",
                    event.phone or "",
                    event.old_status or "",
                    event.new_status,
                    event.channel,
                    event.actor_kind,
                    event.actor_label,
                    event.ip,
                    event.user_agent,
                    json.dumps(item.evidence, ensure_ascii=False),
                    event.wording_version or "",
                    event.language or "",
                    proof.wordings.get(wording_key(event), ""),
                ]
            )
        )
    return csv_text(rows)
