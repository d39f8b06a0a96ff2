"""Twilio over HTTP: webhook signatures, and sending texts through its REST API with httpx."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

import httpx

from portal.delivery import Outcome

CARRIER_STOP = 21610  # "Attempt to send to unsubscribed recipient": the handset sent STOP


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """X-Twilio-Signature as Twilio documents it: base64(HMAC-SHA1(token, URL + each POST
    parameter's name and value, sorted by name))."""
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str | None
) -> bool:
    if not auth_token or not given:
        return False
    return hmac.compare_digest(signature(auth_token, url, params), given)


class TwilioTransport:
    """Sends outbox texts through Twilio's Messages API, one request per text."""

    channel = "sms"

    def __init__(
        self,
        *,
        api_url: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_callback: str,
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = f"{api_url}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        self.from_number = from_number
        self.status_callback = status_callback
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings) -> TwilioTransport:
        return cls(
            api_url=settings.twilio_api_url,
            account_sid=settings.twilio_account_sid,
            auth_token=str(settings.twilio_auth_token),
            from_number=settings.twilio_from_number,
            status_callback=settings.public_url + "/webhooks/twilio/status",
        )

    async def send_batch(self, rows: list) -> dict[int, Outcome]:
        outcomes = {}
        async with httpx.AsyncClient(auth=self.auth, timeout=self.timeout) as client:
            for row in rows:
                outcomes[row.id] = await self._send(client, row)
        return outcomes

    async def _send(self, client: httpx.AsyncClient, row) -> Outcome:
        try:
            response = await client.post(
                self.endpoint,
                data={
                    "From": self.from_number,
                    "To": row.recipient,
                    "Body": row.body_text,
                    "StatusCallback": self.status_callback,
                },
            )
        except httpx.HTTPError as exc:  # timeouts and refused connections: try again later
            return Outcome.retry(f"{type(exc).__name__}: {exc}")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 500:
            return Outcome.retry(f"Twilio {response.status_code}")
        if response.status_code >= 400:
            code = answer.get("code")
            return Outcome.failed(
                f"Twilio {response.status_code} {code}: {answer.get('message', '')}",
                error_code=str(code) if code else None,
            )
        return Outcome.sent(provider_id=answer.get("sid"), provider_status=answer.get("status"))
