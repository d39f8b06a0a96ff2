"""Twilio webhooks: inbound texts and delivery statuses, each checked by its signature first.

These are the only POSTs without a CSRF token: X-Twilio-Signature, computed over PUBLIC_URL
and every parameter, is their proof of origin. A missing or wrong one changes nothing.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from portal.consent import commands
from portal.db import is_unavailable
from portal.db import outbox as outbox_rows
from portal.messaging import twilio
from portal.replies import inbound

log = logging.getLogger("portal.webhooks")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio waits 15 s for an answer. This process's writers get this long to give us a turn,
# and SQLite's busy timeout (5 s) bounds the wait for other processes: past either, the text
# goes to the spool instead.
WRITE_TURN_SECONDS = 5.0


async def _signed_fields(request: Request) -> dict[str, str] | None:
    """The form's fields, or None when the signature does not match them."""
    ctx = request.app.state.ctx
    form = await request.form()
    params = [(name, str(value)) for name, value in form.multi_items()]
    # Twilio signs the URL it called: the public one, not what a proxy handed us.
    url = ctx.settings.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not twilio.signature_is_valid(
        ctx.twilio_auth_token, url, params, request.headers.get("x-twilio-signature")
    ):
        return None
    return dict(params)


def _forbidden() -> Response:
    return Response("signature check failed", status_code=403, media_type="text/plain")


async def sms(request: Request) -> Response:
    fields = await _signed_fields(request)
    if fields is None:
        return _forbidden()
    text = twilio.inbound_text(fields)
    if text is None:
        return Response("MessageSid and From are required", status_code=400)
    ctx = request.app.state.ctx
    try:
        async with ctx.db.write(turn_timeout=WRITE_TURN_SECONDS) as conn:
            await inbound.handle_inbound(conn, ctx, text)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # Recorded as received, on disk, and processed when the database answers: a STOP
        # is never lost to a busy or broken database.
        await request.app.state.inbound_spool.put(text)
        log.warning("inbound text %s spooled: %s", text.message_sid, type(exc).__name__)
    # Answer with nothing: any reply goes out through the outbox.
    return Response(EMPTY_TWIML, media_type="text/xml")


async def status(request: Request) -> Response:
    fields = await _signed_fields(request)
    if fields is None:
        return _forbidden()
    report = twilio.delivery_report(fields)
    if report is None:
        return Response("MessageSid and a known MessageStatus are required", status_code=400)
    ctx = request.app.state.ctx
    async with ctx.db.write() as conn:
        row = await outbox_rows.set_provider_status(
            conn, report.provider_id, report.status, report.error
        )
        if row is None:
            # Not a text we sent (another system on the account, or forged with a stolen
            # token): nothing changes, not even a 21610's opt-out. A 200 stops Twilio retrying.
            log.warning("status callback for unknown message %s ignored", report.provider_id)
            return Response(
                "unknown MessageSid: nothing changed", status_code=200, media_type="text/plain"
            )
        if report.recipient_opted_out:
            await commands.carrier_opt_out(
                conn, ctx, phone=row.recipient, detail=dict(report.evidence)
            )
    return Response(status_code=204)
