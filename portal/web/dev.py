"""Development-only pages: the local mail catcher's mailbox and the fake phone."""

from __future__ import annotations

import html
import re

import httpx
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import phones
from portal.db import organization as org_rows
from portal.db import people as people_rows
from portal.messaging import fakephone
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


async def phone(request: Request) -> Response:
    fake = request.app.state.fake_phone
    if fake is None:
        raise HTTPException(404)
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        people = await people_rows.all_people(conn)
        organization = await org_rows.get(conn)
    numbers = sorted({p.cell_phone for p in people if p.cell_phone})
    return render(
        request,
        "dev/phone.html",
        threads=fake.threads(),
        status_of=fake.status,
        marks=fakephone.MARKS,
        numbers=numbers,
        organization=organization,
        sent=request.query_params.get("sent"),
        marked=request.query_params.get("marked"),
    )


async def phone_send(request: Request) -> Response:
    """Text the portal as any number, through the same signed webhook Twilio calls."""
    fake = request.app.state.fake_phone
    if fake is None:
        raise HTTPException(404)
    ctx = request.app.state.ctx
    form = await request.form()
    number = phones.try_normalize(str(form.get("from", "")))
    body = str(form.get("body", ""))[:1600]
    if not number or not body.strip():
        target = request.app.url_path_for("dev.phone")
        return RedirectResponse(f"{target}?sent=invalid", status_code=303)
    async with ctx.db.read() as conn:
        organization = await org_rows.get(conn)
    webhook_url = ctx.url_for("webhooks.sms")
    params, headers = fake.text_the_portal(
        webhook_url=webhook_url,
        auth_token=ctx.twilio_auth_token,
        from_number=number,
        to_number=organization.phone or ctx.settings.twilio_from_number,
        body=body,
    )
    answer = await _call_webhook(request, webhook_url, params, headers)
    outcome = "ok" if answer.status_code == 200 else f"webhook-{answer.status_code}"
    target = request.app.url_path_for("dev.phone")
    return RedirectResponse(f"{target}?sent={outcome}#n{number[1:]}", status_code=303)


async def phone_mark(request: Request) -> Response:
    """Mark a text delivered, failed or opted out at the carrier, through the same signed
    status callback Twilio calls."""
    fake = request.app.state.fake_phone
    if fake is None:
        raise HTTPException(404)
    ctx = request.app.state.ctx
    form = await request.form()
    sid, mark = str(form.get("sid", "")), str(form.get("mark", ""))
    callback_url = ctx.url_for("webhooks.status")
    signed = fake.report_status(
        callback_url=callback_url, auth_token=ctx.twilio_auth_token, sid=sid, mark=mark
    )
    if signed is None:
        raise HTTPException(400)
    params, headers = signed
    answer = await _call_webhook(request, callback_url, params, headers)
    if answer.status_code == 204:
        fake.reported(sid, params["MessageStatus"])
    outcome = "ok" if answer.status_code == 204 else f"webhook-{answer.status_code}"
    target = request.app.url_path_for("dev.phone")
    return RedirectResponse(f"{target}?marked={outcome}#{sid}", status_code=303)


async def _call_webhook(request: Request, url: str, params: dict, headers: dict):
    """POST to our own webhook as Twilio would, through the app itself."""
    ctx = request.app.state.ctx
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        return await client.post(url, data=params, headers=headers)
