"""Bulk opt-in requests: choose people by the People filters, preview who would get the
CLICK HERE email and who is skipped and why, then send in the background, in batches.

Each batch of about 200 people is one short write transaction: the emails of those who can
answer, each person's outcome, and the send's progress, all together. Nothing holds the
database for the whole send, so consent changes (a STOP, a Yes) keep flowing meanwhile, and
every person is checked again as their batch is sent, not only when the preview was made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from typing import TYPE_CHECKING

from portal.clock import from_db, to_db
from portal.consent import requests
from portal.consent.rules import Actor
from portal.db import Conn, Row, people_search, staff_actions
from portal.db import request_batches as batch_rows
from portal.people import search

if TYPE_CHECKING:
    from portal.context import PortalContext

log = logging.getLogger("portal.requests")

BATCH_SIZE = 200
# How long a running send may go without progress before staff may carry it on: its process
# was stopped (a restart, a deploy) part-way through.
STALLED_AFTER = dt.timedelta(minutes=2)
# Names shown per group on the preview; the counts are always whole.
NAMES_SHOWN = 100


@dataclasses.dataclass(frozen=True)
class Selection:
    """Who a send is for: the People filters, and whether people without an email count."""

    q: str = ""
    status: str = "never_asked"
    family_id: int | None = None
    with_email: bool = True

    def criteria(self) -> search.Criteria:
        return search.read(self.q, status=self.status, family_id=self.family_id)

    def includes(self, row: Row) -> bool:
        return bool(row.email) or not self.with_email

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Selection:
        return cls(**json.loads(text))


async def _each_chosen(conn: Conn, selection: Selection):
    """Every person the selection chooses, page by page along the People list's keyset."""
    criteria, after = selection.criteria(), None
    while True:
        rows = await people_search.search(conn, criteria, after=after, limit=500)
        for row in rows:
            if selection.includes(row):
                yield row
        if len(rows) < 500:
            return
        after = search.read_cursor(search.cursor_of(rows[-1]))


@dataclasses.dataclass
class Preview:
    askable: int = 0
    askable_names: list[Row] = dataclasses.field(default_factory=list)
    skipped: dict[str, list] = dataclasses.field(default_factory=dict)  # reason: [count, rows]

    @property
    def skipped_count(self) -> int:
        return sum(count for count, _ in self.skipped.values())


async def preview(conn: Conn, selection: Selection) -> Preview:
    """How many would get the email, and who would be skipped and why (as of now)."""
    found = Preview()
    async for row in _each_chosen(conn, selection):
        reason = requests.why_not_askable(row)
        if reason is None:
            found.askable += 1
            if len(found.askable_names) < NAMES_SHOWN:
                found.askable_names.append(row)
            continue
        group = found.skipped.setdefault(reason, [0, []])
        group[0] += 1
        if len(group[1]) < NAMES_SHOWN:
            group[1].append(row)
    return found


async def start(
    conn: Conn, ctx: PortalContext, *, selection: Selection, send_token: str, actor: Actor
) -> tuple[Row, bool]:
    """Record a new send, or find the one this Send button already started (a double click
    posts the same token twice) or an identical one still running. True when new."""
    already = await batch_rows.by_token(conn, send_token) or await batch_rows.running_with(
        conn, selection.to_json()
    )
    if already is not None:
        return already, False
    now = to_db(ctx.now())
    batch_id = await batch_rows.create(
        conn,
        criteria=selection.to_json(),
        send_token=send_token,
        created_by=actor.account_id,
        now=now,
    )
    await staff_actions.record(
        conn,
        account_id=actor.account_id,
        action="requests.sent",
        subject_kind="request_batch",
        subject_id=batch_id,
        details=dataclasses.asdict(selection),
        ip=actor.ip,
        now=now,
    )
    return await batch_rows.get(conn, batch_id), True


def stalled(batch: Row, now: dt.datetime) -> bool:
    return batch.status == "running" and now - from_db(batch.updated_at) > STALLED_AFTER


async def run(ctx: PortalContext, batch_id: int, *, requested_by: str) -> None:
    """Send one batch after another until everyone chosen has been processed."""
    try:
        async with ctx.db.read() as conn:
            batch = await batch_rows.get(conn, batch_id)
            selection = Selection.from_json(batch.criteria)
            total = None
            if batch.resume_after is None:
                total = sum([1 async for _ in _each_chosen(conn, selection)])
        if total is not None:
            async with ctx.db.write() as conn:
                await batch_rows.set_total(conn, batch_id, total=total, now=to_db(ctx.now()))
        position = batch.resume_after  # where an interrupted send left off, if it was
        after = search.read_cursor(position or "")
        criteria = selection.criteria()
        done = False
        while not done:
            async with ctx.db.write() as conn:
                rows = await people_search.search(conn, criteria, after=after, limit=BATCH_SIZE)
                chosen = [row.id for row in rows if selection.includes(row)]
                report = await requests.request_consent(
                    conn, ctx, chosen, requested_by=requested_by
                )
                position = search.cursor_of(rows[-1]) if rows else position
                done = len(rows) < BATCH_SIZE
                await batch_rows.record_step(
                    conn,
                    batch_id,
                    sent=report.sent,
                    skipped=report.skipped,
                    resume_after=position,
                    done=done,
                    now=to_db(ctx.now()),
                )
            after = search.read_cursor(position or "")
            await asyncio.sleep(0)  # other writers take their turn between batches
    except Exception as exc:  # the send stops, and says so on its page
        log.exception("bulk request send %s failed", batch_id)
        async with ctx.db.write() as conn:
            await batch_rows.fail(conn, batch_id, error=str(exc), now=to_db(ctx.now()))


class Sends:
    """The sends running in this process, so a page can tell a running send from a stalled
    one, and tests (and shutdown) can wait for them."""

    def __init__(self) -> None:
        self._tasks: dict[int, asyncio.Task] = {}

    def start(self, ctx: PortalContext, batch_id: int, *, requested_by: str) -> None:
        if self.running(batch_id):
            return
        # Forget finished sends: their outcome is in the database, not here.
        self._tasks = {key: task for key, task in self._tasks.items() if not task.done()}
        self._tasks[batch_id] = asyncio.create_task(run(ctx, batch_id, requested_by=requested_by))

    def running(self, batch_id: int) -> bool:
        task = self._tasks.get(batch_id)
        return task is not None and not task.done()

    async def join(self) -> None:
        """Wait until every send started here has finished."""
        await asyncio.gather(*self._tasks.values())
