"""Staff: everyone with their Text Opt-In status, searched and filtered, and each person's page.

On a person's page staff with the texting role check or uncheck *Text Opt-In* and *Block
Contact* and click *Save Changes*, or send the CLICK HERE request; admins correct a staff
opt-out made in error, or a stop in plain words that was not one.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.clock import to_db
from portal.consent import commands, requests, rules, wording
from portal.db import inbound as inbound_rows
from portal.db import ledger, people_search, staff_actions
from portal.db import outbox as outbox_rows
from portal.db import people as people_rows
from portal.db import saved_lists as list_rows
from portal.messaging import failures
from portal.people import search
from portal.replies import keywords
from portal.web.access import staff_may, staff_required
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render, user_agent


@staff_required
async def people(request: Request) -> Response:
    query = request.query_params
    family_id = parse_id(query["family"]) if query.get("family") else None
    criteria = search.read(
        query.get("q", ""),
        status=query.get("status", ""),
        family_id=family_id,
        include_archived=query.get("archived") == "1",
    )
    after = search.read_cursor(query.get("after", ""))
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        rows = await people_search.search(conn, criteria, after=after, limit=search.PAGE_SIZE + 1)
        family = await people_rows.family(conn, family_id) if family_id else None
        lists = await list_rows.all_by_name(conn)
    more = len(rows) > search.PAGE_SIZE
    rows = rows[: search.PAGE_SIZE]
    org_phone = request.state.account.org_phone
    return render(
        request,
        "staff/people/list.html",
        rows=[(p, rules.texting_status(p, org_phone)) for p in rows],
        criteria=criteria,
        q=query.get("q", ""),
        family=family,
        filters=rules.STAFF_FILTERS,
        next_after=search.cursor_of(rows[-1]) if more else None,
        first_page=after is not None,
        archived=query.get("archived") == "1",
        lists=lists if staff_may(request.state.account, "texting") else [],
    )


async def _load(conn, request: Request):
    person_id = parse_id(request.path_params["person_id"])
    person = await people_rows.by_id(conn, person_id)
    if person is None:
        raise HTTPException(404)
    return person


@staff_required
async def person(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        subject = await _load(conn, request)
        page = await _person_page_data(conn, request, subject)
    return render(request, "staff/people/person.html", **page)


async def _person_page_data(conn, request: Request, subject, **extra) -> dict:
    events = await ledger.events_of(conn, subject.id)
    number = await ledger.number_events(conn, subject.cell_phone) if subject.cell_phone else []
    history = sorted([*events, *number], key=lambda e: e.id, reverse=True)
    latest_text = (
        await inbound_rows.latest_from(conn, subject.cell_phone) if subject.cell_phone else None
    )
    status = rules.texting_status(subject, request.state.account.org_phone)
    extra.setdefault("submitted", {})
    texts = await outbox_rows.texts_to(conn, subject.cell_phone) if subject.cell_phone else []
    return {
        "correctable": await _correctable(conn, subject, history),
        "person": subject,
        "family": await people_rows.family(conn, subject.family_id),
        "status": status,
        "history": [(e, json.loads(e.evidence)) for e in history],
        "actions": await staff_actions.of_subject(conn, "person", subject.id),
        # Both languages of each version: the history shows the one the person saw.
        "wordings": await wording.every_wording(conn),
        "organization_name": request.app.state.ctx.organization_name,
        "evidence_types": commands.EVIDENCE_TYPES,
        "may_act": staff_may(request.state.account, "texting"),
        "may_correct": staff_may(request.state.account, "admin"),
        # A person who complained of what texts cost gets no goodbye text unless staff insist.
        "complained_of_cost": bool(
            latest_text and keywords.classify(latest_text.body).mentions_cost
        ),
        "askable": requests.why_not_askable(subject) is None,
        "texts": texts,
        "text_failures": {t.id: failures.of_text(t) for t in texts},
        "saved": request.query_params.get("saved"),
        "lists": await list_rows.all_by_name(conn),
        **extra,
    }


async def _correctable(conn, subject, history) -> set[int]:
    """Which history lines an admin may undo: the staff opt-out that is still the person's
    latest word, and the stop in plain words that still holds their number."""
    found = set()
    state = await ledger.state(conn, subject.id) if history else None
    for event in history:
        evidence = json.loads(event.evidence)
        staff_opt_out = event.channel == "staff" and event.new_status == "opted_out"
        if (
            staff_opt_out
            and not evidence.get("blocked")
            and state
            and state.last_event_id == event.id
        ):
            found.add(event.id)
    if subject.cell_phone and subject.suppressed:
        suppression = await ledger.suppression(conn, subject.cell_phone)
        for event in history:
            holds_the_number = event.person_id is None and event.id == suppression.last_event_id
            if holds_the_number and json.loads(event.evidence).get("needs_review"):
                found.add(event.id)
    return found


async def _actor(conn, request: Request) -> rules.Actor:
    return await commands.actor_for_account(
        conn, request.state.account.id, ip=client_ip(request), user_agent=user_agent(request)
    )


def _back(request: Request, person_id: int, saved: str) -> RedirectResponse:
    path = request.app.url_path_for("staff.person", person_id=person_id)
    return RedirectResponse(f"{path}?saved={saved}", status_code=303)


@staff_required(role="texting")
async def save(request: Request) -> Response:
    """*Save Changes*: Block Contact first (a block opts out; an unblock opts nobody in), then
    Text Opt-In. Only a box that was moved counts, and any refusal saves nothing."""
    ctx = request.app.state.ctx
    form = await request.form()
    opt_in, opt_in_was = form.get("text_opt_in") == "on", form.get("text_opt_in_was") == "on"
    blocked, blocked_was = form.get("block") == "on", form.get("block_was") == "on"
    note = str(form.get("note", ""))
    try:
        async with ctx.db.write() as conn:
            subject = await _load(conn, request)
            actor = await _actor(conn, request)
            # A box counts as moved only against both what the page showed and what is true
            # now: a stale page or a forged `_was` field changes nothing.
            opted_in_now = rules.texting_status(subject).code in ("allowed", "pending")
            opt_in_was = opt_in_was if opt_in != opted_in_now else opt_in
            blocked_was = blocked_was if blocked != bool(subject.blocked) else blocked
            if blocked != blocked_was and blocked:
                await commands.block(conn, ctx, person_id=subject.id, actor=actor, reason=note)
            elif blocked != blocked_was:
                await commands.unblock(conn, ctx, person_id=subject.id)
            if blocked != blocked_was:
                await staff_actions.record(
                    conn,
                    account_id=actor.account_id,
                    action="person.block" if blocked else "person.unblock",
                    subject_kind="person",
                    subject_id=subject.id,
                    details={"reason": note.strip()[:500]},
                    ip=actor.ip,
                    now=to_db(ctx.now()),
                )
            if opt_in != opt_in_was and not (blocked and not opt_in):
                await commands.staff_set_texting(
                    conn,
                    ctx,
                    person_id=subject.id,
                    allow=opt_in,
                    actor=actor,
                    evidence_type=str(form.get("evidence_type", "")),
                    note=note,
                    tell_by_text=form.get("tell_by_text") == "on",
                )
            return _back(request, subject.id, "1")
    except rules.ConsentError as refusal:
        async with ctx.db.read() as conn:
            subject = await _load(conn, request)
            submitted = {
                "text_opt_in": opt_in,
                "block": blocked,
                "evidence_type": str(form.get("evidence_type", "")),
            }
            page = await _person_page_data(
                conn, request, subject, refusal=refusal, note=note, submitted=submitted
            )
        return render(request, "staff/people/person.html", status_code=400, **page)


@staff_required(role="texting")
async def send_request(request: Request) -> Response:
    """Email this person the CLICK HERE request, if they can answer one."""
    ctx = request.app.state.ctx
    async with ctx.db.write() as conn:
        subject = await _load(conn, request)
        report = await requests.request_consent(
            conn, ctx, [subject.id], requested_by=request.state.account.display_name
        )
    return _back(request, subject.id, "requested" if report.sent else "not_requested")


async def _event_concerns(conn, event_id: int, subject) -> bool:
    """Whether a ledger event is this person's, or their number's."""
    event = await ledger.event(conn, event_id)
    if event is None:
        return False
    if event.person_id is None:
        return event.phone is not None and event.phone == subject.cell_phone
    return event.person_id == subject.id


@staff_required(role="admin")
async def correct(request: Request) -> Response:
    """Undo a staff opt-out made in error, or a stop in plain words that was not one."""
    ctx = request.app.state.ctx
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    event_id = parse_id(form.get("event_id", ""))
    if not reason:
        async with ctx.db.read() as conn:
            subject = await _load(conn, request)
            page = await _person_page_data(
                conn, request, subject, correction_error="Say why this change was an error."
            )
        return render(request, "staff/people/person.html", status_code=400, **page)
    try:
        async with ctx.db.write() as conn:
            subject = await _load(conn, request)
            actor = await _actor(conn, request)
            undo = (
                commands.not_an_opt_out
                if form.get("kind") == "plain_words_stop"
                else commands.undo_staff_opt_out
            )
            if not await _event_concerns(conn, event_id, subject):
                raise HTTPException(404)  # an event of someone else, through this page
            try:
                await undo(conn, ctx, event_id=event_id, actor=actor, reason=reason)
            except LookupError:
                raise HTTPException(404) from None
            return _back(request, subject.id, "corrected")
    except rules.ConsentError as refusal:
        async with ctx.db.read() as conn:
            subject = await _load(conn, request)
            page = await _person_page_data(conn, request, subject, refusal=refusal)
        return render(request, "staff/people/person.html", status_code=400, **page)
