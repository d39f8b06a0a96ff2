"""Consent writes meeting in PostgreSQL, each held open at the point where they meet: a STOP
and a portal opt-in for one number, and two first answers for someone never asked before."""

from __future__ import annotations

import asyncio

from twilio_steps import PAT

from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Channel, StopLocked
from portal.db import people as people_rows
from portal.messaging.providers import InboundText
from portal.replies.inbound import handle_inbound

WAITING_ON_A_LOCK = (
    "SELECT COUNT(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def _first_waits_for_second(ctx, first, second) -> list:
    """Run `second(conn)` in a transaction held open until `first(conn)`, started after it,
    waits on one of its locks; then let it commit. The two outcomes (None or the error)."""
    written, may_commit = asyncio.Event(), asyncio.Event()

    async def holding():
        async with ctx.db.write() as conn:
            await second(conn)
            written.set()
            await may_commit.wait()

    async def waiting():
        await written.wait()
        async with ctx.db.write() as conn:
            await first(conn)

    tasks = [asyncio.create_task(holding()), asyncio.create_task(waiting())]
    try:
        for _ in range(500):  # bounded: five seconds at most
            async with ctx.db.read() as conn:
                if await conn.fetch_val(WAITING_ON_A_LOCK):
                    break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the second transaction never waited for the first")
    finally:
        may_commit.set()
    done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
    return list(reversed(done))


async def _pat(ctx):
    async with ctx.db.read() as conn:
        pat = await conn.fetch_val("SELECT id FROM people WHERE first_name = 'Pat'")
        account = await conn.fetch_val("SELECT id FROM accounts WHERE person_id = :p", {"p": pat})
        return pat, await commands.actor_for_account(conn, account)


async def _opt_in_behind_a_stop(ctx):
    pat, actor = await _pat(ctx)
    async with ctx.db.write() as conn:
        # Pat turns texting off first, so turning it on below is a change.
        await commands.set_texting(
            conn, ctx, person_id=pat, allow=False, channel=Channel.PORTAL, actor=actor
        )
    stop = InboundText(message_sid="SM" + "8" * 32, from_phone=PAT, to_phone="", body="STOP")

    async def opt_in(conn):
        await commands.set_texting(
            conn, ctx, person_id=pat, allow=True, channel=Channel.PORTAL, actor=actor
        )

    async def reply_stop(conn):
        await handle_inbound(conn, ctx, stop)

    return pat, await _first_waits_for_second(ctx, opt_in, reply_stop)


def test_a_portal_opt_in_that_waited_for_a_stop_of_its_number_is_refused(pg_deployment):
    pat, (opting_in, stopping) = pg_deployment.call(_opt_in_behind_a_stop)
    assert stopping is None and isinstance(opting_in, StopLocked)
    [last] = pg_deployment.rows(
        "SELECT e.new_status, e.channel FROM consent_state s"
        " JOIN consent_events e ON e.id = s.last_event_id WHERE s.person_id = :p",
        {"p": pat},
    )
    assert (last.new_status, last.channel) == ("opted_out", "sms_keyword")
    assert pg_deployment.rows(
        "SELECT COUNT(*) AS n FROM outbox WHERE template = 'opt_in_confirmation'"
    ) == [{"n": 0}]


async def _two_first_answers(ctx):
    _, actor = await _pat(ctx)
    async with ctx.db.write() as conn:
        family = await conn.fetch_val("SELECT id FROM families WHERE name = 'Parker'")
        # A new student: no consent state at all yet, so no row for either answer to lock.
        quinn = await people_rows.create(
            conn,
            family_id=family,
            kind="student",
            first_name="Quinn",
            last_name="Parker",
            email=None,
            cell_phone="+12015550160",
            now=to_db(ctx.now()),
        )

    async def turn_on(conn):
        await commands.set_texting(
            conn, ctx, person_id=quinn, allow=True, channel=Channel.PORTAL, actor=actor
        )

    return quinn, await _first_waits_for_second(ctx, turn_on, turn_on)


def test_two_first_answers_at_once_for_a_new_person_record_one_event_and_no_error(
    pg_deployment,
):
    quinn, outcomes = pg_deployment.call(_two_first_answers)
    # The double click's second answer finds the first in force: nothing to record.
    assert outcomes == [None, None]
    events = pg_deployment.rows(
        "SELECT new_status FROM consent_events WHERE person_id = :p", {"p": quinn}
    )
    assert [e.new_status for e in events] == ["opted_in"]
    assert pg_deployment.rows(
        "SELECT COUNT(*) AS n FROM outbox WHERE template = 'opt_in_confirmation'"
        " AND person_id = :p",
        {"p": quinn},
    ) == [{"n": 1}]
