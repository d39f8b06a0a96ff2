"""The "English | Español" switch on every public page: remembers the choice in a cookie.

Not a consent change and not a setting of anyone's: only which language this browser reads.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.i18n import languages, negotiation
from portal.i18n.catalogs import mark
from portal.web.auth_views import safe_next
from portal.web.pages import render


async def choose(request: Request) -> Response:
    form = await request.form()
    back = safe_next(str(form.get("next", "")))
    try:
        code = languages.checked(str(form.get("language", "")))
    except languages.UnknownLanguage:
        return render(
            request,
            "errors/error.html",
            status_code=400,
            title=mark("Unknown language"),
            code=400,
            detail=mark("Choose English or Español."),
        )
    response = RedirectResponse(back, status_code=303)
    negotiation.remember(response, request.app.state.ctx.settings, code)
    return response
