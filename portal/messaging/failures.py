"""Why a message did not go, as a reason code: each provider reads its own stored errors.

Staff see the reason in words (failure_words in templates/_words.html) beside the stored
error itself; nothing above messaging parses a provider's error text.
"""

from __future__ import annotations

from portal.messaging import smtp, twilio


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
