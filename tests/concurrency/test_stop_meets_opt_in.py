"""A STOP and a portal opt-in for the same number meeting in PostgreSQL: whichever commits
first, the opt-in never lands on a number whose STOP committed before it (rule 5)."""

from __future__ import annotations

import asyncio

from twilio_steps import PAT

from portal.consent import commands
from portal.consent.rules import Channel, StopLocked
from portal.messaging.providers import InboundText
from portal.replies.inbound import handle_inbound

WAITING_ON_A_LOCK = (
    "SELECT COUNT(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def _opt_in_waiting_behind_a_stop(ctx) -> tuple[BaseException | None, int, int]:
    async with ctx.db.read() as conn:
        pat = await conn.fetch_val("SELECT id FROM people WHERE first_name = 'Pat'")
        account = await conn.fetch_val("SELECT id FROM accounts WHERE person_id = :p", {"p": pat})
    async with ctx.db.write() as conn:
        actor = await commands.actor_for_account(conn, account)
        # Pat turns texting off first, so turning it on below is a change.
        await commands.set_texting(
            conn, ctx, person_id=pat, allow=False, channel=Channel.PORTAL, actor=actor
        )
    stop_written, stop_may_commit = asyncio.Event(), asyncio.Event()

    async def stop():
        text = InboundText(message_sid="SM" + "8" * 32, from_phone=PAT, to_phone="", body="STOP")
        async with ctx.db.write() as conn:
            await handle_inbound(conn, ctx, text)
            stop_written.set()
            await stop_may_commit.wait()

    async def opt_in():
        await stop_written.wait()
        async with ctx.db.write() as conn:
            await commands.set_texting(
                conn, ctx, person_id=pat, allow=True, channel=Channel.PORTAL, actor=actor
            )

    stopping, opting_in = asyncio.create_task(stop()), asyncio.create_task(opt_in())
    try:
        # The STOP holds Pat's consent state, uncommitted, until the opt-in waits for it.
        for _ in range(500):
            async with ctx.db.read() as conn:
                if await conn.fetch_val(WAITING_ON_A_LOCK):
                    break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the opt-in never waited for the STOP")
    finally:
        stop_may_commit.set()
    results = await asyncio.wait_for(
        asyncio.gather(stopping, opting_in, return_exceptions=True), timeout=10
    )
    assert results[0] is None
    async with ctx.db.read() as conn:
        confirmations = await conn.fetch_val(
            "SELECT COUNT(*) FROM outbox WHERE template = 'opt_in_confirmation'"
        )
    return results[1], pat, confirmations


def test_a_portal_opt_in_that_waited_for_a_stop_of_its_number_is_refused(pg_deployment):
    refusal, pat, confirmations = pg_deployment.call(_opt_in_waiting_behind_a_stop)
    assert isinstance(refusal, StopLocked)
    [last] = pg_deployment.rows(
        "SELECT e.new_status, e.channel FROM consent_state s"
        " JOIN consent_events e ON e.id = s.last_event_id WHERE s.person_id = :p",
        {"p": pat},
    )
    assert (last.new_status, last.channel) == ("opted_out", "sms_keyword")
    assert confirmations == 0
