"""Steps shared by tests that talk to the portal as Twilio does: settings and signed webhooks."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets

TOKEN = "test-twilio-auth-token"
ORG_NUMBER = "+12015550100"
PAT = "+12015550101"
JORDAN = "+12015550102"


def twilio_signature(url: str, params: dict, token: str = TOKEN) -> str:
    """Computed here as Twilio documents it, independently of portal/twilio.py."""
    data = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def text_in(portal, body: str, from_number: str = PAT, sid: str | None = None, **extra):
    params = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": "ACtest",
        "From": from_number,
        "To": ORG_NUMBER,
        "Body": body,
        **extra,
    }
    url = "http://portal.test/webhooks/twilio/sms"
    return portal.client.post(
        "/webhooks/twilio/sms",
        data=params,
        headers={"X-Twilio-Signature": twilio_signature(url, params)},
    )


def status_in(portal, sid: str, status: str, **extra):
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "ACtest", **extra}
    url = "http://portal.test/webhooks/twilio/status"
    return portal.client.post(
        "/webhooks/twilio/status",
        data=params,
        headers={"X-Twilio-Signature": twilio_signature(url, params)},
    )


def with_twilio(settings, twilio):
    """The test settings, pointed at a fake Twilio on loopback."""
    return dataclasses.replace(
        settings,
        twilio_account_sid="ACtest",
        twilio_auth_token=type(settings.twilio_auth_token)(TOKEN),
        twilio_from_number=ORG_NUMBER,
        twilio_api_url=twilio.url,
    )
