"""Twilio webhooks: inbound texts and delivery statuses, each checked by its signature first.

These are the only POSTs without a CSRF token: X-Twilio-Signature, computed over PUBLIC_URL
and every parameter, is their proof of origin. A missing or wrong one changes nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal import phones, texting, twilio
from portal.db import outbox as outbox_rows

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
KNOWN_STATUSES = {
    "accepted",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "receiving",
    "received",
    "read",
    "canceled",
    "scheduled",
}


async def _signed_params(request: Request) -> list[tuple[str, str]] | None:
    """The form's parameters, or None when the signature does not match them."""
    ctx = request.app.state.ctx
    form = await request.form()
    params = [(name, str(value)) for name, value in form.multi_items()]
    url = ctx.settings.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not twilio.signature_is_valid(
        ctx.twilio_auth_token, url, params, request.headers.get("x-twilio-signature")
    ):
        return None
    return params


def _forbidden() -> Response:
    return Response("signature check failed", status_code=403, media_type="text/plain")


async def sms(request: Request) -> Response:
    params = await _signed_params(request)
    if params is None:
        return _forbidden()
    fields = dict(params)
    if not fields.get("MessageSid") or not fields.get("From"):
        return Response("MessageSid and From are required", status_code=400)
    ctx = request.app.state.ctx
    text = texting.InboundText(
        message_sid=fields["MessageSid"][:64],
        from_phone=fields["From"][:32],
        to_phone=fields.get("To", "")[:32],
        body=fields.get("Body", ""),
        opt_out_type=fields.get("OptOutType", "")[:32],
    )
    async with ctx.db.write() as conn:
        await texting.handle_inbound(conn, ctx, text)
    # Answer at once with nothing: any reply goes out through the outbox.
    return Response(EMPTY_TWIML, media_type="text/xml")


async def status(request: Request) -> Response:
    params = await _signed_params(request)
    if params is None:
        return _forbidden()
    fields = dict(params)
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    state = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
    if not sid or state not in KNOWN_STATUSES:
        return Response("MessageSid and a known MessageStatus are required", status_code=400)
    error_code = fields.get("ErrorCode", "")
    ctx = request.app.state.ctx
    async with ctx.db.write() as conn:
        row = await outbox_rows.set_provider_status(
            conn, sid[:64], state, f"Twilio error {error_code}" if error_code else ""
        )
        if error_code == str(twilio.CARRIER_STOP):
            phone = (row.recipient if row else None) or phones.try_normalize(fields.get("To", ""))
            if phone:
                await texting.carrier_stopped(
                    conn, ctx, phone=phone, detail={"message_sid": sid, "status": state}
                )
    return Response(status_code=204)
