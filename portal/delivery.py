"""What a transport reports for one outbox row: sent, retry later, or failed for good."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Outcome:
    kind: str  # sent | retry | failed
    error: str = ""
    provider_id: str | None = None
    provider_status: str | None = None
    error_code: str | None = None  # the provider's own code, e.g. Twilio's 21610

    @classmethod
    def sent(cls, provider_id: str | None = None, provider_status: str | None = None) -> Outcome:
        return cls("sent", provider_id=provider_id, provider_status=provider_status)

    @classmethod
    def retry(cls, error: str) -> Outcome:
        return cls("retry", error=error)

    @classmethod
    def failed(cls, error: str, error_code: str | None = None) -> Outcome:
        return cls("failed", error=error, error_code=error_code)
