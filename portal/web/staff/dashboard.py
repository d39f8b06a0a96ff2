"""Staff: the dashboard, with everyone counted by status, the last 90 days' opt-ins and
opt-outs by channel, the latest consent events and the alert count."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound

from portal.clock import to_db
from portal.consent import rules
from portal.db import dashboard as dashboard_rows
from portal.web.access import staff_required
from portal.web.pages import render
from portal.web.staff import chart

LATEST_EVENTS = 20
# Counting 100,000 people takes longer than the page may: the counts and the chart are reused
# while nothing they depend on has changed (dashboard_rows.fingerprint), for at most this long.
FIGURES_SECONDS = 30.0


@dataclasses.dataclass
class Figures:
    """The dashboard's counts and chart rows, and what they were counted from."""

    key: tuple
    counted_at: float
    counts: dict[str, int]
    changes: list


@staff_required
async def dashboard(request: Request) -> Response:
    ctx = request.app.state.ctx
    today = ctx.now().astimezone(dt.UTC).date()
    since = dt.datetime.combine(chart.first_day(today), dt.time(), dt.UTC)
    async with ctx.db.read() as conn:
        figures = await _figures(conn, ctx, to_db(since))
        latest = await dashboard_rows.latest_events(conn, LATEST_EVENTS)
    return render(
        request,
        "staff/dashboard/dashboard.html",
        counts=[(code, figures.counts.get(code, 0)) for code in rules.STAFF_FILTERS],
        chart=chart.build(today, figures.changes),
        latest=latest,
        alerts_url=_path_or_none(request, "staff.alerts"),
    )


async def _figures(conn, ctx, since: str) -> Figures:
    key = (since, await dashboard_rows.fingerprint(conn))
    kept: Figures | None = ctx.dashboard_figures
    if kept and kept.key == key and time.monotonic() - kept.counted_at < FIGURES_SECONDS:
        return kept
    figures = Figures(
        key=key,
        counted_at=time.monotonic(),
        counts=await dashboard_rows.status_counts(conn),
        changes=await dashboard_rows.opt_changes_by_day(conn, since),
    )
    ctx.dashboard_figures = figures
    return figures


def _path_or_none(request: Request, name: str) -> str | None:
    """The Alerts page is another area's: link to it only where this build serves it."""
    try:
        return str(request.app.url_path_for(name))
    except NoMatchFound:
        return None
