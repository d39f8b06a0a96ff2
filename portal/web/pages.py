"""Page rendering: the Jinja2 environment for screens and the one `render` every view calls."""

from __future__ import annotations

from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from portal import phones
from portal.i18n import catalogs, languages, negotiation
from portal.paths import TEMPLATES_DIR
from portal.web.staff import nav as staff_nav


def _organization_name(request: Request) -> dict[str, str]:
    """Every page's header names the organization, logged in or not (no query: the name is
    read with the session, or kept on the context since start)."""
    ctx = request.app.state.ctx
    account = getattr(request.state, "account", None)  # static files have no session state
    if account is not None and account.org_name:
        # Fresh from the database with every logged-in request: a rename by staff (in this
        # process or another) reaches the anonymous pages too.
        ctx.organization_name = account.org_name
    return {"org_name": ctx.organization_name}


templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_organization_name])
templates.env.filters.update({"mask": phones.mask, "phone": phones.display})
catalogs.install(templates.env)


@jinja2.pass_context
def _url_path_for(context: dict, name: str, /, **params: Any) -> str:
    """Links on pages are paths built from route names: they hold whatever host or proxy the
    page was reached through. (Emails, which leave the site, use ctx.url_for instead.)"""
    return str(context["request"].app.url_path_for(name, **params))


templates.env.globals["url_for"] = _url_path_for
templates.env.globals["staff_links"] = staff_nav.links
templates.env.globals["language_names"] = languages.NAMES


# The staff console's Spanish is not written yet (and /dev is a developer's tool): a page half
# in Spanish, half in English reads worse than one in English, so these stay English for now.
ENGLISH_ONLY_AREAS = ("staff/", "dev/")


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    # Static files skip the security middleware, so their error pages have no session state.
    context.setdefault("account", getattr(request.state, "account", None))
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    # Set by @staff_required for staff pages: the count beside Alerts in the navigation.
    context.setdefault("alert_count", getattr(request.state, "alert_count", None))
    # Set by LanguageMiddleware; a refusal made before it ran (a 403, a 500) asks the switch and
    # the browser itself.
    language = getattr(request.state, "language", None) or negotiation.choose(
        chosen=negotiation.chosen_in(request),
        saved=None,
        accept_language=request.headers.get("accept-language", ""),
    )
    if name.startswith(ENGLISH_ONLY_AREAS):
        language = languages.ENGLISH
    context.setdefault("language", language)
    with catalogs.rendering_in(language):
        # TemplateResponse renders here, at once: the whole page is in `language`.
        return templates.TemplateResponse(request, name, context, status_code=status_code)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:400]
