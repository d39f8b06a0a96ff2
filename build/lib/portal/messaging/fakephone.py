"""The development fake phone: texts the portal sends land here instead of at Twilio.

`/dev/phone` shows what each number received and lets you text the portal as any number;
those texts go through the same signed webhook Twilio would call.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import secrets

from portal.messaging import twilio
from portal.messaging.providers import Outcome


@dataclasses.dataclass(frozen=True)
class PhoneText:
    at: dt.datetime
    direction: str  # "to phone" (the portal texted it) or "from phone" (it texted the portal)
    body: str
    sid: str


class FakePhone:
    channel = "sms"

    def __init__(self, keep: int = 200) -> None:
        self._texts: dict[str, collections.deque[PhoneText]] = collections.defaultdict(
            lambda: collections.deque(maxlen=keep)
        )

    async def send_batch(self, rows: list) -> dict[int, Outcome]:
        outcomes = {}
        for row in rows:
            sid = "SM" + secrets.token_hex(16)
            self._add(row.recipient, "to phone", row.body_text, sid)
            outcomes[row.id] = Outcome.sent(provider_id=sid, provider_status="delivered")
        return outcomes

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
