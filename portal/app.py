"""create_app(settings) -> Starlette: the route table, middleware and lifespan of the portal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from portal.context import PortalContext
from portal.db import migrate, write_unavailable
from portal.dispatcher import OutboxDispatcher
from portal.fakephone import FakePhone
from portal.mail import SmtpTransport
from portal.mailcatcher import MailCatcher
from portal.settings import Settings
from portal.twilio import TwilioTransport
from portal.web import account, auth_views, consent_links, dev, health, staff, webhooks
from portal.web.pages import render
from portal.web.security import SecurityMiddleware

log = logging.getLogger("portal")
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def routes(settings: Settings) -> list:
    """Every route of the portal, by dotted name: the whole surface in one table."""
    G, P = ["GET"], ["POST"]  # GET routes answer HEAD too; only POSTs change anything
    # fmt: off
    table = [
        Route("/", auth_views.home, name="home"),
        Route("/healthz", health.healthz, name="health"),
        Route("/login", auth_views.login_form, methods=G, name="auth.login_form"),
        Route("/login", auth_views.login, methods=P, name="auth.login"),
        Route("/logout", auth_views.logout_form, methods=G, name="auth.logout_form"),
        Route("/logout", auth_views.logout, methods=P, name="auth.logout"),
        Route("/forgot-password", auth_views.forgot_form, methods=G, name="auth.forgot_form"),
        Route("/forgot-password", auth_views.forgot, methods=P, name="auth.forgot"),
        Route("/reset-password/{token}", auth_views.reset_form, methods=G, name="auth.reset_form"),
        Route("/reset-password/{token}", auth_views.reset, methods=P, name="auth.reset"),
        Route("/invite/{token}", auth_views.invite_form, methods=G, name="auth.invite_form"),
        Route("/invite/{token}", auth_views.invite, methods=P, name="auth.invite"),
        Route("/account/password", auth_views.password_form, methods=G,
              name="account.password_form"),
        Route("/account/password", auth_views.change_password, methods=P,
              name="account.password"),
        Route("/account/settings", account.settings, methods=G, name="account.settings"),
        Route("/account/settings/edit", account.edit_form, methods=G,
              name="account.settings_edit_form"),
        Route("/account/settings/edit", account.edit, methods=P,
              name="account.settings_edit"),
        Route("/account/contacts", account.contacts, methods=G, name="account.contacts"),
        Route("/account/contacts/{person_id}/edit", account.edit_form, methods=G,
              name="account.contact_edit_form"),
        Route("/account/contacts/{person_id}/edit", account.edit, methods=P,
              name="account.contact_edit"),
        Route("/account/contacts/{person_id}/invite", account.invite, methods=P,
              name="account.contact_invite"),
        Route("/account/students", account.students, methods=G, name="account.students"),
        Route("/account/students/{person_id}", account.student, methods=G,
              name="account.student"),
        Route("/account/students/{person_id}/edit", account.edit_form, methods=G,
              name="account.student_edit_form"),
        Route("/account/students/{person_id}/edit", account.edit, methods=P,
              name="account.student_edit"),
        Route("/text-consent/{token}", consent_links.link, methods=G, name="consent.link"),
        Route("/text-consent/{token}", consent_links.answer, methods=P, name="consent.answer"),
        Route("/text-consent/{token}/new-link", consent_links.new_link, methods=P,
              name="consent.new_link"),
        # Webhooks: no CSRF token; each checks X-Twilio-Signature before anything else.
        Route("/webhooks/twilio/sms", webhooks.sms, methods=P, name="webhooks.sms"),
        Route("/webhooks/twilio/status", webhooks.status, methods=P, name="webhooks.status"),
        Route("/staff/", staff.people, methods=G, name="staff.people"),
        Route("/staff/people/{person_id}", staff.person, methods=G, name="staff.person"),
        Route("/staff/messages", staff.messages, methods=G, name="staff.messages"),
        Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    if settings.is_development:
        # Only in development: nobody's real mail is ever shown here.
        table += [
            Route("/dev/mailbox", dev.mailbox, methods=G, name="dev.mailbox"),
            Route("/dev/mailbox/{index:int}.html", dev.mail_html, methods=G,
                  name="dev.mail_html"),
            Route("/dev/phone", dev.phone, methods=G, name="dev.phone"),
            Route("/dev/phone", dev.phone_send, methods=P, name="dev.phone_send"),
        ]
    # fmt: on
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


async def _write_unavailable_page(request: Request, exc: sqlite3.OperationalError):
    """A read-only or full database: say so with a 503 (the transaction rolled back, nothing
    changed) instead of a 500, and tell clients when to try again."""
    if not write_unavailable(exc):
        raise exc
    log.error("the database refused a write: %s", exc)
    response = render(
        request, "errors/503.html", status_code=503, title="We cannot save changes right now"
    )
    response.headers["Retry-After"] = "120"
    return response


def create_app(
    settings: Settings,
    *,
    clock=None,
    transports: dict | None = None,
    start_dispatcher: bool | None = None,
) -> Starlette:
    """Build the portal. Tests may pass their own clock, a transport per channel (the rest
    come from settings), and whether the dispatcher runs in the background."""
    ctx = PortalContext.build(settings, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await ctx.db.connect()
        try:
            await ctx.db.check_pragmas()
            if settings.is_development:
                await ctx.db.migrate()
            elif waiting := await migrate.pending(ctx.db):
                raise RuntimeError(f"run `portal migrate` first; pending: {', '.join(waiting)}")
            await ctx.ensure_organization()
        except BaseException:
            # A failed start must let go of the database: its open connections' threads would
            # keep the process alive, listening nowhere, where a supervisor cannot see it.
            await ctx.db.disconnect()
            raise
        catcher = fake_phone = None
        chosen = dict(transports or {})
        if "email" not in chosen:
            if settings.smtp_host:
                chosen["email"] = SmtpTransport.from_settings(settings)
            elif settings.is_development:
                catcher = MailCatcher().start()
                chosen["email"] = SmtpTransport.from_settings(
                    settings, host=catcher.host, port=catcher.port, tls="none"
                )
                log.warning("no SMTP_HOST: mail goes to the local catcher, see /dev/mailbox")
        if "sms" not in chosen:
            if settings.twilio_account_sid:
                chosen["sms"] = TwilioTransport.from_settings(settings)
            elif settings.is_development:
                fake_phone = chosen["sms"] = FakePhone()
                log.warning("no Twilio settings: texts go to the fake phone, see /dev/phone")
        app.state.mail_catcher = catcher
        app.state.fake_phone = fake_phone
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
        exception_handlers={
            HTTPException: _error_page,
            sqlite3.OperationalError: _write_unavailable_page,
        },
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.mail_catcher = None
    app.state.fake_phone = None
    return app
