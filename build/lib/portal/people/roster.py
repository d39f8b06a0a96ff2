"""Roster import from CSV: how an office brings its families in."""

from __future__ import annotations

import csv
import dataclasses
from typing import IO, TYPE_CHECKING

from portal import phones
from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel
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
    actor = Actor(kind="system", label="roster import")
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
                await commands.set_texting(
                    conn,
                    ctx,
                    person_id=person_id,
                    allow=row.texting == "yes",
                    channel=Channel.IMPORT,
                    actor=actor,
                    evidence={"note": row.note, "import_line": row.line},
                )
    return report
