"""/healthz: answers 200 when the database answers, for load balancers and monitors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from portal.db import outbox as outbox_rows


async def healthz(request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    try:
        async with ctx.db.read() as conn:
            pending = await outbox_rows.pending_count(conn)
    except Exception as exc:  # the point of a health check is to report, not to crash
        return JSONResponse({"status": "error", "error": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "outbox_pending": pending})
