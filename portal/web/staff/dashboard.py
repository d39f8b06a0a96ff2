"""Staff: the dashboard, with everyone counted by status, the last 90 days' opt-ins and
opt-outs by channel, the latest consent events and the alert count."""

from __future__ import annotations

import datetime as dt

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


@staff_required
async def dashboard(request: Request) -> Response:
    ctx = request.app.state.ctx
    today = ctx.now().astimezone(dt.UTC).date()
    since = dt.datetime.combine(chart.first_day(today), dt.time(), dt.UTC)
    async with ctx.db.read() as conn:
        counts = await dashboard_rows.status_counts(conn)
        changes = await dashboard_rows.opt_changes_by_day(conn, to_db(since))
        latest = await dashboard_rows.latest_events(conn, LATEST_EVENTS)
    return render(
        request,
        "staff/dashboard/dashboard.html",
        counts=[(code, counts.get(code, 0)) for code in rules.STAFF_FILTERS],
        chart=chart.build(today, changes),
        latest=latest,
        alerts_url=_path_or_none(request, "staff.alerts"),
    )


def _path_or_none(request: Request, name: str) -> str | None:
    """The Alerts page is another area's: link to it only where this build serves it."""
    try:
        return str(request.app.url_path_for(name))
    except NoMatchFound:
        return None
