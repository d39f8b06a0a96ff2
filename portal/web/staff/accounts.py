"""Staff: staff logins, for admins. List, invite, change a role, disable and enable."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.accounts import staff
from portal.db import accounts as account_rows
from portal.web.access import staff_required
from portal.web.pages import client_ip, render


async def _page(request: Request, *, status_code: int = 200, **context) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        logins = await account_rows.staff_logins(conn)
    context.setdefault("form", {})
    return render(
        request,
        "staff/accounts/index.html",
        status_code=status_code,
        logins=logins,
        roles=staff.ROLES,
        done=request.query_params.get("done", ""),
        **context,
    )


def _back(request: Request, done: str, *, home: bool = False) -> RedirectResponse:
    route = "staff.dashboard" if home else "staff.accounts"
    return RedirectResponse(request.url_for(route).path + f"?done={done}", status_code=303)


@staff_required(role="admin")
async def accounts(request: Request) -> Response:
    return await _page(request)


@staff_required(role="admin")
async def create(request: Request) -> Response:
    """Invite a new staff login: it exists at once, and can log in once its owner has chosen a
    password through the emailed link."""
    ctx = request.app.state.ctx
    form = await request.form()
    fields = {k: str(form.get(k, ""))[:320] for k in ("email", "name", "role")}
    try:
        async with ctx.db.write() as conn:
            await staff.invite(conn, ctx, **fields, by=request.state.account, ip=client_ip(request))
    except staff.StaffRefused as exc:
        return await _page(request, status_code=400, error=str(exc), form=fields)
    return _back(request, "invited")


@staff_required(role="admin")
async def update(request: Request) -> Response:
    """One change to one login, named by the button pressed: a role, disable, enable, or a
    new invitation. Refusals (the last admin) come back as the page with the reason."""
    ctx = request.app.state.ctx
    account_id = request.path_params["account_id"]
    form = await request.form()
    action = str(form.get("action", ""))
    me, ip = request.state.account, client_ip(request)
    try:
        async with ctx.db.write() as conn:
            if action == "role":
                role = str(form.get("role", ""))
                await staff.change_role(conn, ctx, account_id=account_id, role=role, by=me, ip=ip)
            elif action in {"disable", "enable"}:
                disabled = action == "disable"
                await staff.set_disabled(
                    conn, ctx, account_id=account_id, disabled=disabled, by=me, ip=ip
                )
            elif action == "invite":
                await staff.resend_invitation(conn, ctx, account_id=account_id, by=me, ip=ip)
            else:
                raise HTTPException(400)
    except staff.StaffRefused as exc:
        return await _page(request, status_code=400, error=str(exc))
    except LookupError:
        raise HTTPException(404) from None
    if account_id == me.id and action == "disable":
        return RedirectResponse(request.url_for("auth.login_form").path, status_code=303)
    # An admin who gave up the admin role may no longer open this page.
    gave_up_admin = action == "role" and str(form.get("role")) != "admin"
    return _back(request, action, home=account_id == me.id and gave_up_admin)
