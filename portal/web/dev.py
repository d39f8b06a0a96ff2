"""Development-only pages: the mailbox of the local mail catcher."""

from __future__ import annotations

import html
import re

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from portal.web.pages import render

_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escape the text, then make its http(s) addresses clickable."""
    linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html.escape(text))
    return Markup(linked)  # noqa: S704 (every character of the text was escaped first)


async def mailbox(request: Request) -> Response:
    catcher = request.app.state.mail_catcher
    if catcher is None:
        raise HTTPException(404)
    messages = catcher.messages()
    return render(request, "dev/mailbox.html", messages=messages, linkify=linkify)


async def mail_html(request: Request) -> Response:
    """One caught email's HTML part, as a mail client would show it."""
    catcher = request.app.state.mail_catcher
    if catcher is None:
        raise HTTPException(404)
    messages = catcher.messages()
    index = request.path_params["index"]
    if index >= len(messages):
        raise HTTPException(404)
    # The email's own inline styles need a looser policy than our pages.
    return Response(
        messages[index].html,
        media_type="text/html",
        headers={
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
            ),
        },
    )
