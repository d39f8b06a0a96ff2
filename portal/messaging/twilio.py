"""Twilio over HTTP: sending texts through its REST API with httpx, and reading its webhooks.

Everything that knows Twilio's field names and error codes is here: the rest of the product
gets `Outcome`, `InboundText` and `DeliveryReport` (messaging/providers.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import email.utils
import hashlib
import hmac
import re
from collections.abc import Iterable

import httpx

from portal.messaging.providers import DeliveryReport, InboundText, MaySend, Outcome

CARRIER_STOP = "21610"  # "Attempt to send to unsubscribed recipient": the handset sent STOP
# How long texts wait after Twilio did not answer one (a timeout, a refused connection).
UNANSWERED = dt.timedelta(seconds=15)
KNOWN_STATUSES = frozenset(
    {
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
)


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


class TwilioProvider:
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
        messaging_service_sid: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = f"{api_url}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        # A Messaging Service picks the sending number from its pool; otherwise our one number.
        self.sender = (
            {"MessagingServiceSid": messaging_service_sid}
            if messaging_service_sid
            else {"From": from_number}
        )
        self.status_callback = status_callback
        self.timeout = timeout
        # One client while texts flow: building one (its TLS context above all) for every
        # batch cost more than the texts' own requests. Kept per event loop, as httpx needs.
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings, *, status_callback: str) -> TwilioProvider:
        return cls(
            api_url=settings.twilio_api_url,
            account_sid=settings.twilio_account_sid,
            auth_token=str(settings.twilio_auth_token),
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback=status_callback,
        )

    async def close(self) -> None:
        """Close the kept HTTP client (the dispatcher calls this when nothing is due)."""
        client, self._client, self._client_loop = self._client, None, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(RuntimeError):  # its loop is gone: nothing left to close
                await client.aclose()

    def _client_for_this_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(auth=self.auth, timeout=self.timeout)
            self._client_loop = loop
        return self._client

    async def send_batch(self, rows: list, may_send: MaySend | None = None) -> dict[int, Outcome]:
        outcomes = {}
        client = self._client_for_this_loop()
        for n, row in enumerate(rows):
            if may_send is not None and not await may_send(row):
                continue
            try:
                response = await self._post(client, row)
            except httpx.HTTPError as exc:  # timeouts and refused connections: try again later
                outcomes[row.id] = Outcome.retry(f"{type(exc).__name__}: {exc}")
                # The rest wait, unsent, rather than each waiting out its own timeout: a
                # batch that outlived its lease would be sent by another dispatcher as well.
                held = Outcome.slow_down(f"held back: {outcomes[row.id].error}", UNANSWERED)
                outcomes.update({waiting.id: held for waiting in rows[n + 1 :]})
                break
            outcome = outcomes[row.id] = _outcome(response)
            if outcome.retry_after is not None:
                # Twilio said too many: the rest of the batch waits as long, unsent.
                outcomes.update({waiting.id: outcome for waiting in rows[n + 1 :]})
                break
        return outcomes

    async def _post(self, client: httpx.AsyncClient, row) -> httpx.Response:
        return await client.post(
            self.endpoint,
            data={
                **self.sender,
                "To": row.recipient,
                "Body": row.body_text,
                "StatusCallback": self.status_callback,
            },
        )


def _outcome(response: httpx.Response) -> Outcome:
    """What Twilio's answer to one text means for its outbox row."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code == 429:
        return Outcome.slow_down(
            "Twilio 429: too many requests", retry_after(response.headers.get("Retry-After"))
        )
    if response.status_code >= 500:
        return Outcome.retry(f"Twilio {response.status_code}")
    if response.status_code >= 400:
        code = str(answer.get("code") or "")
        error = f"Twilio {response.status_code} {code}: {answer.get('message', '')}"
        if code == CARRIER_STOP:
            return Outcome.opted_out_at_carrier(error, {"error_code": code})
        return Outcome.failed(error)
    return Outcome.sent(provider_id=answer.get("sid"), provider_status=answer.get("status"))


def retry_after(header: str | None, *, now: dt.datetime | None = None) -> dt.timedelta:
    """How long a 429's Retry-After asks us to wait (seconds or an HTTP date); a second
    when it says nothing usable, at most an hour."""
    wait = 1.0
    if header and header.strip().isdigit():
        wait = float(header.strip())
    elif header:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            wait = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    return dt.timedelta(seconds=min(max(wait, 1.0), 3600.0))


# What Twilio's OptOutType says it did, in the product's own reply kinds.
_OPT_OUT_TYPES = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}


def inbound_text(fields: dict[str, str]) -> InboundText | None:
    """An inbound-text webhook's fields (already signature-checked), or None if incomplete."""
    if not fields.get("MessageSid") or not fields.get("From"):
        return None
    return InboundText(
        message_sid=fields["MessageSid"][:64],
        from_phone=fields["From"][:32],
        to_phone=fields.get("To", "")[:32],
        body=fields.get("Body", ""),
        # Twilio sets OptOutType when its own Advanced Opt-Out already answered the keyword.
        provider_answered=_OPT_OUT_TYPES.get(fields.get("OptOutType", "").strip().upper(), ""),
        provider_detail=fields.get("OptOutType", "")[:32],
    )


def delivery_report(fields: dict[str, str]) -> DeliveryReport | None:
    """A status callback's fields (already signature-checked), or None if unusable."""
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
    if not sid or status not in KNOWN_STATUSES:
        return None
    code = fields.get("ErrorCode", "")
    return DeliveryReport(
        provider_id=sid[:64],
        status=status,
        error=f"Twilio error {code}" if code else "",
        to_phone=fields.get("To", "")[:32],
        recipient_opted_out=code == CARRIER_STOP,
        evidence={"error_code": code, "message_sid": sid[:64], "status": status} if code else {},
    )


# Twilio error codes staff may meet on the Alerts page, as the product's failure reasons
# (their words are failure_words in templates/_words.html).
_FAILURE_REASONS = {
    "21211": "invalid_number",  # Invalid 'To' phone number
    "21614": "landline",  # 'To' number is not a valid mobile number
    CARRIER_STOP: "carrier_opt_out",
    "21612": "unreachable",  # cannot route to this number
    "30003": "unreachable",  # handset off or out of coverage
    "30004": "blocked_by_recipient",
    "30005": "unknown_number",  # the number does not exist (any more)
    "30006": "landline",  # landline or unreachable carrier
    "30007": "carrier_filtered",  # the carrier's spam filter
    "30008": "unknown",
    "30034": "unregistered_sender",  # A2P 10DLC: the sending number is not registered
}
_ERROR_CODE = re.compile(r"^Twilio (?:error |\d{3} )(\d{5})\b")


def failure_reason(error: str) -> str | None:
    """The reason code for an error this module stored (send refusals and status callbacks),
    or None when the error is not Twilio's."""
    match = _ERROR_CODE.match(error)
    if match:
        return _FAILURE_REASONS.get(match.group(1), "provider_refused")
    if re.match(r"^Twilio 5\d\d\b", error):
        return "provider_down"
    if re.match(r"^Twilio 4\d\d\b", error):
        return "provider_refused"
    return None
