"""create_app(settings) -> Starlette: the route table, middleware and lifespan of the portal.

`uvicorn --factory portal.app:from_environment` serves it from the environment's settings,
for running several worker processes behind one port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Router

from portal.consent.gate import ConsentGate
from portal.context import PortalContext
from portal.db import DRIVER_ERRORS, migrate, write_unavailable
from portal.i18n.catalogs import mark
from portal.i18n.negotiation import LanguageMiddleware
from portal.messaging import choice
from portal.messaging.dispatcher import OutboxDispatcher
from portal.replies.spool import InboundSpool
from portal.settings import Settings
from portal.web.foreground import ForegroundMiddleware
from portal.web.pages import render
from portal.web.proxies import ProxyHeadersMiddleware
from portal.web.routes import routes
from portal.web.security import AllowedHostsMiddleware, SecurityMiddleware

log = logging.getLogger("portal")


async def _error_page(request: Request, exc: HTTPException):
    titles = {403: mark("Not allowed"), 404: mark("Not found"), 405: mark("Not allowed")}
    return render(
        request,
        "errors/error.html",
        status_code=exc.status_code,
        title=titles.get(exc.status_code, mark("Something went wrong")),
        code=exc.status_code,
    )


async def _server_error_page(request: Request, exc: Exception):
    # A friendly page and no traceback. Starlette re-raises the exception after this page is
    # sent, so the server still logs it in full.
    return render(
        request, "errors/error.html", status_code=500, title=mark("Something went wrong"), code=500
    )


async def _write_unavailable_page(request: Request, exc: Exception):
    """A read-only or full database: say so with a 503 (the transaction rolled back, nothing
    changed) instead of a 500, and tell clients when to try again."""
    if not write_unavailable(exc):
        raise exc
    log.error("the database refused a write: %s", exc)
    response = render(
        request, "errors/503.html", status_code=503, title=mark("We cannot save changes right now")
    )
    response.headers["Retry-After"] = "120"
    return response


def create_app(
    settings: Settings,
    *,
    clock=None,
    providers: dict | None = None,
    start_dispatcher: bool | None = None,
) -> Starlette:
    """Build the portal. Tests may pass their own clock, a provider per channel (the rest
    come from settings), and whether the dispatcher runs in the background."""
    ctx = PortalContext.build(settings, clock=clock)
    table = routes(settings)
    ctx.router = Router(routes=table)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await ctx.db.connect()
        try:
            await ctx.db.check_pragmas()
            if settings.is_development:
                await migrate.apply(ctx.db)
            elif waiting := await migrate.pending(ctx.db):
                raise RuntimeError(f"run `portal migrate` first; pending: {', '.join(waiting)}")
            await ctx.ensure_organization()
        except BaseException:
            # A failed start must let go of the database: its open connections' threads would
            # keep the process alive, listening nowhere, where a supervisor cannot see it.
            await ctx.db.disconnect()
            raise
        chosen = choice.choose(
            settings, status_callback=ctx.url_for("webhooks.status"), given=providers
        )
        app.state.mail_catcher = chosen.mail_catcher
        app.state.fake_phone = chosen.fake_phone
        app.state.dispatcher = OutboxDispatcher(ctx, chosen.by_channel, ConsentGate())
        run = settings.run_dispatcher if start_dispatcher is None else start_dispatcher
        tasks = [asyncio.create_task(app.state.dispatcher.run_forever())] if run else []
        # Texts spooled while the database was unavailable are this instance's to process.
        tasks.append(asyncio.create_task(app.state.inbound_spool.run_forever(ctx)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            chosen.stop()
            await ctx.db.disconnect()

    app = Starlette(
        routes=table,
        middleware=[
            # Around everything: the dispatcher yields to whatever is being answered.
            Middleware(ForegroundMiddleware, foreground=ctx.foreground),
            # Outermost: who the client is must be settled before anything records it.
            Middleware(ProxyHeadersMiddleware, trusted=settings.forwarded_allow_ips),
            # Before the session lookup: a request for a host not ours costs no query.
            Middleware(AllowedHostsMiddleware, settings=settings),
            Middleware(SecurityMiddleware, ctx=ctx),
            # Inside the session lookup: a logged-in person's saved language comes with it.
            Middleware(LanguageMiddleware, settings=settings),
        ],
        exception_handlers={
            HTTPException: _error_page,
            **dict.fromkeys(DRIVER_ERRORS, _write_unavailable_page),
            500: _server_error_page,
        },
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.inbound_spool = InboundSpool(settings.inbound_spool_dir)
    app.state.mail_catcher = None
    app.state.fake_phone = None
    return app


def from_environment() -> Starlette:
    """The app from the environment's settings: `uvicorn --factory portal.app:from_environment`."""
    return create_app(Settings.from_env())
