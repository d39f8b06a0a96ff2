"""The development fake phone: texts the portal sends land here instead of at Twilio.

`/dev/phone` shows what each number received, with its delivery status, and lets you text
the portal as any number, or mark a text delivered, failed or opted out at the carrier; each
goes through the same signed webhook Twilio would call.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import secrets

from portal.messaging import twilio
from portal.messaging.providers import MaySend, Outcome


@dataclasses.dataclass(frozen=True)
class PhoneText:
    at: dt.datetime
    direction: str  # "to phone" (the portal texted it) or "from phone" (it texted the portal)
    body: str
    sid: str


# What marking a text sends, as Twilio's status callback would say it: (MessageStatus,
# ErrorCode). 30003: the handset could not be reached; 21610: it sent STOP to its carrier.
MARKS = {
    "delivered": ("delivered", ""),
    "failed": ("failed", "30003"),
    "carrier_opt_out": ("failed", "21610"),
}


class FakePhone:
    channel = "sms"

    def __init__(self, keep: int = 200) -> None:
        self._texts: dict[str, collections.deque[PhoneText]] = collections.defaultdict(
            lambda: collections.deque(maxlen=keep)
        )
        # Each sent text's number and delivery status, by its sid. Texts start as "sent": the
        # fake phone's buttons say what became of them.
        self._sent: dict[str, tuple[str, str]] = {}

    async def close(self) -> None:
        """The fake phone lives in this process: there is no connection to let go."""

    async def send_batch(self, rows: list, may_send: MaySend | None = None) -> dict[int, Outcome]:
        outcomes = {}
        for row in rows:
            if may_send is not None and not await may_send(row):
                continue
            sid = "SM" + secrets.token_hex(16)
            self._add(row.recipient, "to phone", row.body_text, sid)
            self._sent[sid] = (row.recipient, "sent")
            outcomes[row.id] = Outcome.sent(provider_id=sid, provider_status="sent")
        return outcomes

    def status(self, sid: str) -> str:
        """A sent text's delivery status as the fake phone last reported it."""
        return self._sent[sid][1] if sid in self._sent else ""

    def report_status(
        self, *, callback_url: str, auth_token: str, sid: str, mark: str
    ) -> tuple[dict[str, str], dict[str, str]] | None:
        """The form and headers of the signed status callback Twilio would send when a text
        is marked (`MARKS`); None for a text this phone was not sent or an unknown mark."""
        if sid not in self._sent or mark not in MARKS:
            return None
        number = self._sent[sid][0]
        status, error_code = MARKS[mark]
        params = {
            "MessageSid": sid,
            "AccountSid": "ACdevelopment",
            "MessageStatus": status,
            "To": number,
        }
        if error_code:
            params["ErrorCode"] = error_code
        signed = twilio.signature(auth_token, callback_url, params.items())
        return params, {"X-Twilio-Signature": signed}

    def reported(self, sid: str, status: str) -> None:
        """The portal took the status callback: show the text with its new status."""
        self._sent[sid] = (self._sent[sid][0], status)

    def text_the_portal(
        self, *, webhook_url: str, auth_token: str, from_number: str, to_number: str, body: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The form and headers of the signed webhook Twilio would send for this text, so the
        fake phone goes through the same signature check as a real handset."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "AccountSid": "ACdevelopment",
            "From": from_number,
            "To": to_number,
            "Body": body,
        }
        self._add(from_number, "from phone", body, sid)
        signed = twilio.signature(auth_token, webhook_url, params.items())
        return params, {"X-Twilio-Signature": signed}

    def _add(self, number: str, direction: str, body: str, sid: str) -> None:
        self._texts[number].append(PhoneText(dt.datetime.now(dt.UTC), direction, body, sid))

    def threads(self) -> dict[str, list[PhoneText]]:
        """Each number's texts, newest first; numbers with the newest activity first."""
        threads = {number: list(reversed(texts)) for number, texts in self._texts.items()}
        return dict(sorted(threads.items(), key=lambda item: item[1][0].at, reverse=True))
