"""Staff: message templates. Every staff login sees them; the texting role creates, edits
and deletes them. Compose starts from one with `?template=ID`."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.db import message_templates as template_rows
from portal.messaging import message_templates
from portal.messaging.message_templates import BadTemplate
from portal.web.access import staff_may, staff_required
from portal.web.pages import client_ip, render


def _fields(form) -> tuple[str, str, str | None]:
    """Name, body and Spanish body (None when left empty: Spanish readers get the body)."""
    name = " ".join(str(form.get("name", "")).split())
    body_es = str(form.get("body_es", "")).replace("\r\n", "\n")
    return (
        name,
        str(form.get("body", "")).replace("\r\n", "\n"),
        body_es if body_es.strip() else None,
    )


def _to_list(request: Request, done: str) -> Response:
    path = request.app.url_path_for("staff.message_templates")
    return RedirectResponse(f"{path}?done={done}", status_code=303)


async def _page(request: Request, *, status_code=200, form=None, refusal=None) -> Response:
    async with request.app.state.ctx.db.read() as conn:
        templates = await template_rows.all_by_name(conn)
    return render(
        request,
        "staff/messages/templates.html",
        status_code=status_code,
        templates=templates,
        form=form or {},
        refusal=refusal,
        done=request.query_params.get("done"),
        may_edit=staff_may(request.state.account, "texting"),
    )


@staff_required
async def templates(request: Request) -> Response:
    """Every template, and a form to add one (texting role)."""
    return await _page(request)


@staff_required(role="texting")
async def create(request: Request) -> Response:
    form = await request.form()
    name, body, body_es = _fields(form)
    try:
        await message_templates.create(
            request.app.state.ctx,
            name=name,
            body=body,
            body_es=body_es,
            account_id=request.state.account.id,
            ip=client_ip(request),
        )
    except BadTemplate as refusal:
        return await _page(request, status_code=400, form=form, refusal=refusal)
    return _to_list(request, "created")


async def _template(request: Request):
    async with request.app.state.ctx.db.read() as conn:
        found = await template_rows.get(conn, request.path_params["template_id"])
    if found is None:
        raise HTTPException(404)
    return found


@staff_required(role="texting")
async def edit(request: Request) -> Response:
    """The edit form of one template."""
    found = await _template(request)
    return render(request, "staff/messages/template.html", template=found, form=found)


@staff_required(role="texting")
async def save(request: Request) -> Response:
    found = await _template(request)
    form = await request.form()
    name, body, body_es = _fields(form)
    try:
        saved = await message_templates.update(
            request.app.state.ctx,
            found.id,
            name=name,
            body=body,
            body_es=body_es,
            account_id=request.state.account.id,
            ip=client_ip(request),
        )
    except BadTemplate as refusal:
        return render(
            request,
            "staff/messages/template.html",
            status_code=400,
            template=found,
            form=form,
            refusal=refusal,
        )
    if not saved:
        raise HTTPException(404)
    return _to_list(request, "saved")


@staff_required(role="texting")
async def delete(request: Request) -> Response:
    deleted = await message_templates.delete(
        request.app.state.ctx,
        request.path_params["template_id"],
        account_id=request.state.account.id,
        ip=client_ip(request),
    )
    if not deleted:
        raise HTTPException(404)
    return _to_list(request, "deleted")
