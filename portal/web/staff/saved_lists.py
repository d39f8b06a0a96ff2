"""Staff: saved lists. Every staff login sees them; the texting role creates a list, fills it
from a People search or a person's page, removes people, deletes it, and texts it."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.db import people as people_rows
from portal.db import saved_lists as list_rows
from portal.people import saved_lists, search
from portal.people.saved_lists import BadList
from portal.web.access import staff_may, staff_required
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render

MEMBERS_SHOWN = 500


async def _page(request: Request, *, status_code=200, name="", problem=None) -> Response:
    async with request.app.state.ctx.db.read() as conn:
        lists = await list_rows.all_by_name(conn)
    return render(
        request,
        "staff/lists/index.html",
        status_code=status_code,
        lists=lists,
        list_name=name,
        problem=problem,
        deleted=request.query_params.get("deleted"),
        may_edit=staff_may(request.state.account, "texting"),
    )


@staff_required
async def lists(request: Request) -> Response:
    """Every saved list with how many people are in it, and a form to add one."""
    return await _page(request)


@staff_required(role="texting")
async def create(request: Request) -> Response:
    form = await request.form()
    name = str(form.get("name", ""))
    try:
        list_id = await saved_lists.create(
            request.app.state.ctx,
            name=name,
            account_id=request.state.account.id,
            ip=client_ip(request),
        )
    except BadList as problem:
        return await _page(request, status_code=400, name=name, problem=str(problem))
    path = request.app.url_path_for("staff.saved_list", list_id=list_id)
    return RedirectResponse(path, status_code=303)


async def _list(request: Request):
    async with request.app.state.ctx.db.read() as conn:
        found = await list_rows.get(conn, request.path_params["list_id"])
    if found is None:
        raise HTTPException(404)
    return found


@staff_required
async def saved_list(request: Request) -> Response:
    """One list: its people (archived ones marked), Remove, Text this list, Delete."""
    found = await _list(request)
    async with request.app.state.ctx.db.read() as conn:
        members = await people_rows.in_saved_list(conn, found.id, limit=MEMBERS_SHOWN + 1)
    return render(
        request,
        "staff/lists/list.html",
        saved_list=found,
        members=members[:MEMBERS_SHOWN],
        more=len(members) > MEMBERS_SHOWN,
        added=request.query_params.get("added"),
        removed=request.query_params.get("removed"),
        may_edit=staff_may(request.state.account, "texting"),
    )


def _back(request: Request, list_id: int, note: str) -> Response:
    path = request.app.url_path_for("staff.saved_list", list_id=list_id)
    return RedirectResponse(f"{path}?{note}", status_code=303)


@staff_required(role="texting")
async def add(request: Request) -> Response:
    """Add one person (from their page), or everyone a People search matches (from People),
    to the list chosen in the form."""
    form = await request.form()
    async with request.app.state.ctx.db.read() as conn:
        found = await list_rows.get(conn, parse_id(form.get("list", "")))
    if found is None:
        raise HTTPException(404)
    ctx, account_id, ip = request.app.state.ctx, request.state.account.id, client_ip(request)
    if form.get("person"):
        person_id = parse_id(form.get("person"))
        async with ctx.db.read() as conn:
            if await people_rows.by_id(conn, person_id) is None:
                raise HTTPException(404)
        added = await saved_lists.add_person(ctx, found.id, person_id, account_id=account_id, ip=ip)
    else:
        family = form.get("family")
        criteria = search.read(
            str(form.get("q", "")),
            status=str(form.get("status", "")),
            family_id=parse_id(family) if family else None,
            include_archived=form.get("archived") == "1",
        )
        added = await saved_lists.add_matches(ctx, found.id, criteria, account_id=account_id, ip=ip)
    return _back(request, found.id, f"added={added}")


@staff_required(role="texting")
async def remove(request: Request) -> Response:
    found = await _list(request)
    await saved_lists.remove_person(
        request.app.state.ctx,
        found.id,
        request.path_params["person_id"],
        account_id=request.state.account.id,
        ip=client_ip(request),
    )
    return _back(request, found.id, "removed=1")


@staff_required(role="texting")
async def delete(request: Request) -> Response:
    found = await _list(request)
    await saved_lists.delete(
        request.app.state.ctx,
        found.id,
        account_id=request.state.account.id,
        ip=client_ip(request),
    )
    path = request.app.url_path_for("staff.saved_lists")
    return RedirectResponse(f"{path}?deleted=1", status_code=303)
