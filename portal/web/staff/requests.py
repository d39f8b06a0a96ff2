"""Staff: bulk opt-in requests. Choose people by the People filters, see who would get the
CLICK HERE email and who is skipped and why, send in the background, and watch it finish.
"""

from __future__ import annotations

import json
import re
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.clock import to_db
from portal.consent import commands, rules
from portal.db import people as people_rows
from portal.db import request_batches as batch_rows
from portal.people import bulk_requests
from portal.people.bulk_requests import Selection
from portal.web.access import staff_required
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render, user_agent

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _sends(request: Request) -> bulk_requests.Sends:
    """This process's running sends, kept on the app (one per app, made on first use)."""
    state = request.app.state
    if getattr(state, "request_sends", None) is None:
        state.request_sends = bulk_requests.Sends()
    return state.request_sends


def _selection(values) -> Selection:
    """The selection from the form; its defaults until the form was used (`chosen`): everyone
    never asked who has a cell phone and an email."""
    if not values.get("chosen"):
        family = values.get("family")
        return Selection(family_id=parse_id(family) if family else None)
    family = values.get("family")
    return Selection(
        q=" ".join(str(values.get("q", "")).split())[:100],
        status=str(values.get("status", "")) if values.get("status") in rules.STAFF_FILTERS else "",
        family_id=parse_id(family) if family else None,
        with_email=values.get("with_email") == "on",
    )


@staff_required(role="texting")
async def choose(request: Request) -> Response:
    ctx = request.app.state.ctx
    selection = _selection(request.query_params)
    async with ctx.db.read() as conn:
        family = (
            await people_rows.family(conn, selection.family_id) if selection.family_id else None
        )
        if selection.family_id and family is None:
            raise HTTPException(404)
        found = await bulk_requests.preview(conn, selection)
        recent = await batch_rows.recent(conn)
    return render(
        request,
        "staff/requests/choose.html",
        selection=selection,
        family=family,
        filters=rules.STAFF_FILTERS,
        preview=found,
        recent=recent,
        # One per preview: a second click of this Send finds the send the first one started.
        send_token=secrets.token_urlsafe(24),
    )


@staff_required(role="texting")
async def send(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await request.form()
    selection = _selection(form)
    token = str(form.get("send_token", ""))
    if not _TOKEN.match(token):
        raise HTTPException(400)
    async with ctx.db.write() as conn:
        if selection.family_id and await people_rows.family(conn, selection.family_id) is None:
            raise HTTPException(404)
        actor = await commands.actor_for_account(
            conn, request.state.account.id, ip=client_ip(request), user_agent=user_agent(request)
        )
        batch, new = await bulk_requests.start(
            conn, ctx, selection=selection, send_token=token, actor=actor
        )
    if new:
        # Started only after the transaction that records the send has committed.
        _sends(request).start(ctx, batch.id, requested_by=request.state.account.display_name)
    path = request.app.url_path_for("staff.request_batch", batch_id=batch.id)
    return RedirectResponse(f"{path}{'' if new else '?already=1'}", status_code=303)


async def _batch(request: Request):
    async with request.app.state.ctx.db.read() as conn:
        batch = await batch_rows.get(conn, request.path_params["batch_id"])
        if batch is None:
            raise HTTPException(404)
        return batch, await batch_rows.skipped_people(conn, batch.id)


@staff_required(role="texting")
async def batch(request: Request) -> Response:
    """The send's progress, refreshing itself until it is done, then its results."""
    found, skipped = await _batch(request)
    ctx = request.app.state.ctx
    stalled = bulk_requests.stalled(found, ctx.now()) and not _sends(request).running(found.id)
    return render(
        request,
        "staff/requests/batch.html",
        batch=found,
        selection=Selection.from_json(found.criteria),
        reasons=json.loads(found.skipped_reasons),
        skipped=skipped,
        stalled=stalled,
        already=request.query_params.get("already"),
    )


@staff_required(role="texting")
async def resume(request: Request) -> Response:
    """Carry on a send whose process stopped part-way: from the last batch it recorded, so
    nobody already emailed is emailed again."""
    ctx = request.app.state.ctx
    found, _ = await _batch(request)
    if bulk_requests.stalled(found, ctx.now()) and not _sends(request).running(found.id):
        async with ctx.db.write() as conn:
            # Only one claimant wins, even with several processes behind one address.
            claimed = await batch_rows.touch(
                conn, found.id, seen=found.updated_at, now=to_db(ctx.now())
            )
        if claimed:
            _sends(request).start(ctx, found.id, requested_by=request.state.account.display_name)
    path = request.app.url_path_for("staff.request_batch", batch_id=found.id)
    return RedirectResponse(path, status_code=303)
