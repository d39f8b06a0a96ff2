"""Log in, log out, forgotten and reset passwords."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import auth, invitations, links, outbox, passwords
from portal.db import accounts as account_rows
from portal.web.pages import client_ip, render, user_agent
from portal.web.security import session_cookie


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
    result = await auth.log_in(
        ctx,
        email=email,
        password=str(form.get("password", "")),
        ip=client_ip(request),
        user_agent=user_agent(request),
    )
    if result.account is None:
        error = (
            "Too many attempts. Wait 15 minutes, or reset your password."
            if result.throttled
            else "That email and password do not match an account."
        )
        return render(
            request,
            "auth/login.html",
            status_code=400 if not result.throttled else 429,
            error=error,
            email=email,
            next=next_path,
        )
    response = RedirectResponse(next_path or home_for(result.account), status_code=303)
    response.set_cookie(**session_cookie(ctx, result.session_id))
    return response


async def logout_form(request: Request) -> Response:
    # GET only shows a button: logging out is a change, and changes are POSTs.
    return render(request, "auth/logout.html")


async def logout(request: Request) -> Response:
    ctx = request.app.state.ctx
    if request.state.session_id:
        await auth.log_out(ctx, request.state.session_id)
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
        if account is not None and not account.disabled:
            link = await ctx.reset_links.issue(conn, account_id=account.id)
            await outbox.queue_email(
                conn,
                ctx,
                template="password_reset",
                to=account.email,
                email=account.email,
                link_url=ctx.url(f"/reset-password/{link.token}"),
                minutes=ctx.settings.password_reset_minutes,
            )
    # The same answer whether or not the address has an account.
    return render(request, "auth/forgot.html", sent=True)


async def reset_form(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        problem = await _reset_link_problem(ctx, conn, request.path_params["token"])
    if problem:
        return render(request, "auth/reset_problem.html", status_code=400, problem=problem)
    return render(request, "auth/reset.html", token=request.path_params["token"])


async def reset(request: Request) -> Response:
    ctx = request.app.state.ctx
    token = request.path_params["token"]
    form = await request.form()
    password = str(form.get("password", ""))
    error = passwords.problem_with(password)
    if not error and password != str(form.get("password_again", "")):
        error = "The two passwords do not match."
    async with ctx.db.write() as conn:
        problem = await _reset_link_problem(ctx, conn, token)
        if problem:
            return render(request, "auth/reset_problem.html", status_code=400, problem=problem)
        if error:
            return render(request, "auth/reset.html", status_code=400, token=token, error=error)
        link = await ctx.reset_links.check(conn, token)
        await ctx.reset_links.use(conn, link.id, answer="password-set")
        await auth.set_password(ctx, conn, account_id=link.account_id, new_password=password)
    return render(request, "auth/reset_done.html")


async def _reset_link_problem(ctx, conn, token: str) -> str | None:
    try:
        await ctx.reset_links.check(conn, token)
    except links.LinkExpired:
        return "This password-reset link has expired."
    except links.LinkUsed:
        return "This password-reset link was already used."
    except links.LinkInvalid:
        return "This password-reset link is not valid. It may have been cut short or changed."
    return None


async def password_form(request: Request) -> Response:
    return render(request, "auth/password.html")


async def change_password(request: Request) -> Response:
    ctx = request.app.state.ctx
    account = request.state.account
    form = await request.form()
    new = str(form.get("new_password", ""))
    async with ctx.db.read() as conn:
        full = await account_rows.by_id(conn, account.id)
    error = None
    if not passwords.verify(full.password_hash, str(form.get("current_password", ""))):
        error = "Your current password is not right."
    else:
        error = passwords.problem_with(new)
        if not error and new != str(form.get("new_password_again", "")):
            error = "The two new passwords do not match."
    if error:
        return render(request, "auth/password.html", status_code=400, error=error)
    async with ctx.db.write() as conn:
        # Every other session ends; this one stays so the person is not thrown out.
        await auth.set_password(
            ctx,
            conn,
            account_id=account.id,
            new_password=new,
            keep_session_id=request.state.session_id,
        )
    return render(request, "auth/password.html", saved=True)


async def invite_form(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        problem = await _invitation_problem(ctx, conn, request.path_params["token"])
    if problem:
        return render(
            request, "auth/reset_problem.html", status_code=400, problem=problem, invitation=True
        )
    return render(request, "auth/invite.html", token=request.path_params["token"])


async def invite(request: Request) -> Response:
    ctx = request.app.state.ctx
    token = request.path_params["token"]
    form = await request.form()
    password = str(form.get("password", ""))
    error = passwords.problem_with(password)
    if not error and password != str(form.get("password_again", "")):
        error = "The two passwords do not match."
    async with ctx.db.write() as conn:
        problem = await _invitation_problem(ctx, conn, token)
        if problem:
            return render(
                request,
                "auth/reset_problem.html",
                status_code=400,
                problem=problem,
                invitation=True,
            )
        if error:
            return render(request, "auth/invite.html", status_code=400, token=token, error=error)
        try:
            await invitations.accept(conn, ctx, token=token, password=password)
        except invitations.CannotInvite as exc:
            return render(
                request,
                "auth/reset_problem.html",
                status_code=400,
                problem=str(exc),
                invitation=True,
            )
    return render(request, "auth/reset_done.html", invitation=True)


async def _invitation_problem(ctx, conn, token: str) -> str | None:
    try:
        await ctx.invitation_links.check(conn, token)
    except links.LinkExpired:
        return "This invitation has expired. Ask for a new one."
    except links.LinkUsed:
        return "This invitation was already used. Log in with your email and password."
    except links.LinkInvalid:
        return "This invitation link is not valid. It may have been cut short or changed."
    return None
