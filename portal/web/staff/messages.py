"""Staff: the texts people sent to the organization's number."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal.db import inbound as inbound_rows
from portal.web.access import staff_required
from portal.web.pages import render


@staff_required
async def messages(request: Request) -> Response:
    """Texts people sent us, newest first; stops in plain words are flagged for review."""
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        received = await inbound_rows.recent(conn)
    return render(request, "staff/messages.html", messages=received)
