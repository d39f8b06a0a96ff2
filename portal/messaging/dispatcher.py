"""The outbox dispatcher: leases due rows, hands them to providers, records each outcome.

Several dispatchers may share one queue: a row is leased (owner + lease_until) in a short
transaction, delivered outside any transaction, and its outcome written only by the lease
owner. A dispatcher that dies leaves its lease to expire; the row is then picked up again and
keeps its Message-ID, so a receiving server can recognise the retry.

Texts are paced: at most SMS_PER_SECOND are handed to the SMS provider in each second of the
(injected) clock, keyword replies first, and none while the provider has asked us to slow
down (an HTTP 429). Texts over the pace are simply not leased yet; they wait, due, in the
queue. The pace is per dispatcher: several workers sharing one sender number should share
the rate between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.db import outbox as outbox_rows
from portal.messaging.providers import Outcome, Provider, SendGate

if TYPE_CHECKING:
    from portal.context import PortalContext

log = logging.getLogger("portal.dispatcher")

LEASE = dt.timedelta(minutes=2)
BATCH = 50
# Emails go in bigger batches: each costs a lease, a consent read and a commit, and 100 take
# well under a second over a working connection. A server slow enough (over a second a
# message) to outlast the lease would be cut off by our SMTP timeout first on a stall.
EMAIL_BATCH = 100
MAX_ATTEMPTS = 25
# How often an idle dispatcher looks for rows it was not woken for (queued by another process,
# or come due). A look is a read, not a write: it leases only when something is due.
POLL_SECONDS = 0.25
# Under `portal serve` the longest a round waits for the requests being answered to finish:
# texts and emails still go out within seconds through a burst of webhooks.
YIELD_SECONDS = 0.5


@dataclasses.dataclass
class _Writes:
    """A round's outcomes as the rows they change: (id, ...) tuples per kind of outcome."""

    now: dt.datetime
    sent: list = dataclasses.field(default_factory=list)
    later: list = dataclasses.field(default_factory=list)
    retries: list = dataclasses.field(default_factory=list)
    final: list = dataclasses.field(default_factory=list)
    carrier_stops: list = dataclasses.field(default_factory=list)  # (phone, evidence)


def backoff(attempts: int) -> dt.timedelta:
    """15 s, 30 s, 1 min, ... capped at one hour between tries."""
    return dt.timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


class OutboxDispatcher:
    def __init__(self, ctx: PortalContext, providers: dict[str, Provider], gate: SendGate) -> None:
        self.ctx = ctx
        self.providers = providers  # channel ("email", "sms") -> provider
        self.gate = gate
        self.owner = f"dispatcher-{secrets.token_hex(4)}"
        self.sms_second: int | None = None  # the clock second texts were last handed over in
        self.sms_in_second = 0  # how many texts were handed over in it
        self.sms_paused_until: dt.datetime | None = None  # a 429's Retry-After

    def _sms_budget(self, now: dt.datetime) -> int:
        """How many more texts may go to the provider in this second of the clock."""
        if self.sms_paused_until is not None and now < self.sms_paused_until:
            return 0
        second = int(now.timestamp())
        if second != self.sms_second:
            self.sms_second, self.sms_in_second = second, 0
        return max(min(self.ctx.settings.sms_per_second - self.sms_in_second, BATCH), 0)

    async def run_once(self) -> int:
        """One round: deliver what is due now and write the outcomes, keeping connections
        open for more; returns how many rows were handled."""
        return await self._run_rounds(1)

    async def _let_requests_go(self) -> None:
        await self.ctx.foreground.quiet(YIELD_SECONDS)

    async def _run_rounds(
        self, max_rounds: int, *, before_lease: Callable[[], Awaitable[None]] | None = None
    ) -> int:
        """Rounds until nothing is due, each round's outcomes written while the next round is
        on the wire; returns how many rows were handled. Every round's outcomes are written
        before this returns, and before any text is leased after a carrier STOP (which must be
        in the ledger before the next text is asked about)."""
        total = 0
        writing: asyncio.Task | None = None
        try:
            for _ in range(max_rounds):
                if before_lease is not None:
                    await before_lease()
                rows = await self._lease()
                if not rows:
                    break
                outcomes = await self._deliver(rows)
                if writing is not None:
                    await writing  # the round before, written meanwhile
                writes = self._writes(rows, outcomes)
                writing = asyncio.create_task(self._write(writes))
                if writes.carrier_stops:
                    await writing
                total += len(rows)
        finally:
            # Cancelled (shutting down) or failed: outcomes already known are still written,
            # and a write that failed is raised, not left unread in its finished task.
            if writing is not None:
                await writing
        return total

    async def _lease(self) -> list:
        now = self.ctx.now()
        limits = {"email": EMAIL_BATCH, "sms": self._sms_budget(now)}
        rows = []
        async with self.ctx.db.write() as conn:
            for channel, limit in limits.items():
                if limit:
                    rows += await outbox_rows.lease_due(
                        conn,
                        owner=self.owner,
                        now=to_db(now),
                        lease_until=to_db(now + LEASE),
                        limit=limit,
                        channel=channel,
                    )
        return rows

    async def _deliver(self, rows) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        # The channels go out side by side: a text's HTTP round trip does not hold up the
        # emails, nor the emails the texts.
        async with asyncio.TaskGroup() as group:
            for channel, provider in self.providers.items():
                batch = [r for r in rows if r.channel == channel]
                if batch:  # a provider may open a client to send nothing at all
                    group.create_task(self._send_channel(channel, provider, batch, outcomes))
        for row in rows:
            outcomes.setdefault(row.id, Outcome.retry(f"no provider for {row.channel}"))
        return outcomes

    async def _send_channel(self, channel: str, provider: Provider, rows, outcomes) -> None:
        try:
            if channel == "sms":
                await self._send_texts(provider, rows, outcomes)
            elif sendable := await self._refuse_what_the_gate_refuses(rows, outcomes):
                outcomes.update(await provider.send_batch(sendable))
        except Exception as exc:
            # Not raised into the TaskGroup: it would cancel the other channel mid-send, and
            # texts already handed over would go unrecorded and be sent again after the lease.
            log.exception("sending a batch of %s failed", channel)
            for row in rows:
                outcomes.setdefault(row.id, Outcome.retry(f"{type(exc).__name__}: {exc}"))

    async def _send_texts(self, provider: Provider, rows, outcomes) -> None:
        """Each text is asked the gate just before it is handed over: sending a batch takes a
        while, and a STOP taken meanwhile (by any instance) must stop the rest of the batch
        for that number, not only the texts leased after it (rule 3)."""

        async def may_send(row) -> bool:
            if not await self._refuse_what_the_gate_refuses([row], outcomes):
                return False
            # Only texts handed to the provider count against the pace, not those refused.
            self.sms_in_second += 1
            return True

        outcomes.update(await provider.send_batch(rows, may_send=may_send))

    async def _refuse_what_the_gate_refuses(self, rows, outcomes) -> list:
        """Consent is asked again at send time, not only when the row was queued (rule 2)."""
        sendable = []
        async with self.ctx.db.read() as conn:
            for row in rows:
                if await self.gate.may_send(conn, row):
                    sendable.append(row)
                else:
                    outcomes[row.id] = Outcome("blocked", error="may_text said no at send time")
        return sendable

    def _writes(self, rows, outcomes: dict[int, Outcome]) -> _Writes:
        """What a round's outcomes change, sorted by kind. A provider's request to slow down
        takes effect here, at once, before the next round is leased."""
        now = self.ctx.now()
        writes = _Writes(now=now)
        for row in rows:
            outcome = outcomes[row.id]
            if outcome.kind == "sent":
                writes.sent.append((row.id, outcome.provider_id, outcome.provider_status))
            elif outcome.retry_after is not None:
                # Asked to slow down: not an attempt, and no text goes until then.
                until = now + outcome.retry_after
                if row.channel == "sms":
                    self.sms_paused_until = max(self.sms_paused_until or until, until)
                writes.later.append((row.id, outcome.error, to_db(until)))
            elif outcome.kind == "retry" and row.attempts + 1 < MAX_ATTEMPTS:
                due = to_db(now + backoff(row.attempts + 1))
                writes.retries.append((row.id, outcome.error, due))
            else:
                status = "blocked" if outcome.kind == "blocked" else "failed"
                writes.final.append((row.id, status, outcome.error or "gave up"))
            if outcome.kind != "sent":
                log.warning(
                    "outbox %s to %s: %s %s", row.id, row.channel, outcome.kind, outcome.error
                )
            if outcome.recipient_opted_out:
                evidence = {**outcome.evidence, "outbox_id": row.id, "error": outcome.error}
                writes.carrier_stops.append((row.recipient, evidence))
        return writes

    async def _write(self, writes: _Writes) -> None:
        """Every outcome of a round, committed in one transaction: one statement per kind of
        outcome, then the carrier STOPs it brought."""
        now = to_db(writes.now)
        async with self.ctx.db.write() as conn:
            if writes.sent:
                await outbox_rows.mark_sent(conn, writes.sent, owner=self.owner, now=now)
            if writes.later:
                await outbox_rows.mark_later(conn, writes.later, owner=self.owner)
            if writes.retries:
                await outbox_rows.mark_retry(conn, writes.retries, owner=self.owner)
            if writes.final:
                await outbox_rows.mark_final(conn, writes.final, owner=self.owner)
            for phone, evidence in writes.carrier_stops:
                # The carrier holds a STOP we never heard: it becomes a consent event.
                await self.gate.recipient_opted_out(conn, self.ctx, phone=phone, evidence=evidence)

    async def close_connections(self) -> None:
        """Nothing is due: providers that keep a connection between batches let it go."""
        for provider in self.providers.values():
            await provider.close()

    async def drain(self, max_rounds: int = 20) -> int:
        """Run until nothing is due (for `portal worker --once` and tests)."""
        try:
            return await self._run_rounds(max_rounds)
        finally:
            await self.close_connections()

    async def run_forever(self) -> None:
        wakeup = self.ctx.outbox_wakeup
        while True:
            # Clear before working: a change queued while we work sets it again.
            wakeup.clear()
            try:
                # Requests first (see Foreground), before each round: a burst's rows also
                # gather into fewer, fuller rounds, each a lease and a record transaction less.
                while await self._run_rounds(max_rounds=100, before_lease=self._let_requests_go):
                    pass
            except Exception:  # keep serving: the rows stay queued and are tried again
                log.exception("outbox dispatcher round failed")
            await self.close_connections()
            await self._wait_for_work(wakeup)

    async def _wait_for_work(self, wakeup: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=POLL_SECONDS)
                return
            try:
                async with self.ctx.db.read() as conn:
                    if await outbox_rows.anything_due(conn, now=to_db(self.ctx.now())):
                        return
            except Exception:  # the next round says what is wrong, and keeps serving
                return
