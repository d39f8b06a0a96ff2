"""The emailed consent link: CLICK HERE -> a Yes/No page -> one POST that records the answer.

Mail scanners and link previewers open every link in an email, so GET and HEAD only ever
render; the answer is a POST with a CSRF token, accepted once.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal import links
from portal.consent import commands, requests, rules, wording
from portal.db import links as link_rows
from portal.i18n import negotiation
from portal.i18n.catalogs import mark
from portal.web.pages import client_ip, render, user_agent

# The page concerns one person's phone: no caching anywhere, and the token in the URL is
# never sent on to another site. "same-origin", not "no-referrer": under no-referrer a
# browser posts the page's own form with `Origin: null`, which the Origin check must refuse.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}


def _page(request: Request, name: str, status_code: int = 200, **context) -> Response:
    response = render(request, f"consent/{name}.html", status_code=status_code, **context)
    response.headers.update(PRIVATE_HEADERS)
    return response


class _Organization:
    """What base.html needs of the organization, from the joined row."""

    def __init__(self, page) -> None:
        self.name = page.org_name
        self.phone = page.org_phone


def _problem(request: Request, kind: str, page=None, token: str = "") -> Response:
    """Stale, expired, used or invalid: a friendly page that changes nothing."""
    return _page(
        request,
        "problem",
        status_code=200 if kind == "used" else 400,
        kind=kind,
        page=page,
        token=token,
        organization=_Organization(page) if page else None,
    )


def _is_stale(page) -> bool:
    """A later change (portal, staff, STOP, new number) made this link out of date."""
    return page.link_version != page.consent_version or page.link_phone != page.cell_phone


async def _load(request: Request, conn, token: str, *, lock: bool = False):
    """(page row, problem response): exactly one of them is None. One query; `lock` holds the
    link row for the rest of a write transaction."""
    service = request.app.state.ctx.consent_links
    try:
        link_id = service.link_id_of(token)
    except links.LinkExpired:
        return None, await _expired_from_signature(request, conn, token)
    except links.LinkInvalid:
        return None, _problem(request, "invalid")
    page = await link_rows.consent_page(conn, link_id, lock=lock)
    if page is not None:
        # The page is for one person: their saved language, unless this browser chose one.
        negotiation.prefer_saved(request, page.language)
    try:
        service.check_row(page)
    except links.LinkInvalid:
        return None, _problem(request, "invalid")
    except links.LinkExpired:
        return None, _problem(request, "expired", page, token)
    except links.LinkUsed:
        return None, _problem(request, "used", page, token)
    if _is_stale(page) and page.suppressed:
        # The STOP made the link stale, but a new link cannot help: only START can.
        return None, _page(request, "stopped", page=page, organization=_Organization(page))
    if _is_stale(page):
        return None, _problem(request, "stale", page, token)
    return page, None


async def _expired_from_signature(request: Request, conn, token: str) -> Response:
    service = request.app.state.ctx.consent_links
    page = await link_rows.consent_page(conn, service.link_id_of_any_age(token))
    if page is None or page.purpose != service.purpose:
        return _problem(request, "invalid")
    return _problem(request, "expired", page, token)


def _show(request: Request, page, token: str, status_code: int = 200, **extra) -> Response:
    status = rules.texting_status(page, page.org_phone)
    shown = wording.newest(
        page.published_wording_version, page.published_wording, page.published_wording_es
    )
    return _page(
        request,
        "ask",
        status_code=status_code,
        page=page,
        token=token,
        status=status,
        organization=_Organization(page),
        wording=shown.text(
            org_name=page.org_name,
            phone=page.cell_phone,
            language=getattr(request.state, "language", "en"),
        ),
        wording_version=shown.version,
        **extra,
    )


async def link(request: Request) -> Response:
    """GET/HEAD: show the question. Never changes anything (mail scanners open links)."""
    token = request.path_params["token"]
    async with request.app.state.ctx.db.read() as conn:
        page, problem = await _load(request, conn, token)
    return problem or _show(request, page, token)


async def answer(request: Request) -> Response:
    ctx = request.app.state.ctx
    token = request.path_params["token"]
    form = await request.form()
    choice = form.get("answer")
    if choice not in ("yes", "no"):
        async with ctx.db.read() as conn:
            page, problem = await _load(request, conn, token)
        return problem or _show(request, page, token, error=mark("Choose Yes or No."))
    async with ctx.db.write() as conn:
        # Everything is re-checked inside the write transaction: a double click or a replay
        # racing this request finds the link used here, not after the fact.
        page, problem = await _load(request, conn, token, lock=True)
        if problem:
            return problem
        # A person agrees to the wording shown now, and to nothing else: a page opened before
        # staff published a new version (or a form naming another version) is shown again.
        shown = await wording.current(conn)
        if form.get("wording_version", shown.version) != shown.version:
            return _show(
                request,
                page,
                token,
                status_code=409,
                error=mark("The wording changed since this page was opened. Please read it again."),
            )
        # Whom the answer is for comes from the server's link row only, never the form.
        actor = rules.Actor(
            kind="link",
            label=f"{page.first_name} {page.last_name} (emailed link)",
            person_id=page.person_id,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
        try:
            await commands.set_texting(
                conn,
                ctx,
                person_id=page.person_id,
                allow=choice == "yes",
                channel=rules.Channel.EMAIL_LINK,
                actor=actor,
                evidence={"link_id": page.link_id, "answer": choice, "sent_to": page.sent_to},
                wording_version=shown.version,
                # The answer is to the wording in the language the page showed it in.
                language=shown.shown_in(getattr(request.state, "language", "en")),
                record_unchanged=True,
            )
        except rules.StopLocked:
            return _page(
                request, "stopped", status_code=409, page=page, organization=_Organization(page)
            )
        except rules.ConsentError as refusal:
            # Blocked by the office since the email went out (or another refusal): the answer
            # is not recorded, the link stays unused, and the page says why.
            return _page(
                request,
                "problem",
                status_code=409,
                kind="refused",
                refusal=refusal,
                page=page,
                token=token,
                organization=_Organization(page),
            )
        await ctx.consent_links.use(conn, page.link_id, answer=choice)
    return _page(request, "thanks", page=page, choice=choice, organization=_Organization(page))


async def new_link(request: Request) -> Response:
    """Email a fresh link to the address on file. The same answer whether or not one went."""
    ctx = request.app.state.ctx
    service = ctx.consent_links
    token = request.path_params["token"]
    try:
        link_id = service.link_id_of_any_age(token)
    except links.LinkInvalid:
        return _problem(request, "invalid")
    async with ctx.db.write() as conn:
        page = await link_rows.consent_page(conn, link_id)
        if page is None or page.purpose != service.purpose:
            return _problem(request, "invalid")
        await requests.send_fresh_link(conn, ctx, page.person_id)
    return _page(request, "new_link_sent", page=page, organization=_Organization(page))
