"""The open-alert count every staff page shows beside Alerts in its navigation."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request

from portal.clock import to_db
from portal.db import alerts as alert_rows

# A message still pending this long after it was queued (or retried) is stuck: staff are
# told, and may retry it. (/healthz warns sooner: it speaks to monitors, not to the office.)
STUCK_AFTER = dt.timedelta(hours=1)


def stuck_before(ctx) -> str:
    return to_db(ctx.now() - STUCK_AFTER)


async def open_alerts(request: Request) -> int:
    """Unseen opt-outs, plain-words stops to review, failed or stuck messages: one query, on
    the connection SecurityMiddleware already holds for this request."""
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        tally = await alert_rows.opt_outs_counted(conn, ctx.opt_out_tally)
        # Requests of this process may count at once: keep the tally that reached furthest.
        if tally[0] > ctx.opt_out_tally[0]:
            ctx.opt_out_tally = tally
        return await alert_rows.open_count(conn, stuck_before=stuck_before(ctx), opt_outs=tally[1])
