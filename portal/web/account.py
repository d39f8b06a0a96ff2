"""Account > Settings, Contacts and Students: each person's details and "Allow text messaging?"."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import phones
from portal.accounts import invitations
from portal.consent import commands, rules
from portal.db import accounts as account_rows
from portal.db import people as people_rows
from portal.i18n import negotiation
from portal.i18n.catalogs import mark
from portal.web.access import family_required
from portal.web.forms import PersonForm
from portal.web.ids import parse_id
from portal.web.pages import client_ip, render, user_agent


def _status(request: Request, person) -> rules.TextingStatus:
    return rules.texting_status(person, request.state.account.org_phone)


def _with_status(request: Request, people) -> list[tuple]:
    return [(p, _status(request, p)) for p in people]


async def _person_or_404(conn, request: Request, kind: str):
    """Another family's id answers exactly like an id that does not exist."""
    person_id = parse_id(request.path_params["person_id"])
    person = await people_rows.in_family(conn, request.state.account.family_id, person_id)
    if person is None or person.kind != kind:
        raise HTTPException(404)
    return person


@family_required
async def settings(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        me = await people_rows.in_family(
            conn, request.state.account.family_id, request.state.account.person_id
        )
    return render(
        request,
        "account/settings.html",
        person=me,
        status=_status(request, me),
        saved=request.query_params.get("saved"),
    )


@family_required
async def contacts(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        people = await people_rows.of_family(conn, request.state.account.family_id, "contact")
    return render(
        request,
        "account/contacts.html",
        people=_with_status(request, people),
        saved=request.query_params.get("saved"),
        invited=request.query_params.get("invited"),
    )


@family_required
async def students(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        people = await people_rows.of_family(conn, request.state.account.family_id, "student")
    return render(request, "account/students.html", people=_with_status(request, people))


@family_required
async def student(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        person = await _person_or_404(conn, request, "student")
    return render(
        request,
        "account/student.html",
        person=person,
        status=_status(request, person),
        saved=request.query_params.get("saved"),
    )


# Which kind of person each edit form is for, and the page it returns to.
_EDITS = {
    "settings": ("contact", "account.settings"),
    "contact": ("contact", "account.contacts"),
    "student": ("student", "account.student"),
}


def _back(request: Request, which: str, person) -> str:
    params = {"person_id": person.id} if which == "student" else {}
    return str(request.app.url_path_for(_EDITS[which][1], **params))


def _edit_kind(request: Request) -> str:
    return request.scope["route"].name.split(".")[1].removesuffix("_form").removesuffix("_edit")


@family_required
async def edit_form(request: Request) -> Response:
    ctx = request.app.state.ctx
    which = _edit_kind(request)
    async with ctx.db.read() as conn:
        person = await _load_for_edit(conn, request, which)
    form = PersonForm(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email or "",
        cell_phone=phones.display(person.cell_phone),
        language=person.language,
    )
    status = _status(request, person)
    form.allow_texting = form.allow_texting_was = _switch_on(status)
    return _edit_page(request, which, person, form, status)


def _switch_on(status: rules.TextingStatus) -> bool:
    """The switch shows on while texts are allowed or their owner's Yes is awaited."""
    return status.code in ("allowed", "pending")


@family_required
async def edit(request: Request) -> Response:
    ctx = request.app.state.ctx
    which = _edit_kind(request)
    account = request.state.account
    form = PersonForm.from_form(await request.form(), email_required=which == "settings")
    refusal = None
    try:
        async with ctx.db.write() as conn:
            person = await _load_for_edit(conn, request, which)
            await _check_emails(conn, person, form, account)
            if form.valid:
                # The session's own account row, read with this request: no second read.
                actor = commands.actor_of(
                    account, ip=client_ip(request), user_agent=user_agent(request)
                )
                await commands.update_person(
                    conn,
                    ctx,
                    person=person,
                    edit=form.edit(shown_on=_switch_on(_status(request, person))),
                    actor=actor,
                    # The ledger keeps the language the page with the switch was read in.
                    language=getattr(request.state, "language", "en"),
                )
                if form.language_given:
                    # Language is not consent: saved beside the details, in the same transaction.
                    await people_rows.set_language(conn, person.id, form.language)
                response = RedirectResponse(
                    _back(request, which, person) + "?saved=1", status_code=303
                )
                if which == "settings" and form.language_given:
                    # Their own language shows at once: the switch's cookie, which outranks
                    # the saved language in this browser, follows the new choice.
                    negotiation.remember(response, ctx.settings, form.language)
                return response
    except rules.ConsentError as exc:
        # Raised out of the transaction, so it rolls back: the details are not half-saved.
        refusal = exc
    async with ctx.db.read() as conn:
        person = await _load_for_edit(conn, request, which)
    return _edit_page(
        request, which, person, form, _status(request, person), status_code=400, refusal=refusal
    )


async def _check_emails(conn, person, form: PersonForm, account) -> None:
    """An account holder keeps a login email; only the owner of a login changes its address;
    two contacts never share one."""
    if person.is_account_holder and not form.email and "email" not in form.errors:
        form.errors["email"] = mark("Enter an email address: it is how you log in.")
    if (
        person.has_login
        and person.id != account.person_id
        and (form.clean_email or "").lower() != (person.email or "").lower()
        and "email" not in form.errors
    ):
        form.errors["email"] = (
            f"{person.first_name} logs in with this email address, so only"
            f" {person.first_name} can change it."
        )
    if (
        form.valid
        and form.clean_email
        and person.kind == "contact"
        and (
            await people_rows.email_taken(conn, form.clean_email, except_person_id=person.id)
            or await _account_email_taken(conn, form.clean_email, person.id)
        )
    ):
        form.errors["email"] = mark("Another contact already uses that email address.")


async def _account_email_taken(conn, email: str, person_id: int) -> bool:
    holder = await account_rows.by_email(conn, email)
    return holder is not None and holder.person_id != person_id


async def _load_for_edit(conn, request: Request, which: str):
    if which == "settings":
        account = request.state.account
        return await people_rows.in_family(conn, account.family_id, account.person_id)
    return await _person_or_404(conn, request, _EDITS[which][0])


def _edit_page(request, which, person, form, status, status_code=200, refusal=None) -> Response:
    return render(
        request,
        "account/edit_person.html",
        status_code=status_code,
        refusal=refusal,
        which=which,
        person=person,
        form=form,
        status=status,
        back=_back(request, which, person),
    )


@family_required
async def invite(request: Request) -> Response:
    """Invite another contact of the family to log in for themselves."""
    ctx = request.app.state.ctx
    async with ctx.db.write() as conn:
        person = await _person_or_404(conn, request, "contact")
        try:
            await invitations.invite(
                conn, ctx, person=person, invited_by=request.state.account.display_name
            )
        except invitations.CannotInvite as exc:
            problem = str(exc)
        else:
            return RedirectResponse(
                str(request.app.url_path_for("account.contacts")) + "?invited=1", status_code=303
            )
    async with ctx.db.read() as conn:
        people = await people_rows.of_family(conn, request.state.account.family_id, "contact")
    return render(
        request,
        "account/contacts.html",
        status_code=400,
        people=_with_status(request, people),
        error=problem,
    )
