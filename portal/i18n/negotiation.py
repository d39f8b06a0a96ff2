"""Which language each request is answered in: the switch's cookie, the person's saved
language, the browser's Accept-Language, else English. Sets `request.state.language`."""

from __future__ import annotations

from http.cookies import SimpleCookie

from babel.core import negotiate_locale
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.i18n import languages

COOKIE = "portal_language"
# A year: the choice outlives sessions, like the browser's own language setting would.
COOKIE_SECONDS = 365 * 24 * 3600
# A browser may send any number of tags; past this many the rest are noise (or an attack).
MAX_TAGS = 20


def from_accept_language(header: str) -> str | None:
    """The first supported language in the browser's order of preference (`es-MX` counts as
    `es`), or None when it names none of them."""
    ranked = []
    for position, item in enumerate(header.split(",")[:MAX_TAGS]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    preferred = [tag for _, _, tag in sorted(ranked)]
    return negotiate_locale(preferred, languages.SUPPORTED, sep="-")


def choose(*, chosen: str | None, saved: str | None, accept_language: str) -> str:
    """The switch in this browser is the newest explicit choice, so it comes first; then the
    language saved for the person; then what the browser asks for; then English."""
    for code in (chosen, saved):
        if code in languages.NAMES:
            return code
    return from_accept_language(accept_language) or languages.DEFAULT


def chosen_in(request: Request) -> str | None:
    """The switch's cookie, when it holds a language the portal speaks."""
    code = request.cookies.get(cookie_name(request.app.state.ctx.settings))
    return code if code in languages.NAMES else None


def prefer_saved(request: Request, saved: str | None) -> None:
    """For a page about one person who is not logged in (the emailed consent link): their
    saved language decides unless this browser's switch already did."""
    request.state.language = choose(
        chosen=chosen_in(request),
        saved=saved,
        accept_language=request.headers.get("accept-language", ""),
    )


def remember(response: Response, settings, language: str | None) -> None:
    """Keep this browser's choice in the switch's cookie; None forgets it (back to the saved
    language or the browser's). Not a session and not consent: only what this browser reads."""
    name = cookie_name(settings)
    secure = settings.public_url.startswith("https://")
    if language is None:
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
        return
    response.set_cookie(
        name,
        language,
        max_age=COOKIE_SECONDS,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def cookie_name(settings) -> str:
    # Same rule as the session cookie: `__Host-` on https, so no subdomain can plant it.
    return f"__Host-{COOKIE}" if settings.public_url.startswith("https://") else COOKIE


class LanguageMiddleware:
    """Sets scope["state"]["language"] for every request. Runs inside SecurityMiddleware, so a
    logged-in person's saved language comes with the session lookup: no query of its own."""

    def __init__(self, app: ASGIApp, settings) -> None:
        self.app = app
        self.cookie = cookie_name(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/static/"):
            state = scope.setdefault("state", {})
            account = state.get("account")
            state["language"] = choose(
                chosen=_cookie(scope, self.cookie),
                saved=account.get("language") if account is not None else None,
                accept_language=_header(scope, b"accept-language"),
            )
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope: Scope, name: str) -> str | None:
    header = _header(scope, b"cookie")
    if name not in header:
        return None
    parsed = SimpleCookie()
    try:
        parsed.load(header)
    except Exception:  # a malformed Cookie header chooses nothing
        return None
    morsel = parsed.get(name)
    return morsel.value if morsel is not None else None
