"""Page rendering: the Jinja2 environment for screens and the one `render` every view calls."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from portal import phones
from portal.paths import TEMPLATES_DIR

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update({"mask": phones.mask, "phone": phones.display})


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    # Static files skip the security middleware, so their error pages have no session state.
    context.setdefault("account", getattr(request.state, "account", None))
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:400]
