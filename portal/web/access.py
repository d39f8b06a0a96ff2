"""Who may open a page: decorators that require a logged-in family member or staff user."""

from __future__ import annotations

import functools
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from portal.web.staff.alert_count import open_alerts


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def family_required(view):
    """The family comes from the session, never from the request (DESIGN.md section 3)."""

    @functools.wraps(view)
    async def wrapper(request: Request):
        account = request.state.account
        if account is None:
            return _to_login(request)
        if account.role != "family" or account.family_id is None:
            raise HTTPException(403)
        return await view(request)

    return wrapper


# What each staff role may do, each including the one before: viewers look, texting staff
# change consent, block, send requests and texts, admins also run settings and staff logins.
STAFF_ROLES = ("viewer", "texting", "admin")


def staff_may(account, role: str) -> bool:
    """Whether a logged-in account is staff with at least `role`."""
    if account is None or account.role != "staff" or account.staff_role not in STAFF_ROLES:
        return False
    return STAFF_ROLES.index(account.staff_role) >= STAFF_ROLES.index(role)


def staff_required(view=None, *, role: str = "viewer"):
    """Staff only (a family login gets 403), with at least `role`: `@staff_required` for any
    staff page, `@staff_required(role="texting")` for one that changes something."""
    if view is None:
        return functools.partial(staff_required, role=role)

    @functools.wraps(view)
    async def wrapper(request: Request):
        account = request.state.account
        if account is None:
            return _to_login(request)
        if not staff_may(account, role):
            raise HTTPException(403)
        # Every staff page's navigation shows the open alerts: counted here, where every
        # staff view passes, so no view can forget it (render() is sync and cannot query).
        request.state.alert_count = await open_alerts(request)
        return await view(request)

    return wrapper


def login_required(view):
    @functools.wraps(view)
    async def wrapper(request: Request):
        if request.state.account is None:
            return _to_login(request)
        return await view(request)

    return wrapper
