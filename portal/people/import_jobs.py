"""Roster imports run from the staff console: the uploaded file kept server-side between the
dry run and the import, and the import itself as a background task with recorded progress.

The browser only ever holds a file's id, so the import runs exactly the bytes the dry run
checked. One import runs at a time: two running the same file at once would each find its
people missing and add them twice (roster.py's "re-importing changes nothing" holds between
runs, not across simultaneous ones).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
import time
from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.db import imports as import_rows
from portal.db import staff_actions
from portal.people import roster

if TYPE_CHECKING:
    from portal.context import PortalContext

log = logging.getLogger("portal.import")

# A running job records progress after every chunk; one silent this long lost its server.
STALE_AFTER = dt.timedelta(minutes=10)
PROGRESS_SECONDS = 1.0  # a running job records its progress at most this often


def stalled(ctx: PortalContext, job) -> bool:
    """A job still marked running that has not moved for STALE_AFTER: its server stopped."""
    return job.status == "running" and job.updated_at < to_db(ctx.now() - STALE_AFTER)


class ImportBusy(Exception):
    """Another import is running; `job_id` is the one to watch."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id)
        self.job_id = job_id


async def keep_file(ctx: PortalContext, data: bytes, *, filename: str, account_id: int) -> int:
    """Keep an uploaded file for its dry run and import; returns its id."""
    async with ctx.db.write() as conn:
        return await import_rows.add_pending(
            conn,
            data=base64.b64encode(data).decode("ascii"),
            sha256=hashlib.sha256(data).hexdigest(),
            filename=filename,
            created_by=account_id,
            now=to_db(ctx.now()),
        )


async def kept_file(ctx: PortalContext, pending_id: int) -> tuple[dict, bytes] | None:
    """The kept file's row (id, filename, sha256, ...) and its bytes, or None."""
    async with ctx.db.read() as conn:
        row = await import_rows.pending(conn, pending_id)
    if row is None:
        return None
    info = {key: value for key, value in row.items() if key != "data"}
    return info, base64.b64decode(row.data)


async def dry_run(ctx: PortalContext, data: bytes) -> roster.ImportReport:
    """What importing the file would do, row by row; reads only."""
    return await roster.import_roster(ctx, data, dry_run=True)


class ImportRunner:
    """Starts import jobs as asyncio tasks of this server process and keeps them referenced
    until they end (an unreferenced task may be collected mid-way)."""

    def __init__(self, ctx: PortalContext) -> None:
        self.ctx = ctx
        self.tasks: dict[int, asyncio.Task] = {}

    async def start(self, pending_id: int, *, account_id: int, ip: str) -> int:
        """Record a job for a kept file and start it; ImportBusy if another is running."""
        kept = await kept_file(self.ctx, pending_id)
        if kept is None:
            raise LookupError(pending_id)
        info, data = kept
        now = self.ctx.now()
        async with self.ctx.db.write() as conn:
            # Checked and recorded in one write transaction: two clicks cannot both start.
            running = await import_rows.running_job(conn, stale_before=to_db(now - STALE_AFTER))
            if running is not None:
                raise ImportBusy(running.id)
            job_id = await import_rows.add_job(
                conn, pending_import_id=pending_id, created_by=account_id, now=to_db(now)
            )
            # Recorded as it starts too: if the server stops mid-way, the trail still shows
            # who began writing which file.
            await staff_actions.record(
                conn,
                account_id=account_id,
                action="roster.import_started",
                subject_kind="import_job",
                subject_id=job_id,
                details={"file": info["filename"], "sha256": info["sha256"]},
                ip=ip,
                now=to_db(now),
            )
        task = asyncio.create_task(self._run(job_id, info, data, account_id=account_id, ip=ip))
        self.tasks[job_id] = task
        task.add_done_callback(lambda _: self.tasks.pop(job_id, None))
        return job_id

    async def wait(self, job_id: int) -> None:
        """Until the job's task has ended (for shutdown, and for tests)."""
        task = self.tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def _run(self, job_id: int, info: dict, data: bytes, *, account_id: int, ip: str):
        ctx = self.ctx

        last_written: float | None = None  # the first chunk's progress shows at once

        async def progress(done: int, total: int) -> None:
            # Once a second is enough for a page that refreshes every two, and each write is
            # one more transaction beside the import's own, which STOPs would wait behind.
            nonlocal last_written
            if (
                done < total
                and last_written is not None
                and time.monotonic() - last_written < PROGRESS_SECONDS
            ):
                return
            last_written = time.monotonic()
            async with ctx.db.write() as conn:
                await import_rows.set_progress(
                    conn, job_id, done=done, total=total, now=to_db(ctx.now())
                )

        try:
            report = await roster.import_roster(ctx, data, progress=progress)
            status = "done" if report.ok else "refused"
            details = report.as_dict()
            total = len(report.plans)
        except Exception as exc:  # the job must end with a report, whatever went wrong
            log.exception("roster import job %s failed", job_id)
            status, total = "failed", 0
            details = {
                "ok": False,
                "applied": False,
                "errors": [
                    "The import stopped part-way because of an error on our side "
                    f"({type(exc).__name__}). Rows written before it stay; importing the same "
                    "file again adds only what is missing."
                ],
                "summary": [],
                "rows": [],
            }
        async with ctx.db.write() as conn:
            now = to_db(ctx.now())
            await import_rows.finish(
                conn, job_id, status=status, report=details, total=total, now=now
            )
            await staff_actions.record(
                conn,
                account_id=account_id,
                action="roster.import",
                subject_kind="import_job",
                subject_id=job_id,
                details={
                    "file": info["filename"],
                    "sha256": info["sha256"],
                    "status": status,
                    "rows": total,
                    "created": details.get("created", 0),
                    "consent_recorded": details.get("consent_recorded", 0),
                },
                ip=ip,
                now=now,
            )
