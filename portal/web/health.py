"""/healthz: the truth for load balancers and monitors: 503 when the database cannot be used,
200 "degraded" when queued mail or texts are stuck, 200 "ok" otherwise."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse

from portal.clock import to_db
from portal.db import outbox as outbox_rows

# A message still undelivered this long after it was queued is stuck: the retries (15 s
# doubling) have been failing for several rounds, or no dispatcher is running at all.
STUCK_AFTER = dt.timedelta(minutes=15)
# A message the server refused for good is reported for a day, so someone looks at it.
FAILED_WINDOW = dt.timedelta(hours=24)


async def healthz(request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    now = ctx.now()
    try:
        async with ctx.db.read() as conn:
            trouble = await outbox_rows.delivery_trouble(
                conn, stuck_before=to_db(now - STUCK_AFTER), failed_since=to_db(now - FAILED_WINDOW)
            )
        # Reads alone would say "ok" on a read-only or locked database: every change fails.
        await ctx.db.check_writable()
    except Exception as exc:  # the point of a health check is to report, not to crash
        return JSONResponse({"status": "error", "error": type(exc).__name__}, status_code=503)
    body = {"status": "ok", "outbox_pending": trouble.pending}
    if trouble.stuck_since or trouble.failed_recently:
        # Still 200: stuck mail is not this instance's fault, and a load balancer that pulled
        # every instance for it would turn a mail outage into a portal outage.
        body |= {
            "status": "degraded",
            "outbox_stuck_since": trouble.stuck_since,
            "outbox_failed_last_24h": trouble.failed_recently,
        }
    return JSONResponse(body)
