"""Roster import and consent export as CSV: how offices move families in and proof out."""

from __future__ import annotations

import csv
import dataclasses
import json
from typing import IO, TYPE_CHECKING

from portal import consent, phones
from portal.clock import to_db
from portal.db import ledger
from portal.db import people as people_rows
from portal.validation import name_problem, normalize_email

if TYPE_CHECKING:
    from portal.context import PortalContext

IMPORT_COLUMNS = (
    "family",
    "kind",
    "first_name",
    "last_name",
    "email",
    "cell_phone",
    "texting",
    "consent_note",
)
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


@dataclasses.dataclass
class ImportReport:
    errors: list[str] = dataclasses.field(default_factory=list)
    created: int = 0
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        if self.errors:
            return ["nothing imported; fix these rows:"] + self.errors
        return [f"imported {self.created} people, skipped {self.skipped} already present"]


@dataclasses.dataclass(frozen=True)
class _Row:
    line: int
    family: str
    kind: str
    first_name: str
    last_name: str
    email: str | None
    cell_phone: str | None
    texting: str
    note: str


def _read_rows(handle: IO[str], report: ImportReport) -> list[_Row]:
    reader = csv.DictReader(handle)
    missing = set(IMPORT_COLUMNS[:4]) - set(reader.fieldnames or [])
    if missing:
        report.errors.append(f"missing columns: {', '.join(sorted(missing))}")
        return []
    rows = []
    for line, raw in enumerate(reader, start=2):

        def get(key: str, raw=raw) -> str:
            return (raw.get(key) or "").strip()

        problems = []
        kind = get("kind").lower()
        if kind not in ("contact", "student"):
            problems.append("kind must be contact or student")
        for key in ("family", "first_name", "last_name"):
            if name_problem(get(key)):
                problems.append(f"{key}: {name_problem(get(key))}")
        email = None
        if get("email"):
            try:
                email = normalize_email(get("email"))
            except ValueError as exc:
                problems.append(f"email: {exc}")
        phone = None
        if get("cell_phone"):
            try:
                phone = phones.normalize(get("cell_phone"))
            except phones.InvalidPhone as exc:
                problems.append(f"cell_phone: {exc}")
        texting = get("texting").lower()
        if texting not in ("", "yes", "no"):
            problems.append("texting must be yes, no or empty")
        if texting == "yes" and not get("consent_note"):
            problems.append("texting yes needs a consent_note saying how they agreed")
        if problems:
            report.errors.append(f"line {line}: " + "; ".join(problems))
            continue
        rows.append(
            _Row(
                line,
                get("family"),
                kind,
                get("first_name"),
                get("last_name"),
                email,
                phone,
                texting,
                get("consent_note"),
            )
        )
    return rows


async def import_csv(ctx: PortalContext, handle: IO[str]) -> ImportReport:
    """All or nothing: one bad row and nothing is imported."""
    report = ImportReport()
    rows = _read_rows(handle, report)
    if report.errors:
        return report
    actor = consent.Actor(kind="system", label="roster import")
    now = to_db(ctx.now())
    async with ctx.db.write() as conn:
        families: dict[str, int] = {}
        for row in rows:
            family_id = families.get(row.family)
            if family_id is None:
                family_id = await people_rows.create_family(conn, name=row.family, now=now)
                families[row.family] = family_id
            if (
                row.email
                and row.kind == "contact"
                and await people_rows.email_taken(conn, row.email)
            ):
                report.skipped += 1
                continue
            person_id = await people_rows.create(
                conn,
                family_id=family_id,
                kind=row.kind,
                first_name=row.first_name,
                last_name=row.last_name,
                email=row.email,
                cell_phone=row.cell_phone,
                now=now,
            )
            report.created += 1
            if row.texting and row.cell_phone:
                await consent.set_texting(
                    conn,
                    ctx,
                    person_id=person_id,
                    allow=row.texting == "yes",
                    channel=consent.Channel.IMPORT,
                    actor=actor,
                    evidence={"note": row.note, "import_line": row.line},
                )
    return report


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
