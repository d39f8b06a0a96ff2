"""The requests in flight, which the in-process dispatcher lets go first."""

from __future__ import annotations

import asyncio

from portal.context import Foreground


def test_quiet_returns_at_once_when_no_request_is_being_answered():
    async def scenario():
        foreground = Foreground()
        await asyncio.wait_for(foreground.quiet(at_most=3600), timeout=5)
        return foreground.in_flight

    assert asyncio.run(scenario()) == 0


def test_quiet_waits_for_the_last_request_in_flight_to_finish():
    async def scenario():
        foreground = Foreground()
        foreground.started()
        foreground.started()
        waiting = asyncio.create_task(foreground.quiet(at_most=3600))
        await asyncio.sleep(0)
        foreground.finished()
        await asyncio.sleep(0)
        still_waiting = not waiting.done()
        foreground.finished()
        await asyncio.wait_for(waiting, timeout=5)
        return still_waiting, foreground.in_flight

    assert asyncio.run(scenario()) == (True, 0)


def test_quiet_gives_up_waiting_after_at_most_so_background_work_still_runs():
    async def scenario():
        foreground = Foreground()
        foreground.started()
        await asyncio.wait_for(foreground.quiet(at_most=0), timeout=5)
        return foreground.in_flight

    assert asyncio.run(scenario()) == 1


def test_every_request_counts_as_in_flight_while_it_is_answered_and_not_after(portal):
    seen = []
    foreground = portal.ctx.foreground
    original_started = foreground.started

    def started():
        original_started()
        seen.append(foreground.in_flight)

    foreground.started = started
    assert portal.client.get("/login").status_code == 200
    assert portal.client.get("/healthz").status_code in (200, 503)
    assert seen == [1, 1]
    assert foreground.in_flight == 0
