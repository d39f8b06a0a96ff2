"""Staff: the list of everyone with their Text Opt-In status, and each person's page."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from portal.consent import rules
from portal.db import ledger
from portal.db import people as people_rows
from portal.web.access import staff_required
from portal.web.ids import parse_id
from portal.web.pages import render


@staff_required
async def people(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        everyone = await people_rows.all_people(conn)
    org_phone = request.state.account.org_phone
    rows = [(p, rules.texting_status(p, org_phone)) for p in everyone]
    return render(request, "staff/people.html", rows=rows)


@staff_required
async def person(request: Request) -> Response:
    ctx = request.app.state.ctx
    person_id = parse_id(request.path_params["person_id"])
    async with ctx.db.read() as conn:
        subject = await people_rows.by_id(conn, person_id)
        if subject is None:
            raise HTTPException(404)
        events = await ledger.events_of(conn, person_id)
    history = [(event, json.loads(event.evidence)) for event in events]
    return render(
        request,
        "staff/person.html",
        person=subject,
        history=history,
        status=rules.texting_status(subject, request.state.account.org_phone),
    )
