"""Staff: Conversations. The numbers that texted the organization, newest first; one
number's thread (what it sent us and the texts sent to it) with the people who have it, and a
reply from staff with the texting role, sent only if someone with the number may be texted.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import phones
from portal.db import conversations as conversation_rows
from portal.db import outbox as outbox_rows
from portal.db import people as people_rows
from portal.messaging.mass_texts import BadText
from portal.people import conversations
from portal.web.access import staff_may, staff_required
from portal.web.pages import client_ip, render

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _phone(request: Request) -> str:
    phone = request.path_params["phone"]
    # Only numbers as we store them: E.164 that reads back the same. Anything else is 404.
    if not _E164.fullmatch(phone) or phones.try_normalize(phone) != phone:
        raise HTTPException(404)
    return phone


@staff_required
async def conversations_list(request: Request) -> Response:
    async with request.app.state.ctx.db.read() as conn:
        numbers = await conversation_rows.numbers(conn)
    return render(request, "staff/messages/conversations.html", numbers=numbers)


async def _thread(request: Request, phone: str, status_code: int = 200, **extra) -> Response:
    async with request.app.state.ctx.db.read() as conn:
        people = await people_rows.with_phone(conn, phone)
        received = await conversation_rows.received_from(conn, phone)
        sent = await outbox_rows.texts_to(conn, phone)
    if not people and not received and not sent:
        raise HTTPException(404)
    # One thread, newest first: what the number sent us and what we sent it.
    thread = [("in", m.received_at, m) for m in received]
    thread += [("out", t.created_at, t) for t in sent]
    thread.sort(key=lambda item: item[1], reverse=True)
    person, reason = conversations.addressee(people)
    return render(
        request,
        "staff/messages/conversation.html",
        status_code=status_code,
        phone=phone,
        people=people,
        thread=thread,
        addressee=person,
        reason=reason,
        may_send=staff_may(request.state.account, "texting"),
        **extra,
    )


@staff_required
async def conversation(request: Request) -> Response:
    return await _thread(request, _phone(request), sent=request.query_params.get("sent"))


@staff_required(role="texting")
async def reply(request: Request) -> Response:
    phone = _phone(request)
    form = await request.form()
    body = str(form.get("body", ""))
    try:
        await conversations.reply(
            request.app.state.ctx,
            phone=phone,
            body=body,
            account_id=request.state.account.id,
            ip=client_ip(request),
        )
    except (BadText, conversations.Refused) as refusal:
        return await _thread(request, phone, status_code=400, refusal=refusal, body=body)
    path = request.app.url_path_for("staff.conversation", phone=phone)
    return RedirectResponse(f"{path}?sent=1", status_code=303)
