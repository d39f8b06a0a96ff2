"""Roster import from CSV: how an office brings its families in.

Two passes, so that a file with errors changes nothing and a large file never holds the write
lock for long: first the whole file is read, checked and matched against the people already
in the portal (reads only); then, if nothing is wrong, it is written in short transactions (at
most CHUNK_ROWS rows, about CHUNK_SECONDS each) with a pause between them, so a STOP or a
portal save arriving meanwhile, from this process or another, waits a moment, not minutes.
Importing the same file twice changes nothing the second time, and an import never overrides
consent a person gave or withdrew themselves.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import inspect
import io
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from portal import phones
from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel, ConsentError
from portal.db import Conn
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
REQUIRED_COLUMNS = IMPORT_COLUMNS[:4]
CHUNK_ROWS = 200  # at most, per write transaction
MIN_CHUNK_ROWS = 10
CHUNK_SECONDS = 0.15  # a chunk that takes longer is made smaller
PAUSE_SECONDS = 0.12  # between chunks, longer than the busy handler's longest nap
ACTOR = Actor(kind="system", label="roster import")


class RosterRefused(Exception):
    """The file as a whole cannot be read: the message says what to do about it."""


def decode(data: bytes) -> str:
    """Text from what a spreadsheet saves as CSV: UTF-8 (with or without a BOM), or the
    Windows-1252 that Excel writes as plain 'CSV'. Anything else is refused, not guessed."""
    if b"\x00" in data[:4096]:
        raise RosterRefused(
            "This is not a CSV file (it looks like a spreadsheet or another binary file)."
            " In your spreadsheet, choose Save As, then 'CSV UTF-8'."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise RosterRefused(
            "The file's text is neither UTF-8 nor Windows-1252. In your spreadsheet, choose"
            " Save As, then 'CSV UTF-8'."
        ) from None


@dataclasses.dataclass(frozen=True)
class RosterRow:
    line: int
    family: str
    kind: str
    first_name: str
    last_name: str
    email: str | None
    cell_phone: str | None
    texting: str  # "yes", "no" or "" (leave consent alone)
    note: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Who the row is: the same family, kind and names are the same person."""
        return (self.family.casefold(), self.kind, *(n.casefold() for n in self.names))

    @property
    def names(self) -> tuple[str, str]:
        return self.first_name, self.last_name

    def same_details(self, other: RosterRow) -> bool:
        return dataclasses.replace(self, line=0) == dataclasses.replace(other, line=0)


@dataclasses.dataclass
class RowPlan:
    """What importing one row does: create the person or find them, then their consent."""

    row: RosterRow
    existed: bool = False  # the person was already in the portal
    person_id: int | None = None  # set when created
    family_id: int | None = None
    consent: str = ""  # "yes", "no" or "" (nothing to record)
    notes: list[str] = dataclasses.field(default_factory=list)

    def describe(self) -> str:
        who = f"{self.row.first_name} {self.row.last_name} ({self.row.kind}, {self.row.family})"
        action = "already in the portal:" if self.existed else "add"
        consent = {"yes": "; texts allowed", "no": "; texts not allowed", "": ""}[self.consent]
        notes = "".join(f"; {n}" for n in self.notes)
        return f"line {self.row.line}: {action} {who}{consent}{notes}"


@dataclasses.dataclass
class ImportReport:
    errors: list[str] = dataclasses.field(default_factory=list)
    plans: list[RowPlan] = dataclasses.field(default_factory=list)
    repeated: list[str] = dataclasses.field(default_factory=list)
    applied: bool = False
    created: int = 0
    consent_recorded: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        if self.errors:
            return ["nothing imported; fix these rows:", *self.errors]
        present = sum(1 for plan in self.plans if plan.existed)
        verb = "imported" if self.applied else "would import"
        created = self.created if self.applied else len(self.plans) - present
        summary = f"{verb} {_count(created, 'person', 'people')}, skipped {present} already present"
        if self.applied:
            changes = _count(self.consent_recorded, "consent change", "consent changes")
            summary += f", recorded {changes}"
        return [summary, *self.repeated, *(p.describe() for p in self.plans if p.notes)]

    def row_lines(self) -> list[str]:
        """Row by row, what the import does (or would do): the dry run's listing."""
        return [plan.describe() for plan in self.plans]

    def as_dict(self) -> dict:
        """The report as plain data, to keep with an import job and show it later."""
        return {
            "ok": self.ok,
            "applied": self.applied,
            "errors": list(self.errors),
            "summary": self.lines(),
            "rows": self.row_lines(),
            "created": self.created,
            "consent_recorded": self.consent_recorded,
        }


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def parse(text: str, report: ImportReport) -> list[RosterRow]:
    """Every row checked on its own; problems are collected, never raised."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in headers]
    if missing:
        report.errors.append(f"missing columns: {', '.join(missing)}")
        return []
    reader.fieldnames = headers
    rows: list[RosterRow] = []
    for line, raw in enumerate(reader, start=2):
        row, problems = _check_row(line, raw)
        if problems:
            report.errors.append(f"line {line}: " + "; ".join(problems))
        elif row is not None:
            rows.append(row)
    return rows


def _check_row(line: int, raw: dict) -> tuple[RosterRow | None, list[str]]:
    def get(key: str) -> str:
        value = raw.get(key)
        return value.strip() if isinstance(value, str) else ""

    if not any(get(key) for key in IMPORT_COLUMNS):
        return None, []  # a blank line in the spreadsheet
    problems = []
    kind = get("kind").lower()
    if kind not in ("contact", "student"):
        problems.append("kind must be contact or student")
    for key in ("family", "first_name", "last_name"):
        if problem := name_problem(get(key)):
            problems.append(f"{key}: {problem}")
    email = phone = None
    if get("email"):
        try:
            email = normalize_email(get("email"))
        except ValueError as exc:
            problems.append(f"email: {exc}")
    if get("cell_phone"):
        try:
            phone = phones.normalize(get("cell_phone"))
        except phones.InvalidPhone as exc:
            problems.append(f"cell_phone: {exc}")
    texting = get("texting").lower()
    if texting not in ("", "yes", "no"):
        problems.append("texting must be yes, no or empty")
    if texting and not get("cell_phone"):
        problems.append("texting needs a cell_phone")
    if texting == "yes" and not get("consent_note"):
        problems.append("texting yes needs a consent_note saying how they agreed")
    row = RosterRow(
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
    return row, problems


def merge_repeats(rows: list[RosterRow], report: ImportReport) -> list[RosterRow]:
    """A row repeated exactly is one person, imported once; the same person twice with
    different details is an error, since the file does not say which is right."""
    first_by_key: dict[tuple, RosterRow] = {}
    unique = []
    for row in rows:
        earlier = first_by_key.get(row.key)
        if earlier is None:
            first_by_key[row.key] = row
            unique.append(row)
        elif row.same_details(earlier):
            report.repeated.append(f"line {row.line} repeats line {earlier.line}: imported once")
        else:
            report.errors.append(
                f"line {row.line}: the same person as line {earlier.line} with different details"
            )
    return unique


async def plan(conn: Conn, rows: list[RosterRow], report: ImportReport) -> None:
    """Match every row against the portal and decide what it does, reading only."""
    existing = {
        (p.family.casefold(), p.kind, p.first_name.casefold(), p.last_name.casefold()): p
        for p in await people_rows.roster_index(conn)
    }
    emails = {
        p.email.lower(): key for key, p in existing.items() if p.email and p.kind == "contact"
    }
    families = await people_rows.families_by_name(conn)
    stopped = await people_rows.suppressed_phones(
        conn, sorted({row.cell_phone for row in rows if row.texting == "yes" and row.cell_phone})
    )
    for row in rows:
        person = existing.get(row.key)
        step = RowPlan(row, existed=person is not None, person_id=person.id if person else None)
        step.family_id = person.family_id if person else families.get(row.family)
        if row.email and row.kind == "contact":
            owner = emails.setdefault(row.email.lower(), row.key)
            if owner != row.key:
                report.errors.append(
                    f"line {row.line}: email {row.email} belongs to another person"
                )
        if person is not None and (person.email, person.cell_phone) != (row.email, row.cell_phone):
            step.notes.append("email or cell phone differs from the portal's; not changed here")
        problem = _consent_plan(step, person, stopped)
        if problem:
            report.errors.append(f"line {row.line}: {problem}")
        report.plans.append(step)


def _consent_plan(step: RowPlan, person, stopped: set[str]) -> str | None:
    """The consent column's effect, or why it is refused. An import never opts in a number
    that replied STOP, nor overrides an answer a person gave (or staff recorded) for the
    number they have now: only an earlier import's record may be corrected by an import."""
    row = step.row
    if not row.texting:
        return None
    if row.texting == "yes" and row.cell_phone in stopped:
        return "this number replied STOP: only a text of START from it can opt it in"
    if person is not None:
        if row.texting == "yes" and person.blocked:
            return "texting to this person is blocked"
        if row.texting == "yes" and row.cell_phone != person.cell_phone:
            # The agreement on file names another number than the person has now: consent is
            # per number, and a new number starts from nothing (rule 6).
            step.notes.append("not opted in: the portal has another cell phone for this person")
            return None
        same_number = person.consent_phone == person.cell_phone == row.cell_phone
        if same_number and person.consent_channel not in (None, Channel.IMPORT):
            step.notes.append("kept the answer already on file")
            return None
    step.consent = row.texting
    return None


async def import_roster(
    ctx: PortalContext,
    data: bytes,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None | Awaitable[None]] | None = None,
) -> ImportReport:
    """Check the whole file, then (unless `dry_run` or anything is wrong) write it in chunks.

    `progress(done, total)` is called after each chunk; it may be a coroutine function (the
    console's import jobs record their progress in the database)."""
    report = ImportReport()
    try:
        text = decode(data)
    except RosterRefused as exc:
        report.errors.append(str(exc))
        return report
    rows = merge_repeats(parse(text, report), report)
    async with ctx.db.read() as conn:
        await plan(conn, rows, report)
    if report.errors or dry_run:
        return report
    families: dict[str, int] = {}
    done, size, total = 0, CHUNK_ROWS, len(report.plans)
    while done < total:
        chunk = report.plans[done : done + size]
        started = time.monotonic()
        async with ctx.db.write() as conn:
            for step in chunk:
                await _apply(conn, ctx, step, families, report)
        took = time.monotonic() - started
        done += len(chunk)
        if progress is not None:
            called = progress(done, total)
            if inspect.isawaitable(called):
                await called
        # Short transactions, and a real pause between them: a STOP arriving from another
        # process waits in SQLite's busy handler, which looks again only every 100 ms or so,
        # and would otherwise lose every race to our next chunk.
        size = max(MIN_CHUNK_ROWS, min(CHUNK_ROWS, int(size * CHUNK_SECONDS / max(took, 1e-3))))
        if done < total:
            await asyncio.sleep(PAUSE_SECONDS)
    report.applied = True
    return report


async def _apply(
    conn: Conn, ctx: PortalContext, step: RowPlan, families: dict[str, int], report: ImportReport
) -> None:
    row = step.row
    now = to_db(ctx.now())
    if step.person_id is None:
        family_id = step.family_id or families.get(row.family)
        if family_id is None:
            family_id = families[row.family] = await people_rows.create_family(
                conn, name=row.family, now=now
            )
        step.person_id = await people_rows.create(
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
    if not step.consent:
        return
    try:
        change = await commands.set_texting(
            conn,
            ctx,
            person_id=step.person_id,
            allow=step.consent == "yes",
            channel=Channel.IMPORT,
            actor=ACTOR,
            evidence={"note": row.note, "import_line": row.line},
        )
    except ConsentError:
        # A STOP (or a block) that arrived after the file was checked: it wins.
        step.notes.append("not opted in: the number replied STOP during the import")
        return
    report.consent_recorded += int(change.changed)
