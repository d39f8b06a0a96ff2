"""Log in, log out, forgotten and reset passwords."""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import links
from portal.accounts import invitations, passwords, sessions
from portal.clock import from_db, to_db
from portal.db import accounts as account_rows
from portal.db import links as link_rows
from portal.i18n.catalogs import mark
from portal.messaging import outbox
from portal.web.access import login_required
from portal.web.pages import client_ip, render, user_agent
from portal.web.security import cookie_name, device_cookie, session_cookie

# Reset emails one account may receive per hour (the screen answers the same either way).
MAX_RESET_EMAILS_PER_HOUR = 3


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a local path: never another host, a scheme, or a protocol-relative //host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ch in target for ch in "\r\n\\"):
        return default
    return target


def home_for(account) -> str:
    return "/staff/" if account.role == "staff" else "/account/settings"


async def home(request: Request) -> Response:
    account = request.state.account
    return RedirectResponse(home_for(account) if account else "/login", status_code=303)


async def login_form(request: Request) -> Response:
    if request.state.account:
        return RedirectResponse(home_for(request.state.account), status_code=303)
    return render(request, "auth/login.html", next=safe_next(request.query_params.get("next"), ""))


async def login(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await request.form()
    email = str(form.get("email", ""))
    next_path = safe_next(str(form.get("next", "")), "")
    result = await sessions.log_in(
        ctx,
        email=email,
        password=str(form.get("password", "")),
        ip=client_ip(request),
        user_agent=user_agent(request),
        device_cookie=request.cookies.get(cookie_name(ctx.settings, sessions.DEVICE_COOKIE)),
    )
    if result.account is None:
        error = mark("That email and password do not match an account.")
        if result.throttled:
            wait = (
                f"{result.retry_after // 60} minutes"
                if result.retry_after >= 120
                else f"{result.retry_after} seconds"
            )
            error = f"Too many attempts. Wait {wait}, or reset your password."
        response = render(
            request,
            "auth/login.html",
            status_code=400 if not result.throttled else 429,
            error=error,
            email=email,
            next=next_path,
        )
        if result.throttled:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    response = RedirectResponse(next_path or home_for(result.account), status_code=303)
    response.set_cookie(**session_cookie(ctx, result.session_id))
    response.set_cookie(**device_cookie(ctx, result.device_token))
    return response


async def logout_form(request: Request) -> Response:
    # GET only shows a button: logging out is a change, and changes are POSTs.
    return render(request, "auth/logout.html")


async def logout(request: Request) -> Response:
    ctx = request.app.state.ctx
    if request.state.session_id:
        await sessions.log_out(ctx, request.state.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.set_cookie(**session_cookie(ctx, None))
    return response


async def forgot_form(request: Request) -> Response:
    return render(request, "auth/forgot.html")


async def forgot(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await request.form()
    email = str(form.get("email", "")).strip().lower()[:320]
    async with ctx.db.write() as conn:
        account = await account_rows.by_email(conn, email) if email else None
        if (
            account is not None
            and not account.disabled
            and await _may_send_reset(ctx, conn, account)
        ):
            link = await ctx.reset_links.issue(conn, account_id=account.id)
            await outbox.queue_email(
                conn,
                ctx,
                template="password_reset",
                to=account.email,
                # Whose login it is: the email goes in their saved language (staff: English).
                person_id=account.person_id,
                email=account.email,
                link_url=ctx.url_for("auth.reset_form", token=link.token),
                minutes=ctx.settings.password_reset_minutes,
            )
    # The same answer whether or not the address has an account, or hit the limit.
    return render(request, "auth/forgot.html", sent=True)


async def _may_send_reset(ctx, conn, account) -> bool:
    """Anyone can ask for a reset email to any address: cap how many one account receives."""
    recent = await link_rows.count_recent(
        conn,
        purpose=links.PASSWORD_RESET,
        person_id=None,
        account_id=account.id,
        since=to_db(ctx.now() - dt.timedelta(hours=1)),
    )
    return recent < MAX_RESET_EMAILS_PER_HOUR


# Two emailed links end in the same form: choose a password. What differs is said here.
@dataclasses.dataclass(frozen=True)
class PasswordLink:
    service: str  # the PortalContext attribute of the link service
    route: str  # the POST that sets the password
    heading: str
    button: str
    expired: str
    used: str
    invalid: str
    other_link_route: str
    other_link_words: str


RESET = PasswordLink(
    service="reset_links",
    route="auth.reset",
    heading=mark("Choose a new password"),
    button=mark("Save password"),
    expired=mark("This password-reset link has expired."),
    used=mark("This password-reset link was already used."),
    invalid=mark("This password-reset link is not valid. It may have been cut short or changed."),
    other_link_route="auth.forgot_form",
    other_link_words=mark("Email me a new link"),
)
INVITATION = PasswordLink(
    service="invitation_links",
    route="auth.invite",
    heading=mark("Create your login"),
    button=mark("Create login"),
    expired=mark("This invitation has expired. Ask for a new one."),
    used=mark("This invitation was already used. Log in with your email and password."),
    invalid=mark("This invitation link is not valid. It may have been cut short or changed."),
    other_link_route="auth.login_form",
    other_link_words=mark("Log in"),
)


async def _link_problem(ctx, conn, kind: PasswordLink, token: str) -> str | None:
    try:
        link = await getattr(ctx, kind.service).check(conn, token)
    except links.LinkExpired:
        return kind.expired
    except links.LinkUsed:
        return kind.used
    except links.LinkInvalid:
        return kind.invalid
    if kind is RESET:
        account = await account_rows.by_id(conn, link.account_id)
        if account is None or account.disabled:
            return kind.invalid
        # A password changed since the link was sent (by its owner, who may have seen it
        # stolen) retires the link: it must not undo that change.
        if from_db(link.created_at) < from_db(account.password_changed_at):
            return mark("This password-reset link is out of date: the password was changed since.")
    return None


def _new_password_problem(form, field: str = "password") -> str | None:
    password = str(form.get(field, ""))
    problem = passwords.problem_with(password)
    if not problem and password != str(form.get(f"{field}_again", "")):
        problem = mark("The two passwords do not match.")
    return problem


def _password_page(request: Request, kind: PasswordLink, token: str, **context) -> Response:
    return render(request, "auth/choose_password.html", kind=kind, token=token, **context)


def _link_problem_page(request: Request, kind: PasswordLink, problem: str) -> Response:
    return render(request, "auth/link_problem.html", status_code=400, kind=kind, problem=problem)


async def _password_link_form(request: Request, kind: PasswordLink) -> Response:
    ctx = request.app.state.ctx
    token = request.path_params["token"]
    async with ctx.db.read() as conn:
        problem = await _link_problem(ctx, conn, kind, token)
    if problem:
        return _link_problem_page(request, kind, problem)
    return _password_page(request, kind, token)


async def _password_link_submit(request: Request, kind: PasswordLink, act) -> Response:
    """Check the link inside the write transaction, then `act(conn, link, password)`."""
    ctx = request.app.state.ctx
    token = request.path_params["token"]
    form = await request.form()
    error = _new_password_problem(form)
    async with ctx.db.write() as conn:
        problem = await _link_problem(ctx, conn, kind, token)
        if problem:
            return _link_problem_page(request, kind, problem)
        if error:
            return _password_page(request, kind, token, error=error, status_code=400)
        service = getattr(ctx, kind.service)
        link = await service.check(conn, token)
        await service.use(conn, link.id, answer="password-set")
        try:
            await act(conn, link, str(form["password"]))
        except invitations.CannotInvite as exc:
            raise _Refused(str(exc)) from exc
    return render(request, "auth/password_set.html", kind=kind)


class _Refused(Exception):
    """The link was fine but the action was refused: its transaction is rolled back."""


async def reset_form(request: Request) -> Response:
    return await _password_link_form(request, RESET)


async def reset(request: Request) -> Response:
    ctx = request.app.state.ctx

    async def set_password(conn, link, password):
        await sessions.set_password(ctx, conn, account_id=link.account_id, new_password=password)

    return await _password_link_submit(request, RESET, set_password)


async def invite_form(request: Request) -> Response:
    return await _password_link_form(request, INVITATION)


async def invite(request: Request) -> Response:
    ctx = request.app.state.ctx

    async def create_login(conn, link, password):
        await invitations.accept(conn, ctx, link=link, password=password)

    try:
        return await _password_link_submit(request, INVITATION, create_login)
    except _Refused as exc:
        return _link_problem_page(request, INVITATION, str(exc))


@login_required
async def password_form(request: Request) -> Response:
    return render(request, "auth/password.html")


@login_required
async def change_password(request: Request) -> Response:
    ctx = request.app.state.ctx
    account = request.state.account
    form = await request.form()
    new = str(form.get("new_password", ""))
    async with ctx.db.read() as conn:
        full = await account_rows.by_id(conn, account.id)
    error = None
    if not passwords.verify(full.password_hash, str(form.get("current_password", ""))):
        error = mark("Your current password is not right.")
    else:
        error = _new_password_problem(form, "new_password")
    if error:
        return render(request, "auth/password.html", status_code=400, error=error)
    async with ctx.db.write() as conn:
        # Every other session ends; this one stays so the person is not thrown out.
        await sessions.set_password(
            ctx,
            conn,
            account_id=account.id,
            new_password=new,
            keep_session_id=request.state.session_id,
        )
    return render(request, "auth/password.html", saved=True)
