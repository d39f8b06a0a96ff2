"""Staff: families and intake. Any staff may look; the texting role creates and renames
families, takes in contacts and students (with consent at intake and its evidence), edits,
invites, moves students and archives people who have left.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import phones
from portal.accounts.invitations import CannotInvite
from portal.consent import commands, rules
from portal.db import families as family_rows
from portal.db import people as people_rows
from portal.db import staff_actions
from portal.people import families
from portal.web.access import staff_may, staff_required
from portal.web.forms import PersonForm
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render, user_agent


async def _actor(conn, request: Request) -> rules.Actor:
    return await commands.actor_for_account(
        conn, request.state.account.id, ip=client_ip(request), user_agent=user_agent(request)
    )


def _to(request: Request, route: str, saved: str, **params) -> RedirectResponse:
    return RedirectResponse(f"{request.app.url_path_for(route, **params)}?saved={saved}", 303)


async def _family(conn, request: Request):
    family = await people_rows.family(conn, request.path_params["family_id"])
    if family is None:
        raise HTTPException(404)
    return family


async def _member(conn, request: Request):
    """The family and one of its people: another family's person answers 404, like no one."""
    family = await _family(conn, request)
    person = await people_rows.in_family(conn, family.id, request.path_params["person_id"])
    if person is None:
        raise HTTPException(404)
    return family, person


@staff_required
async def family_list(request: Request) -> Response:
    return await _list_page(request)


async def _list_page(request: Request, *, error: str = "", name: str = "") -> Response:
    query = request.query_params
    q = " ".join(query.get("q", "").split())[:100]
    after = families.read_cursor(query.get("after", ""))
    async with request.app.state.ctx.db.read() as conn:
        rows = await family_rows.page(
            conn, name_prefix=q, after=after, limit=families.PAGE_SIZE + 1
        )
    more = len(rows) > families.PAGE_SIZE
    rows = rows[: families.PAGE_SIZE]
    return render(
        request,
        "staff/families/list.html",
        status_code=400 if error else 200,
        rows=rows,
        q=q,
        next_after=families.cursor_of(rows[-1]) if more else None,
        first_page=after is not None,
        may_act=staff_may(request.state.account, "texting"),
        error=error,
        new_name=name,
    )


@staff_required(role="texting")
async def family_create(request: Request) -> Response:
    name = " ".join(str((await request.form()).get("name", "")).split())
    problem = families.family_name_problem(name)
    if problem:
        return await _list_page(request, error=problem, name=name)
    async with request.app.state.ctx.db.write() as conn:
        actor = await _actor(conn, request)
        family_id = await families.create_family(
            conn, request.app.state.ctx, name=name, actor=actor
        )
    return _to(request, "staff.family", "created", family_id=family_id)


async def _family_page_data(conn, request: Request, family) -> dict:
    org_phone = request.state.account.org_phone
    people = [
        (p, rules.texting_status(p, org_phone))
        for p in await people_rows.of_family(conn, family.id)
    ]
    return {
        "family": family,
        "contacts": [(p, s) for p, s in people if p.kind == "contact" and not p.archived_at],
        "students": [(p, s) for p, s in people if p.kind == "student" and not p.archived_at],
        "archived": [(p, s) for p, s in people if p.archived_at],
        "actions": await staff_actions.of_subject(conn, "family", family.id),
        "may_act": staff_may(request.state.account, "texting"),
        "saved": request.query_params.get("saved"),
    }


@staff_required
async def family(request: Request) -> Response:
    async with request.app.state.ctx.db.read() as conn:
        page = await _family_page_data(conn, request, await _family(conn, request))
    return render(request, "staff/families/family.html", **page)


@staff_required(role="texting")
async def family_rename(request: Request) -> Response:
    ctx = request.app.state.ctx
    name = " ".join(str((await request.form()).get("name", "")).split())
    problem = families.family_name_problem(name)
    if not problem:
        async with ctx.db.write() as conn:
            found = await _family(conn, request)
            await families.rename_family(
                conn, ctx, family=found, name=name, actor=await _actor(conn, request)
            )
        return _to(request, "staff.family", "renamed", family_id=found.id)
    async with ctx.db.read() as conn:
        page = await _family_page_data(conn, request, await _family(conn, request))
    return render(
        request, "staff/families/family.html", status_code=400, rename_error=problem, **page
    )


def _intake_page(request: Request, family, form: PersonForm, kind: str, **extra) -> Response:
    return render(
        request,
        "staff/families/add.html",
        status_code=400 if form.errors or extra.get("refusal") else 200,
        family=family,
        form=form,
        kind=kind,
        evidence_types=commands.EVIDENCE_TYPES,
        **extra,
    )


@staff_required(role="texting")
async def add_form(request: Request) -> Response:
    kind = "student" if request.query_params.get("kind") == "student" else "contact"
    async with request.app.state.ctx.db.read() as conn:
        found = await _family(conn, request)
    return _intake_page(request, found, PersonForm(), kind)


@staff_required(role="texting")
async def add(request: Request) -> Response:
    """Take in a contact or a student, with Text Opt-In and its evidence if they agreed."""
    ctx = request.app.state.ctx
    data = await request.form()
    kind = "student" if data.get("kind") == "student" else "contact"
    form = PersonForm.from_form(data, email_required=False)
    opt_in = data.get("text_opt_in") == "on"
    evidence_type, note = str(data.get("evidence_type", "")), str(data.get("note", ""))
    shown = {"text_opt_in": opt_in, "evidence_type": evidence_type, "note": note}
    try:
        async with ctx.db.write() as conn:
            found = await _family(conn, request)
            if form.valid and kind == "contact":
                problem = await families.email_problem(conn, form.clean_email)
                if problem:
                    form.errors["email"] = problem
            if form.valid:
                intake = families.Intake(
                    kind=kind,
                    first_name=form.first_name,
                    last_name=form.last_name,
                    email=form.clean_email if kind == "contact" else None,
                    cell_phone=form.clean_phone,
                    text_opt_in=opt_in,
                    evidence_type=evidence_type,
                    note=note,
                )
                actor = await _actor(conn, request)
                person_id = await families.add_person(
                    conn, ctx, family=found, intake=intake, actor=actor
                )
                return _to(request, "staff.family", f"added-{person_id}", family_id=found.id)
    except rules.ConsentError as refusal:
        # Raised out of the transaction: the new person was rolled back with it.
        return _intake_page(request, found, form, kind, refusal=refusal, **shown)
    return _intake_page(request, found, form, kind, **shown)


def _edit_form_of(person) -> PersonForm:
    return PersonForm(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email or "",
        cell_phone=phones.display(person.cell_phone),
    )


async def _member_page(request: Request, family, person, *, form=None, status_code=200, **extra):
    ctx = request.app.state.ctx
    move_q = " ".join(request.query_params.get("to", "").split())[:100]
    async with ctx.db.read() as conn:
        targets = (
            await family_rows.page(conn, name_prefix=move_q, limit=20)
            if move_q and person.kind == "student"
            else []
        )
    return render(
        request,
        "staff/families/person.html",
        status_code=status_code,
        family=family,
        person=person,
        status=rules.texting_status(person, request.state.account.org_phone),
        form=form or _edit_form_of(person),
        move_q=move_q,
        targets=[t for t in targets if t.id != family.id],
        may_act=staff_may(request.state.account, "texting"),
        saved=request.query_params.get("saved"),
        **extra,
    )


@staff_required
async def member(request: Request) -> Response:
    async with request.app.state.ctx.db.read() as conn:
        found, person = await _member(conn, request)
    return await _member_page(request, found, person)


@staff_required(role="texting")
async def member_edit(request: Request) -> Response:
    """Names, email and cell phone, through update_person with the staff actor."""
    ctx = request.app.state.ctx
    form = PersonForm.from_form(await request.form(), email_required=False)
    refusal = None
    try:
        async with ctx.db.write() as conn:
            found, person = await _member(conn, request)
            if person.kind == "student":  # a student's form has no email field
                form.errors.pop("email", None)
                form.clean_email, form.email = person.email, person.email or ""
            elif person.is_account_holder and not form.email and "email" not in form.errors:
                form.errors["email"] = (
                    f"Enter an email address: {person.first_name} logs in with it."
                )
            elif form.valid and (
                problem := await families.email_problem(conn, form.clean_email, person.id)
            ):
                form.errors["email"] = problem
            if form.valid:
                # Staff do not move the texting switch here (it has its own evidence rules on
                # the person's page): off and off, so only a new number's reset applies (rule 6).
                form.allow_texting = form.allow_texting_was = False
                actor = await _actor(conn, request)
                await families.edit_person(
                    conn, ctx, person=person, edit=form.edit(shown_on=False), actor=actor
                )
                return _to(
                    request,
                    "staff.family_person",
                    "edited",
                    family_id=found.id,
                    person_id=person.id,
                )
    except rules.ConsentError as exc:
        refusal = exc
    async with ctx.db.read() as conn:
        found, person = await _member(conn, request)
    return await _member_page(request, found, person, form=form, status_code=400, refusal=refusal)


@staff_required(role="texting")
async def member_invite(request: Request) -> Response:
    ctx = request.app.state.ctx
    try:
        async with ctx.db.write() as conn:
            found, person = await _member(conn, request)
            by = request.state.account.display_name
            actor = await _actor(conn, request)
            await families.invite(conn, ctx, person=person, actor=actor, by=by)
    except CannotInvite as exc:
        return await _member_page(request, found, person, status_code=400, invite_error=str(exc))
    return _to(request, "staff.family_person", "invited", family_id=found.id, person_id=person.id)


@staff_required(role="texting")
async def member_move(request: Request) -> Response:
    """Move a student to the family chosen by search; their consent does not change."""
    ctx = request.app.state.ctx
    target = str((await request.form()).get("to_family", ""))
    try:
        async with ctx.db.write() as conn:
            found, person = await _member(conn, request)
            try:
                to_family = await people_rows.family(conn, parse_id(target))
            except HTTPException:
                to_family = None
            if to_family is None:
                raise families.Refused("Choose the new family from the search results.")
            actor = await _actor(conn, request)
            await families.move_student(
                conn, ctx, person=person, to_family=to_family, from_family=found, actor=actor
            )
    except families.Refused as exc:
        return await _member_page(request, found, person, status_code=400, move_error=str(exc))
    return _to(request, "staff.family_person", "moved", family_id=to_family.id, person_id=person.id)


@staff_required(role="texting")
async def member_archive(request: Request) -> Response:
    """Archive a person who has left (or bring them back). Their ledger is never touched."""
    ctx = request.app.state.ctx
    archive = (await request.form()).get("archive") == "1"
    async with ctx.db.write() as conn:
        found, person = await _member(conn, request)
        actor = await _actor(conn, request)
        await families.set_archived(conn, ctx, person=person, archived=archive, actor=actor)
    saved = "archived" if archive else "unarchived"
    return _to(request, "staff.family_person", saved, family_id=found.id, person_id=person.id)
