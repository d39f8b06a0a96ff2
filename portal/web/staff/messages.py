"""Staff: Messages. Compose a text to one person, a family, a saved list or a group chosen by
the People filters, preview who gets it and who does not and why, send it now or later, and
cancel what has not gone out; below, the texts people sent to the organization's number.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.clock import from_db
from portal.consent import export, rules
from portal.db import inbound as inbound_rows
from portal.db import mass_texts as mass_rows
from portal.db import message_templates as template_rows
from portal.db import people as people_rows
from portal.db import saved_lists as list_rows
from portal.messaging import failures, mass_texts, segments
from portal.messaging.mass_texts import BadText
from portal.people import texting_audience
from portal.people.texting_audience import Audience
from portal.web.access import staff_may, staff_required
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render, templates

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NAMES_SHOWN = 100
REPORT_COLUMNS = ("first_name", "last_name", "phone", "outcome")


def _audience(values) -> Audience:
    person, family, saved = values.get("person"), values.get("family"), values.get("list")
    status = str(values.get("status", ""))
    return Audience(
        person_id=parse_id(person) if person else None,
        family_id=parse_id(family) if family else None,
        list_id=parse_id(saved) if saved else None,
        q=" ".join(str(values.get("q", "")).split())[:100],
        status=status if status in rules.STAFF_FILTERS else "",
    )


async def _audience_label(conn, audience: Audience) -> str:
    """Whom the text is for, in words; 404 for a person, family or list that does not exist."""
    if audience.person_id:
        person = await people_rows.by_id(conn, audience.person_id)
        if person is None:
            raise HTTPException(404)
        return f"{person.first_name} {person.last_name}"
    if audience.family_id:
        family = await people_rows.family(conn, audience.family_id)
        if family is None:
            raise HTTPException(404)
        return f"The {family.name} family"
    if audience.list_id:
        saved = await list_rows.get(conn, audience.list_id)
        if saved is None:
            raise HTTPException(404)
        return f"The list {saved.name}"
    return ""


def _queueing(request: Request) -> mass_texts.Queueing:
    """This process's mass texts being queued, kept on the app (made on first use)."""
    state = request.app.state
    if getattr(state, "mass_text_queueing", None) is None:
        state.mass_text_queueing = mass_texts.Queueing()
    return state.mass_text_queueing


@staff_required
async def messages(request: Request) -> Response:
    """The compose form (texting role), recent mass texts, and texts people sent us."""
    ctx = request.app.state.ctx
    audience = _audience(request.query_params)
    chosen = request.query_params.get("template")
    async with ctx.db.read() as conn:
        label = await _audience_label(conn, audience)
        received = await inbound_rows.recent(conn)
        recent = await mass_rows.recent(conn)
        templates = await template_rows.all_by_name(conn)
        # ?template=ID fills the body without JavaScript; an unknown id is a 404.
        template = await template_rows.get(conn, parse_id(chosen)) if chosen else None
    if chosen and template is None:
        raise HTTPException(404)
    return render(
        request,
        "staff/messages/index.html",
        messages=received,
        recent=recent,
        audience=audience,
        audience_label=label,
        filters=rules.STAFF_FILTERS,
        form={"body": template.body, "body_es": template.body_es or ""} if template else {},
        templates=templates,
        template_id=template.id if template else None,
        may_send=staff_may(request.state.account, "texting"),
    )


def _schedule(ctx, form: FormData) -> dt.datetime | None:
    if form.get("when") != "later":
        return None
    return mass_texts.local_time(ctx, str(form.get("scheduled_for", "")))


def _bodies(form: FormData) -> tuple[str, str | None]:
    """The text and its Spanish version (None when left empty: everyone gets the text)."""
    body = str(form.get("body", "")).replace("\r\n", "\n")
    body_es = str(form.get("body_es", "")).replace("\r\n", "\n")
    return body, body_es if body_es.strip() else None


async def _checked(request: Request, form: FormData, audience: Audience):
    """Everything a Send needs, read from the form and checked; BadText if it may not go."""
    ctx = request.app.state.ctx
    body, body_es = _bodies(form)
    mass_texts.check(body)
    if body_es is not None:
        mass_texts.check(body_es)
    scheduled_for = _schedule(ctx, form)
    async with ctx.db.read() as conn:
        found = await texting_audience.preview(conn, audience)
    # Each text as its person gets it, in their language: the longest is the one measured.
    texts = [
        mass_texts.render(
            mass_texts.body_for(body, body_es, p.language),
            first_name=p.first_name,
            organization=ctx.organization_name,
        )
        for p in found.recipients
    ] or [mass_texts.render(body, first_name="", organization=ctx.organization_name)]
    return body, body_es, scheduled_for, found, mass_texts.check_length(texts)


async def _who(request: Request, form: FormData) -> tuple[Audience, str]:
    audience = _audience(form)
    async with request.app.state.ctx.db.read() as conn:
        return audience, await _audience_label(conn, audience)


async def _refused(
    request: Request, refusal: BadText, form: FormData, audience: Audience, label: str
) -> Response:
    """The compose form again, as it was filled in, with what is wrong; nothing was sent."""
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        received = await inbound_rows.recent(conn)
        recent = await mass_rows.recent(conn)
        templates = await template_rows.all_by_name(conn)
    return render(
        request,
        "staff/messages/index.html",
        status_code=400,
        templates=templates,
        messages=received,
        recent=recent,
        audience=audience,
        audience_label=label,
        filters=rules.STAFF_FILTERS,
        form=form,
        count=segments.count(str(form.get("body", ""))),
        count_es=segments.count(str(form.get("body_es", ""))) if form.get("body_es") else None,
        refusal=refusal,
        may_send=True,
    )


@staff_required(role="texting")
async def preview(request: Request) -> Response:
    """Who will receive the text and who will not, and why, before anything is sent."""
    ctx = request.app.state.ctx
    form = await request.form()
    audience, label = await _who(request, form)
    try:
        body, body_es, scheduled_for, found, longest = await _checked(request, form, audience)
    except BadText as refusal:
        return await _refused(request, refusal, form, audience, label)
    in_spanish = sum(1 for p in found.recipients if p.language == "es")
    return render(
        request,
        "staff/messages/preview.html",
        audience=audience,
        audience_label=label,
        body=body,
        body_es=body_es,
        # Who gets which text: the Spanish one only reaches those whose language is Spanish.
        in_spanish=in_spanish if body_es else 0,
        form=form,
        scheduled_for=scheduled_for,
        urgent=form.get("urgent") == "on",
        due=mass_texts.in_local_time(
            ctx,
            mass_texts.due_at(ctx, scheduled_for=scheduled_for, urgent=form.get("urgent") == "on"),
        ),
        preview=found,
        names_shown=NAMES_SHOWN,
        count=segments.count(body),
        count_es=segments.count(body_es) if body_es else None,
        longest=longest,
        # One per preview: a second click of this Send finds the mass text the first made.
        send_token=secrets.token_urlsafe(24),
    )


@staff_required(role="texting")
async def send(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await request.form()
    token = str(form.get("send_token", ""))
    if not _TOKEN.match(token):
        raise HTTPException(400)
    audience, label = await _who(request, form)
    try:
        body, body_es, scheduled_for, found, _ = await _checked(request, form, audience)
        if not found.recipients:
            raise BadText("nobody")
    except BadText as refusal:
        return await _refused(request, refusal, form, audience, label)
    # The list as it stands now; the dispatcher asks consent again for each text (rule 2).
    recipients = [
        mass_texts.Recipient(
            person_id=p.id, phone=p.cell_phone, first_name=p.first_name, language=p.language
        )
        for p in found.recipients
    ]
    mass_text_id, new = await mass_texts.send(
        ctx,
        _queueing(request),
        body=body,
        body_es=body_es,
        recipients=recipients,
        skipped_reasons=found.skipped_counts,
        skipped_people={r: [p.id for p in rows] for r, rows in found.skipped.items()},
        criteria=audience.to_json(),
        send_token=token,
        urgent=form.get("urgent") == "on",
        scheduled_for=scheduled_for,
        account_id=request.state.account.id,
        ip=client_ip(request),
    )
    path = request.app.url_path_for("staff.mass_text", mass_text_id=mass_text_id)
    return RedirectResponse(f"{path}{'' if new else '?already=1'}", status_code=303)


@staff_required
async def mass_text(request: Request) -> Response:
    """One mass text: what became of its texts, and Cancel while some have not gone out."""
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        found = await mass_rows.get(conn, request.path_params["mass_text_id"])
        if found is None:
            raise HTTPException(404)
        counts = await mass_rows.status_counts(conn, found.id)
        delivered, failed = failures.tally(await mass_rows.outcomes(conn, found.id))
        due = await mass_rows.next_due(conn, found.id)
    return render(
        request,
        "staff/messages/mass_text.html",
        mass_text=found,
        counts=counts,
        delivered=delivered,
        failed=failed,
        due=mass_texts.in_local_time(ctx, from_db(due)) if due else None,
        reasons=json.loads(found.skipped_reasons),
        may_send=staff_may(request.state.account, "texting"),
        already=request.query_params.get("already"),
        cancelled=request.query_params.get("cancelled"),
    )


@staff_required(role="texting")
async def cancel(request: Request) -> Response:
    ctx = request.app.state.ctx
    mass_text_id = request.path_params["mass_text_id"]
    async with ctx.db.read() as conn:
        if await mass_rows.get(conn, mass_text_id) is None:
            raise HTTPException(404)
    await mass_texts.cancel(
        ctx, mass_text_id, account_id=request.state.account.id, ip=client_ip(request)
    )
    path = request.app.url_path_for("staff.mass_text", mass_text_id=mass_text_id)
    return RedirectResponse(f"{path}?cancelled=1", status_code=303)


def _outcome(words, row) -> str:
    """What became of one person's text, in the words the pages use."""
    if row.status == "skipped":
        return f"Skipped: {words.skip_reason_words(row.reason)}"
    said = str(words.text_status_words(row))
    return f"{said}: {row.last_error}" if said == "Failed" and row.last_error else said


@staff_required
async def mass_text_export(request: Request) -> Response:
    """Why didn't they get it: one row per person the mass text meant to reach, as CSV."""
    ctx = request.app.state.ctx
    mass_text_id = request.path_params["mass_text_id"]
    async with ctx.db.read() as conn:
        if await mass_rows.get(conn, mass_text_id) is None:
            raise HTTPException(404)
        rows = await mass_rows.report_rows(conn, mass_text_id)
    words = templates.env.get_template("_words.html").module
    lines = [export.neutral_row(REPORT_COLUMNS)]
    lines += [
        export.neutral_row([r.first_name, r.last_name, r.phone, _outcome(words, r)]) for r in rows
    ]
    return Response(
        export.csv_text(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="mass-text-{mass_text_id}.csv"'},
    )
