"""The one interface every email and SMS provider meets, and what crosses it.

The dispatcher and the rest of the product see only these types: what happened to a message
(`Outcome`), an inbound text (`InboundText`) and a delivery report (`DeliveryReport`). Each
provider turns its own codes into them, so nothing above messaging knows a provider's codes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

# Asked just before each row is handed over; a row it refuses is left out of the outcomes
# (whoever asked records why). Sending a batch takes a while, and a STOP taken meanwhile must
# stop the rest of it for that number.
MaySend = Callable[[Any], Awaitable[bool]]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a provider reports for one outbox row."""

    kind: str  # sent | retry | failed | blocked
    error: str = ""
    provider_id: str | None = None
    provider_status: str | None = None
    # The provider says the recipient opted out with their carrier (a STOP we never heard).
    recipient_opted_out: bool = False
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # The provider asked us to slow down (HTTP 429): try again after this long, and count it
    # as no attempt, since nothing is wrong with the message.
    retry_after: dt.timedelta | None = None

    @classmethod
    def sent(cls, provider_id: str | None = None, provider_status: str | None = None) -> Outcome:
        return cls("sent", provider_id=provider_id, provider_status=provider_status)

    @classmethod
    def retry(cls, error: str) -> Outcome:
        return cls("retry", error=error)

    @classmethod
    def slow_down(cls, error: str, after: dt.timedelta) -> Outcome:
        return cls("retry", error=error, retry_after=after)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        return cls("failed", error=error)

    @classmethod
    def opted_out_at_carrier(cls, error: str, evidence: Mapping[str, Any]) -> Outcome:
        return cls("failed", error=error, recipient_opted_out=True, evidence=evidence)


class Provider(Protocol):
    """Delivers outbox rows of one channel ("email" or "sms")."""

    channel: str

    async def send_batch(
        self, rows: list, may_send: MaySend | None = None
    ) -> dict[int, Outcome]: ...

    async def close(self) -> None:
        """Nothing is due for now: let go of a connection kept between batches, if any."""


class SendGate(Protocol):
    """What the dispatcher asks before and after sending: consent's answers, injected from
    above so that messaging never imports the consent rules."""

    async def may_send(self, conn, row) -> bool: ...

    async def recipient_opted_out(self, conn, ctx, *, phone: str, evidence: Mapping) -> None: ...


@dataclasses.dataclass(frozen=True)
class InboundText:
    """A text someone sent to the organization's number."""

    message_sid: str
    from_phone: str
    to_phone: str
    body: str
    # The reply kind ("opt_out", "opt_in", "help") the provider's own keyword handling
    # already answered, if any; then we send no second reply.
    provider_answered: str = ""
    provider_detail: str = ""  # the provider's own word for it, kept as evidence


@dataclasses.dataclass(frozen=True)
class DeliveryReport:
    """A provider's later word on a sent text (a status callback)."""

    provider_id: str
    status: str
    error: str = ""
    to_phone: str = ""
    recipient_opted_out: bool = False
    evidence: Mapping[str, Any] = dataclasses.field(default_factory=dict)
