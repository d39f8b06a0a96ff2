"""Why a message did not go, as a reason code: each provider reads its own stored errors.

Staff see the reason in words (failure_words in templates/_words.html) beside the stored
error itself; nothing above messaging parses a provider's error text.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

from portal.messaging import smtp, twilio

# What a provider's status callback says of a text that never reached the phone.
NOT_DELIVERED = ("undelivered", "failed")
DELIVERED = ("delivered", "read")


def reason(channel: str, error: str) -> str:
    """A reason code for an outbox row's last_error: 'invalid_number', 'carrier_opt_out',
    'mail_refused', 'timeout', ... or 'unknown' when no provider recognises it."""
    error = (error or "").strip()
    if not error:
        return "no_error_yet"
    if error.startswith("no provider for"):
        return "no_provider"
    readers = (twilio.failure_reason, smtp.failure_reason)
    if channel == "email":
        readers = readers[::-1]
    for read in readers:
        found = read(error)
        if found:
            return found
    lowered = error.lower()
    if "timeout" in lowered or "timed out" in lowered:
        return "timeout"
    if "connect" in lowered or "connection" in lowered:
        return "connection_refused"
    return "unknown"


def of_text(row) -> str | None:
    """Why a text did not reach the phone (refused when sent, or reported undelivered or
    failed by a status callback), as a reason code; None when it has not failed."""
    if row.status != "failed" and not (
        row.status == "sent" and row.provider_status in NOT_DELIVERED
    ):
        return None
    code = reason("sms", row.last_error)
    return "unknown" if code == "no_error_yet" else code


def tally(rows: Iterable) -> tuple[int, dict[str, int]]:
    """How many texts were delivered, and how many failed for each reason, from rows of
    (status, provider_status, last_error, n)."""
    delivered, failed = 0, collections.Counter()
    for row in rows:
        if row.status == "sent" and row.provider_status in DELIVERED:
            delivered += row.n
        code = of_text(row)
        if code:
            failed[code] += row.n
    return delivered, dict(failed.most_common())
