"""Counts the requests being answered, so background work in this process can let them go first."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from portal.context import Foreground


class ForegroundMiddleware:
    """Marks each HTTP request in flight on the context's Foreground (see portal/context.py)."""

    def __init__(self, app: ASGIApp, foreground: Foreground) -> None:
        self.app = app
        self.foreground = foreground

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.foreground.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.foreground.finished()
