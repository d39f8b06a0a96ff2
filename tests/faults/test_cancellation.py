"""A write cancelled at any await (a client that hung up, a server shutting down) leaves all or
nothing, and no connection or lock behind: on SQLite and on PostgreSQL.

The STOP of a handset is cancelled after 0, 1, 2, ... turns of the event loop, until it runs
to its end uncancelled; after each cancel the database holds the whole STOP or none of it, and
the next write gets its turn at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import pytest
from twilio_steps import ORG_NUMBER, PAT

from portal.messaging.providers import InboundText
from portal.replies.inbound import handle_inbound

MAX_STEPS = 5000  # a bound, far above what the STOP needs: the test fails if it never ends


@pytest.fixture
def database_url(each_backend_url):
    return each_backend_url


def inbound(body: str, sid: str) -> InboundText:
    return InboundText(message_sid=sid, from_phone=PAT, to_phone=ORG_NUMBER, body=body)


async def reply(ctx, body: str, sid: str) -> None:
    """A text from the handset through the webhook's write path."""
    async with ctx.db.write() as conn:
        await handle_inbound(conn, ctx, inbound(body, sid))


async def state(ctx) -> tuple:
    async with ctx.db.read() as conn:
        counts = [
            await conn.fetch_val(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (our names)
            for table in ("inbound_messages", "consent_events", "outbox")
        ]
        active = await conn.fetch_val(
            "SELECT active FROM phone_suppressions WHERE phone = :p", {"p": PAT}
        )
    return (*counts, bool(active))


async def next_write_gets_its_turn(ctx) -> None:
    """A leaked connection holding a transaction, or a lock never released, would make this
    wait (SQLite: busy_timeout, then "locked"; PostgreSQL: a pool with no connection left)."""
    if ctx.db.dialect == "sqlite":
        assert not ctx.db._write_lock.locked()
    async with ctx.db.write() as conn:
        await conn.execute("UPDATE organization SET name = name")


async def cancelled_after(ctx, steps: int, whole_stop: tuple, sids) -> bool:
    """Cancel a STOP after `steps` turns of the loop; False if it had already finished."""
    before = await state(ctx)
    task = asyncio.create_task(reply(ctx, "STOP", next(sids)))
    for _ in range(steps):
        await asyncio.sleep(0)
    if task.done():
        await task  # it ran to its end before this many turns: it was cancelled at every await
        return False
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    after = await state(ctx)
    added = tuple(a - b for a, b in zip(after[:3], before[:3], strict=True))
    assert (added, after[3]) in {((0, 0, 0), False), (whole_stop, True)}, steps
    await next_write_gets_its_turn(ctx)
    if after[3]:  # committed before the cancel landed: undone for the next round
        await reply(ctx, "START", next(sids))
    return True


async def cancel_at_every_await(ctx) -> int:
    sids = (f"SM{n:032d}" for n in itertools.count())
    nothing = await state(ctx)
    await reply(ctx, "STOP", next(sids))
    whole = await state(ctx)
    assert whole[3] and whole[:3] > nothing[:3]
    await reply(ctx, "START", next(sids))
    whole_stop = tuple(w - n for w, n in zip(whole[:3], nothing[:3], strict=True))
    for steps in range(MAX_STEPS):
        try:
            async with asyncio.timeout(10):
                if not await cancelled_after(ctx, steps, whole_stop, sids):
                    return steps
        except TimeoutError:
            if ctx.db.dialect == "postgresql":
                # Leaked connections would hang the app's shutdown too: end them, then fail.
                ctx.db._db._backend._pool.terminate()
            raise AssertionError(f"no turn to write after a cancel at step {steps}") from None
    raise AssertionError("the STOP never ran to its end")


def test_a_stop_cancelled_at_any_await_leaves_all_or_nothing_and_no_lock_behind(portal):
    steps = portal.call(cancel_at_every_await, portal.ctx)
    assert steps > 5  # the STOP did wait on the database, and was cancelled at each wait
    if portal.ctx.db.dialect == "postgresql":
        stuck = portal.rows(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%'"
        )
        assert stuck[0].n == 0
