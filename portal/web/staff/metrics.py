"""Staff: texting metrics. Texts and segments per day, week and month, the delivery rate,
opt-outs after each mass text, and a chart of the last 90 days drawn on the server."""

from __future__ import annotations

import dataclasses
import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

from portal.clock import to_db
from portal.db import dashboard as dashboard_rows
from portal.db import metrics as metric_rows
from portal.messaging import metrics
from portal.web.access import staff_required
from portal.web.pages import render
from portal.web.staff import chart


@dataclasses.dataclass(frozen=True)
class _ChartRow:
    """A row as chart.build lays it out: texts of a kind rise above the line (as channel
    texts_staff or texts_automatic, apart from the consent channel named staff), and opt-outs
    of a channel hang below it."""

    day: str
    channel: str
    opt_ins: int
    opt_outs: int


def _chart(today: dt.date, texts: list, changes: list) -> chart.Chart:
    first = chart.first_day(today).isoformat()
    rows = [_ChartRow(r.day, f"texts_{r.kind}", int(r.texts), 0) for r in texts if r.day >= first]
    rows += [_ChartRow(r.day, r.channel, 0, int(r.opt_outs or 0)) for r in changes]
    return chart.build(today, sorted(rows, key=lambda r: (r.day, r.channel)))


@staff_required
async def metrics_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    today = ctx.now().astimezone(dt.UTC).date()
    chart_since = dt.datetime.combine(chart.first_day(today), dt.time(), dt.UTC)
    async with ctx.db.read() as conn:
        texts = await metric_rows.texts_by_day(conn, to_db(metrics.since(today)))
        changes = await dashboard_rows.opt_changes_by_day(conn, to_db(chart_since))
        after = await metrics.after_mass_texts(conn)
    return render(
        request,
        "staff/messages/metrics.html",
        days=metrics.by_day(texts),
        weeks=metrics.by_week(texts),
        months=metrics.by_month(texts),
        after=after,
        chart=_chart(today, texts, changes),
        hours=int(metrics.AFTER_MASS_TEXT.total_seconds() // 3600),
    )
