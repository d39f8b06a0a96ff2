"""create_app(settings) -> Starlette: the route table, middleware and lifespan of the portal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from portal.clock import to_db
from portal.context import PortalContext
from portal.db import migrate
from portal.db import organization as org_rows
from portal.dispatcher import OutboxDispatcher
from portal.mail import SmtpTransport
from portal.mailcatcher import MailCatcher
from portal.settings import Settings
from portal.web import account, auth_views, consent_links, dev, health, staff
from portal.web.pages import render
from portal.web.security import SecurityMiddleware

log = logging.getLogger("portal")
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def routes(settings: Settings) -> list:
    """Every route of the portal, by dotted name: the whole surface in one table."""
    table = [
        Route("/", auth_views.home, name="home"),
        Route("/healthz", health.healthz, name="health"),
        Route("/login", auth_views.login_form, methods=["GET"], name="auth.login_form"),
        Route("/login", auth_views.login, methods=["POST"], name="auth.login"),
        Route("/logout", auth_views.logout_form, methods=["GET"], name="auth.logout_form"),
        Route("/logout", auth_views.logout, methods=["POST"], name="auth.logout"),
        Route("/forgot-password", auth_views.forgot_form, methods=["GET"], name="auth.forgot_form"),
        Route("/forgot-password", auth_views.forgot, methods=["POST"], name="auth.forgot"),
        Route(
            "/reset-password/{token}",
            auth_views.reset_form,
            methods=["GET"],
            name="auth.reset_form",
        ),
        Route("/reset-password/{token}", auth_views.reset, methods=["POST"], name="auth.reset"),
        Route(
            "/account/password",
            auth_views.password_form,
            methods=["GET"],
            name="account.password_form",
        ),
        Route(
            "/account/password",
            auth_views.change_password,
            methods=["POST"],
            name="account.password",
        ),
        Route("/account/settings", account.settings, methods=["GET"], name="account.settings"),
        Route(
            "/account/settings/edit",
            account.edit_form,
            methods=["GET"],
            name="account.settings_edit_form",
        ),
        Route(
            "/account/settings/edit", account.edit, methods=["POST"], name="account.settings_edit"
        ),
        Route("/account/contacts", account.contacts, methods=["GET"], name="account.contacts"),
        Route(
            "/account/contacts/{person_id}/edit",
            account.edit_form,
            methods=["GET"],
            name="account.contact_edit_form",
        ),
        Route(
            "/account/contacts/{person_id}/edit",
            account.edit,
            methods=["POST"],
            name="account.contact_edit",
        ),
        Route("/account/students", account.students, methods=["GET"], name="account.students"),
        Route(
            "/account/students/{person_id}",
            account.student,
            methods=["GET"],
            name="account.student",
        ),
        Route(
            "/account/students/{person_id}/edit",
            account.edit_form,
            methods=["GET"],
            name="account.student_edit_form",
        ),
        Route(
            "/account/students/{person_id}/edit",
            account.edit,
            methods=["POST"],
            name="account.student_edit",
        ),
        Route("/text-consent/{token}", consent_links.link, methods=["GET"], name="consent.link"),
        Route(
            "/text-consent/{token}", consent_links.answer, methods=["POST"], name="consent.answer"
        ),
        Route(
            "/text-consent/{token}/new-link",
            consent_links.new_link,
            methods=["POST"],
            name="consent.new_link",
        ),
        Route("/staff/", staff.people, methods=["GET"], name="staff.people"),
        Route("/staff/people/{person_id}", staff.person, methods=["GET"], name="staff.person"),
        Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    if settings.is_development:
        # Only in development: nobody's real mail is ever shown here.
        table += [
            Route("/dev/mailbox", dev.mailbox, methods=["GET"], name="dev.mailbox"),
            Route(
                "/dev/mailbox/{index:int}.html",
                dev.mail_html,
                methods=["GET"],
                name="dev.mail_html",
            ),
        ]
    return table


async def _error_page(request: Request, exc: HTTPException):
    titles = {403: "Not allowed", 404: "Not found", 405: "Not allowed"}
    return render(
        request,
        "errors/error.html",
        status_code=exc.status_code,
        title=titles.get(exc.status_code, "Something went wrong"),
        code=exc.status_code,
    )


def create_app(
    settings: Settings,
    *,
    clock=None,
    transports: dict | None = None,
    start_dispatcher: bool | None = None,
) -> Starlette:
    """Build the portal. Tests pass their own clock, transports, and dispatcher choice."""
    ctx = PortalContext.build(settings, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await ctx.db.connect()
        await ctx.db.check_pragmas()
        if settings.is_development:
            await ctx.db.migrate()
        elif waiting := await migrate.pending(ctx.db):
            raise RuntimeError(f"run `portal migrate` first; pending: {', '.join(waiting)}")
        async with ctx.db.write() as conn:
            await org_rows.ensure(
                conn,
                name=settings.organization_name,
                email=settings.organization_email,
                phone=settings.organization_phone,
                now=to_db(ctx.now()),
            )
        catcher = None
        chosen = transports
        if chosen is None:
            chosen = {}
            if settings.smtp_host:
                chosen["email"] = SmtpTransport.from_settings(settings)
            elif settings.is_development:
                catcher = MailCatcher().start()
                chosen["email"] = SmtpTransport.from_settings(
                    settings, host=catcher.host, port=catcher.port, tls="none"
                )
                log.warning("no SMTP_HOST: mail goes to the local catcher, see /dev/mailbox")
        app.state.mail_catcher = catcher
        app.state.dispatcher = OutboxDispatcher(ctx, chosen)
        run = settings.run_dispatcher if start_dispatcher is None else start_dispatcher
        task = asyncio.create_task(app.state.dispatcher.run_forever()) if run else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if catcher is not None:
                catcher.stop()
            await ctx.db.disconnect()

    app = Starlette(
        routes=routes(settings),
        middleware=[Middleware(SecurityMiddleware, ctx=ctx)],
        exception_handlers={HTTPException: _error_page},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.mail_catcher = None
    return app
