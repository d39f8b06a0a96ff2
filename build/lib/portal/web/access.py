"""Who may open a page: decorators that require a logged-in family member or staff user."""

from __future__ import annotations

import functools
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse


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


def staff_required(view):
    @functools.wraps(view)
    async def wrapper(request: Request):
        account = request.state.account
        if account is None:
            return _to_login(request)
        if account.role != "staff":
            raise HTTPException(403)
        return await view(request)

    return wrapper


def login_required(view):
    @functools.wraps(view)
    async def wrapper(request: Request):
        if request.state.account is None:
            return _to_login(request)
        return await view(request)

    return wrapper
