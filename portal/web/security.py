"""Request security: the session cookie, session-bound CSRF tokens, and safe headers.

CSRF is fail-closed: every POST is checked here before any view runs, so a new POST route is
protected without anyone remembering to. Only webhooks, which carry their own signature
check, are exempt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.accounts import sessions

CSRF_COOKIE = "portal_csrf"
CSRF_FIELD = "csrf_token"
CSRF_EXEMPT_PREFIXES = ("/webhooks/",)
MAX_FORM_BYTES = 1_000_000
# A file upload (the staff roster import) may be larger: a 50,000-row roster is about 3 MB.
MAX_UPLOAD_BYTES = 20_000_000
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Sent only when PUBLIC_URL is https: a year, renewed on every visit. No includeSubDomains:
# the organization's other hosts are not ours to decide for.
HSTS = "max-age=31536000"
# On every answer, static files and refusals included. No inline script or style anywhere:
# an injected <script> or onclick= does not run.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self';"
    " frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
# Names the portal answers to on a development machine besides PUBLIC_URL's host, so that
# `portal serve --port 8123` works when opened as localhost or 127.0.0.1.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# A load balancer's health check asks each instance by its own address.
HOST_EXEMPT_PATHS = ("/healthz",)
# No session lookup: /healthz must answer 503 itself when the database is unreachable, not
# fail here, before it runs, with a 500.
NO_SESSION_PATHS = ("/healthz",)


def cookie_name(settings, base: str) -> str:
    """With an https PUBLIC_URL the name gets the `__Host-` prefix: browsers then accept the
    cookie only if it is Secure, for Path=/ and without Domain, so neither a sibling subdomain
    nor a plain-http page can plant or overwrite it (session fixation, CSRF cookie tossing)."""
    return f"__Host-{base}" if settings.public_url.startswith("https://") else base


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]`, lowercased, default port dropped; None if it is not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def csrf_token_for(secret: str, binding: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


class SecurityMiddleware:
    """Loads the session's account, checks CSRF on unsafe methods, sets cookies and headers."""

    def __init__(self, app: ASGIApp, ctx) -> None:
        self.app = app
        self.ctx = ctx
        self.secure_cookies = ctx.settings.public_url.startswith("https://")
        self.public_origin = origin_of(ctx.settings.public_url)
        self.session_cookie = cookie_name(ctx.settings, sessions.SESSION_COOKIE)
        self.csrf_cookie = cookie_name(ctx.settings, CSRF_COOKIE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/") or scope["path"] in NO_SESSION_PATHS:
            await self.app(scope, receive, self._with_safe_headers(send))
            return
        # One connection for the whole request: the view's queries reuse it.
        async with self.ctx.db.read() as conn:
            await self._handle(scope, receive, send, conn)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, conn) -> None:
        cookies = _cookies(scope)
        session_id = cookies.get(self.session_cookie, "")
        account = None
        if session_id and len(session_id) < 100:
            account = await sessions.session_account(self.ctx, conn, session_id)
        # A logged-in form is bound to the session; an anonymous one to a random cookie.
        anon = cookies.get(self.csrf_cookie, "")
        new_anon = None
        if account is None and not (16 <= len(anon) <= 64):
            anon = new_anon = secrets.token_urlsafe(24)
        binding = account.session_hash if account else anon
        state = scope.setdefault("state", {})
        state["account"] = account
        state["session_id"] = session_id if account else None
        state["csrf_token"] = csrf_token_for(str(self.ctx.settings.secret_key), binding)

        async def send_with_session_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if new_anon:
                    headers.append("Set-Cookie", self._cookie(self.csrf_cookie, new_anon))
                if account is not None:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        # Refusals below carry the headers too.
        send_with_headers = self._with_safe_headers(send_with_session_headers)

        if scope["method"] in UNSAFE_METHODS and not scope["path"].startswith(CSRF_EXEMPT_PREFIXES):
            if not self._origin_allowed(scope):
                await _forbidden(scope, send_with_headers)
                return
            content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
            upload = content_type.startswith(b"multipart/form-data")
            body = await _read_body(receive, MAX_UPLOAD_BYTES if upload else MAX_FORM_BYTES)
            if body is _TOO_LARGE:
                await _too_large(scope, send_with_headers)
                return
            if body is None or not await _token_matches(scope, body, state["csrf_token"]):
                await _forbidden(scope, send_with_headers)
                return
            receive = _replay(body)

        await self.app(scope, receive, send_with_headers)

    def _with_safe_headers(self, send: Send) -> Send:
        """`send`, with SAFE_HEADERS (and HSTS when the portal is https) on every answer."""

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SAFE_HEADERS.items():
                    headers.setdefault(name, value)
                if self.secure_cookies:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        return send_with_headers

    def _origin_allowed(self, scope: Scope) -> bool:
        """A second lock beside the token: a form posted from another site says so in Origin
        (or, from older browsers, Referer). Absent both, the token alone decides. `null` (a
        sandboxed frame, a file, a redirect across sites) is never ours."""
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is not None:
            claimed = origin_of(origin.decode("latin-1"))
        elif headers.get(b"referer"):
            claimed = origin_of(headers[b"referer"].decode("latin-1"))
        else:
            return True
        if claimed is None:
            return False
        allowed = {self.public_origin}
        if self.ctx.settings.is_development:
            # Served on another address than PUBLIC_URL (`portal serve --port 8123`): the
            # page's own address. Production trusts PUBLIC_URL alone, not a Host header.
            host = headers.get(b"host", b"").decode("latin-1")
            allowed.add(origin_of(f"{scope.get('scheme', 'http')}://{host}"))
        return claimed in allowed

    def _cookie(self, name: str, value: str, max_age: int | None = None) -> str:
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure_cookies:
            parts.append("Secure")
        return "; ".join(parts)


class AllowedHostsMiddleware:
    """Answers 400 to a request whose Host header is not PUBLIC_URL's host (in development,
    loopback names too). Emailed links never come from the Host header (they come from
    PUBLIC_URL), so this is a second lock: a page served under a name that is not ours (DNS
    rebinding onto a development server, a poisoned cache keyed by Host) is refused before it
    reaches a view or the database."""

    def __init__(self, app: ASGIApp, settings) -> None:
        self.app = app
        self.allowed = {urlsplit(settings.public_url).hostname}
        if settings.is_development:
            self.allowed |= LOOPBACK_HOSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] not in HOST_EXEMPT_PATHS
            and host_named(scope) not in self.allowed
        ):
            response = Response(
                "Bad Request: this server does not answer to that host name.",
                status_code=400,
                media_type="text/plain",
                headers=SAFE_HEADERS,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def host_named(scope: Scope) -> str | None:
    """The host name the request's Host header gives, lowercased, without its port."""
    for name, value in scope.get("headers", []):
        if name == b"host":
            try:
                return urlsplit("//" + value.decode("latin-1")).hostname
            except ValueError:
                return None
    return None


def session_cookie(ctx, session_id: str | None) -> dict:
    """Arguments for Response.set_cookie: the session id only, never any data."""
    return {
        "key": cookie_name(ctx.settings, sessions.SESSION_COOKIE),
        "value": session_id or "",
        # The server ends an idle session; the browser keeps the cookie to the absolute end.
        "max_age": ctx.settings.session_max_days * 86400 if session_id else 0,
        "httponly": True,
        "samesite": "lax",
        "secure": ctx.settings.public_url.startswith("https://"),
        "path": "/",
    }


def device_cookie(ctx, value: str) -> dict:
    """Arguments for Response.set_cookie: the signed device id that spares this browser the
    account-wide login delay others' wrong guesses cause (see portal/accounts/sessions.py)."""
    return {
        "key": cookie_name(ctx.settings, sessions.DEVICE_COOKIE),
        "value": value,
        "max_age": sessions.DEVICE_DAYS * 86400,
        "httponly": True,
        "samesite": "lax",
        "secure": ctx.settings.public_url.startswith("https://"),
        "path": "/",
    }


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header counts as no cookies
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


_TOO_LARGE = b"\0too large"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, None if the client went away, or _TOO_LARGE past `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _token_matches(scope: Scope, body: bytes, expected: str) -> bool:
    headers = dict(scope.get("headers", []))
    given = headers.get(b"x-csrf-token", b"").decode("latin-1")
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    if not given and content_type.startswith("application/x-www-form-urlencoded"):
        given = (parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD) or [""])[0]
    elif not given and content_type.startswith("multipart/form-data"):
        # Closed at once: an uploaded file's spooled temporary copy must not outlive the check.
        async with Request(scope, _replay(body)).form() as form:
            given = str(form.get(CSRF_FIELD) or "")
    return bool(given) and hmac.compare_digest(given, expected)


async def _too_large(scope: Scope, send: Send) -> None:
    response = Response(
        "That is more than the portal takes in one form (20 MB for a file). Nothing was saved.",
        status_code=413,
        media_type="text/plain",
    )
    await response(scope, _replay(b""), send)


async def _forbidden(scope: Scope, send: Send) -> None:
    from portal.web.pages import render

    # Refused before the language middleware ran: render() reads the switch and the browser.
    response = render(Request(scope), "errors/403.html", status_code=403, account=None)
    await response(scope, _replay(b""), send)
