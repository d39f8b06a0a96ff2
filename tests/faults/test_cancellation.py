"""A write cancelled at any await (a client that hung up, a server shutting down) leaves all or
nothing, and no connection or lock behind: on SQLite and on PostgreSQL.

A change (the STOP of a handset; a parent's portal save) is cancelled after 0, 1, 2, ... turns
of the event loop, until it runs to its end uncancelled; after each cancel the database holds
the whole change or none of it, and the next write gets its turn at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from collections.abc import Awaitable, Callable

import pytest
from twilio_steps import ORG_NUMBER, PAT

from portal.consent import commands
from portal.consent.rules import Actor, Channel
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


@dataclasses.dataclass(frozen=True)
class Change:
    """A write to cancel: how to make it, how to undo it, and whether it is in force."""

    make: Callable[..., Awaitable[None]]
    undo: Callable[..., Awaitable[None]]
    in_force: Callable[..., Awaitable[bool]]


async def stop_in_force(ctx) -> bool:
    async with ctx.db.read() as conn:
        return bool(
            await conn.fetch_val(
                "SELECT active FROM phone_suppressions WHERE phone = :p", {"p": PAT}
            )
        )


STOP = Change(
    make=lambda ctx, sid: reply(ctx, "STOP", sid),
    undo=lambda ctx, sid: reply(ctx, "START", sid),
    in_force=stop_in_force,
)


async def portal_save(ctx, allow: bool) -> None:
    """The parent switches Avery's texting through the portal's write path."""
    async with ctx.db.write() as conn:
        parent = await conn.fetch_one(
            "SELECT id, person_id FROM accounts WHERE email = 'parent@demo.example'"
        )
        avery = await conn.fetch_val("SELECT id FROM people WHERE first_name = 'Avery'")
        actor = Actor(
            kind="contact",
            label="Pat Parker <parent@demo.example>",
            account_id=parent.id,
            person_id=parent.person_id,
        )
        await commands.set_texting(
            conn, ctx, person_id=avery, allow=allow, channel=Channel.PORTAL, actor=actor
        )


async def avery_opted_out(ctx) -> bool:
    async with ctx.db.read() as conn:
        return (
            await conn.fetch_val(
                "SELECT s.status FROM consent_state s JOIN people p ON p.id = s.person_id"
                " WHERE p.first_name = 'Avery'"
            )
            == "opted_out"
        )


PORTAL_OPT_OUT = Change(
    make=lambda ctx, _sid: portal_save(ctx, allow=False),
    undo=lambda ctx, _sid: portal_save(ctx, allow=True),
    in_force=avery_opted_out,
)


async def state(ctx, change: Change) -> tuple:
    async with ctx.db.read() as conn:
        counts = [
            await conn.fetch_val(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (our names)
            for table in ("inbound_messages", "consent_events", "outbox")
        ]
    return (*counts, await change.in_force(ctx))


async def next_write_gets_its_turn(ctx) -> None:
    """A leaked connection holding a transaction, or a lock never released, would make this
    wait (SQLite: busy_timeout, then "locked"; PostgreSQL: a pool with no connection left)."""
    if ctx.db.dialect == "sqlite":
        assert not ctx.db._write_lock.locked()
    async with ctx.db.write() as conn:
        await conn.execute("UPDATE organization SET name = name")


async def cancelled_after(ctx, change: Change, steps: int, whole: tuple, sids) -> bool:
    """Cancel the change after `steps` turns of the loop; False if it had already finished."""
    before = await state(ctx, change)
    task = asyncio.create_task(change.make(ctx, next(sids)))
    for _ in range(steps):
        await asyncio.sleep(0)
    if task.done():
        await task  # it ran to its end before this many turns: it was cancelled at every await
        return False
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    after = await state(ctx, change)
    added = tuple(a - b for a, b in zip(after[:3], before[:3], strict=True))
    assert (added, after[3]) in {((0, 0, 0), False), (whole, True)}, steps
    await next_write_gets_its_turn(ctx)
    if after[3]:  # committed before the cancel landed: undone for the next round
        await change.undo(ctx, next(sids))
    return True


async def cancel_at_every_await(ctx, change: Change) -> int:
    sids = (f"SM{n:032d}" for n in itertools.count())
    nothing = await state(ctx, change)
    await change.make(ctx, next(sids))
    done = await state(ctx, change)
    assert done[3] and done[:3] > nothing[:3]
    await change.undo(ctx, next(sids))
    whole = tuple(d - n for d, n in zip(done[:3], nothing[:3], strict=True))
    for steps in range(MAX_STEPS):
        try:
            async with asyncio.timeout(10):
                if not await cancelled_after(ctx, change, steps, whole, sids):
                    return steps
        except TimeoutError:
            if ctx.db.dialect == "postgresql":
                # Leaked connections would hang the app's shutdown too: end them, then fail.
                ctx.db._db._backend._pool.terminate()
            raise AssertionError(f"no turn to write after a cancel at step {steps}") from None
    raise AssertionError("the change never ran to its end")


@pytest.mark.parametrize("change", [STOP, PORTAL_OPT_OUT], ids=["stop", "portal_opt_out"])
def test_a_change_cancelled_at_any_await_leaves_all_or_nothing_and_no_lock_behind(portal, change):
    steps = portal.call(cancel_at_every_await, portal.ctx, change)
    assert steps > 5  # the change did wait on the database, and was cancelled at each wait
    if portal.ctx.db.dialect == "postgresql":
        stuck = portal.rows(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%'"
        )
        assert stuck[0].n == 0
