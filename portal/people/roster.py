"""Roster import from CSV: how an office brings its families in.

Two passes, so that a file with errors changes nothing and a large file never holds the write
lock for long: first the whole file is read, checked and matched against the people already
in the portal (reads only); then, if nothing is wrong, it is written in short transactions (at
most CHUNK_ROWS rows each, in a few statements whatever their number), with a pause after every
CHUNK_SECONDS of writing, so a STOP or a portal save arriving meanwhile, from this process or
another, waits a moment, not minutes. Reading and checking the file is roster_file.py's.
Importing the same file twice changes nothing the second time, and an import never overrides
consent a person gave or withdrew themselves.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel, ConsentError
from portal.db import Conn
from portal.db import people as people_rows
from portal.people.roster_file import (  # noqa: F401 (IMPORT_COLUMNS: the console lists them)
    IMPORT_COLUMNS,
    RosterRefused,
    RosterRow,
    decode,
    merge_repeats,
    parse,
)

if TYPE_CHECKING:
    from portal.context import PortalContext

CHUNK_ROWS = 200  # at most, per write transaction
MIN_CHUNK_ROWS = 10
CHUNK_SECONDS = 0.15  # of writing at most before a pause; a chunk that takes longer shrinks
PAUSE_SECONDS = 0.12  # longer than SQLite's busy handler's longest nap
ACTOR = Actor(kind="system", label="roster import")


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
    rows = merge_repeats(parse(text, report.errors), report.errors, report.repeated)
    async with ctx.db.read() as conn:
        await plan(conn, rows, report)
    if report.errors or dry_run:
        return report
    families: dict[str, int] = {}
    done, size, total = 0, CHUNK_ROWS, len(report.plans)
    writing = 0.0  # seconds spent writing since the last pause
    while done < total:
        chunk = report.plans[done : done + size]
        started = time.monotonic()
        async with ctx.db.write() as conn:
            await _write_chunk(conn, ctx, chunk, families, report)
        took = time.monotonic() - started
        done += len(chunk)
        if progress is not None:
            called = progress(done, total)
            if inspect.isawaitable(called):
                await called
        # Short transactions: a write of this process (a STOP the console's server takes
        # while its import runs) gets its turn between any two, as the turns queue in order.
        # Another process's write waits in SQLite's busy handler, which looks again only every
        # 100 ms or so and would lose every race to our next chunk: after CHUNK_SECONDS of
        # writing comes a pause longer than that. PostgreSQL locks rows, not the database: a
        # STOP waits there only for a chunk that holds its person, never for the pause.
        size = min(CHUNK_ROWS, max(MIN_CHUNK_ROWS, int(size * CHUNK_SECONDS / max(took, 1e-3))))
        writing += took
        if done < total and writing >= CHUNK_SECONDS and ctx.db.dialect == "sqlite":
            await asyncio.sleep(PAUSE_SECONDS)
            writing = 0.0
    report.applied = True
    return report


async def _write_chunk(
    conn: Conn,
    ctx: PortalContext,
    chunk: list[RowPlan],
    families: dict[str, int],
    report: ImportReport,
) -> None:
    """One chunk in one write transaction, in a few statements whatever its size: its new
    families, its new people, then its consent column through the one write path."""
    now = to_db(ctx.now())
    new = [step for step in chunk if step.person_id is None]
    missing = [s.row.family for s in new if not (s.family_id or s.row.family in families)]
    if missing:
        families.update(
            await people_rows.create_families(conn, list(dict.fromkeys(missing)), now=now)
        )
    created = await people_rows.create_many(
        conn,
        [
            {
                "family_id": step.family_id or families[step.row.family],
                "kind": step.row.kind,
                "first_name": step.row.first_name,
                "last_name": step.row.last_name,
                "email": step.row.email,
                "cell_phone": step.row.cell_phone,
            }
            for step in new
        ],
        now=now,
    )
    for step, person_id in zip(new, created, strict=True):
        step.person_id = person_id
    report.created += len(new)
    answering = [step for step in chunk if step.consent]
    outcomes = await commands.import_texting(
        conn,
        ctx,
        [
            commands.ImportedAnswer(
                person_id=step.person_id,
                allow=step.consent == "yes",
                evidence={"note": step.row.note, "import_line": step.row.line},
            )
            for step in answering
        ],
        actor=ACTOR,
    )
    for step, outcome in zip(answering, outcomes, strict=True):
        if isinstance(outcome, ConsentError):
            # A STOP (or a block) that arrived after the file was checked: it wins.
            step.notes.append("not opted in: the number replied STOP during the import")
        else:
            report.consent_recorded += int(outcome.changed)
