"""The outbox dispatcher: leases, backoff, stable Message-IDs, several workers on one queue."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from staff_steps import add_person

from portal.clock import to_db
from portal.consent.gate import ConsentGate
from portal.db import outbox as outbox_rows
from portal.messaging import outbox
from portal.messaging.dispatcher import LEASE, OutboxDispatcher, backoff
from portal.messaging.providers import InboundText, Outcome
from portal.replies.inbound import handle_inbound


class Recorder:
    """A transport that records what it was asked to send (the SMTP path is tested elsewhere)."""

    channel = "email"

    async def close(self) -> None:
        """Nothing is kept between batches."""

    def __init__(self, answer: str = "sent") -> None:
        self.sent: list[tuple[int, str]] = []
        self.answer = answer

    async def send_batch(self, rows, may_send=None):
        await asyncio.sleep(0)  # let the other dispatcher run in between
        rows = [row for row in rows if may_send is None or await may_send(row)]
        self.sent += [(row.id, row.message_id) for row in rows]
        return {
            row.id: Outcome(self.answer, error="" if self.answer == "sent" else "try later")
            for row in rows
        }


def queue_emails(portal, count: int) -> None:
    async def work():
        async with portal.ctx.db.write() as conn:
            for i in range(count):
                await outbox.queue_email(
                    conn,
                    portal.ctx,
                    template="password_reset",
                    to=f"p{i}@demo.example",
                    email="x",
                    link_url="u",
                    minutes=60,
                )

    portal.call(work)


def test_backoff_doubles_from_15_seconds_and_stops_at_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert backoff(30) == dt.timedelta(hours=1)


def test_two_dispatchers_on_one_queue_send_every_row_exactly_once(portal):
    queue_emails(portal, 120)
    first, second = Recorder(), Recorder()
    a = OutboxDispatcher(portal.ctx, {"email": first}, ConsentGate())
    b = OutboxDispatcher(portal.ctx, {"email": second}, ConsentGate())

    async def both():
        await asyncio.gather(a.drain(), b.drain())

    portal.call(both)
    ids = [i for i, _ in first.sent + second.sent]
    assert len(ids) == len(set(ids)) == 120
    assert first.sent and second.sent  # both did work
    assert portal.rows("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'")[0].n == 120


def test_a_dead_dispatchers_lease_expires_and_the_retry_keeps_its_message_id(portal, clock):
    queue_emails(portal, 1)
    dead = OutboxDispatcher(portal.ctx, {"email": Recorder()}, ConsentGate())

    async def lease_and_die():
        async with portal.ctx.db.write() as conn:
            from portal.clock import to_db
            from portal.db import outbox as rows

            now = portal.ctx.now()
            return await rows.lease_due(
                conn,
                owner=dead.owner,
                now=to_db(now),
                lease_until=to_db(now + LEASE),
                limit=10,
                channel="email",
            )

    [leased] = portal.call(lease_and_die)
    alive = Recorder()
    survivor = OutboxDispatcher(portal.ctx, {"email": alive}, ConsentGate())
    portal.call(survivor.drain)
    assert alive.sent == []  # still leased by the dead one
    clock.advance(seconds=LEASE.total_seconds())
    portal.call(survivor.drain)
    assert alive.sent == [(leased.id, leased.message_id)]


def test_a_retried_row_waits_for_its_backoff_and_keeps_its_message_id(portal, clock):
    queue_emails(portal, 1)
    flaky = Recorder(answer="retry")
    dispatcher = OutboxDispatcher(portal.ctx, {"email": flaky}, ConsentGate())
    portal.call(dispatcher.drain)
    portal.call(dispatcher.drain)
    assert len(flaky.sent) == 1
    clock.advance(seconds=15)
    flaky.answer = "sent"
    portal.call(dispatcher.drain)
    assert len(flaky.sent) == 2 and flaky.sent[0][1] == flaky.sent[1][1]


class StopsWhileSending:
    """An SMS provider during whose first send the last recipient's STOP is taken and
    committed (as another instance would take it)."""

    channel = "sms"

    async def close(self) -> None:
        """Nothing is kept between batches."""

    def __init__(self, portal, phone: str) -> None:
        self.portal, self.phone = portal, phone
        self.sent: list[str] = []

    async def send_batch(self, rows, may_send=None):
        handed_over = []
        for row in rows:
            if may_send is not None and not await may_send(row):
                continue
            handed_over.append(row)
            if not self.sent:
                text = InboundText(
                    message_sid="SM" + "9" * 32, from_phone=self.phone, to_phone="", body="STOP"
                )
                async with self.portal.ctx.db.write() as conn:
                    await handle_inbound(conn, self.portal.ctx, text)
            self.sent.append(row.recipient)
        return {row.id: Outcome("sent") for row in handed_over}


def test_a_stop_taken_while_a_batch_of_texts_goes_out_stops_that_numbers_text_in_the_batch(
    portal,
):
    phones = ["+12015550150", "+12015550151", "+12015550152"]
    people = [add_person(portal, f"Riley{n}", phone) for n, phone in enumerate(phones)]

    async def queue():
        async with portal.ctx.db.write() as conn:
            await outbox.queue_texts(
                conn,
                portal.ctx,
                [
                    outbox.Text(to=phone, body="Class is on", person_id=person)
                    for phone, person in zip(phones, people, strict=True)
                ],
                template="mass_text",
            )

    portal.call(queue)
    provider = StopsWhileSending(portal, phones[-1])
    dispatcher = OutboxDispatcher(portal.ctx, {"sms": provider}, ConsentGate())
    # One lease takes all three texts; the STOP commits after it, during the first send.
    portal.call(dispatcher.run_once)
    assert provider.sent == phones[:2]
    [row] = portal.rows(
        "SELECT status FROM outbox WHERE recipient = :p AND template = 'mass_text'",
        {"p": phones[-1]},
    )
    assert row.status == "blocked"


class TakenOverWhileSending(Recorder):
    """Sends slower than the lease: meanwhile another dispatcher takes every row over."""

    def __init__(self, portal, clock) -> None:
        super().__init__()
        self.portal, self.clock = portal, clock

    async def send_batch(self, rows, may_send=None):
        self.clock.advance(seconds=LEASE.total_seconds())
        now = self.portal.ctx.now()
        async with self.portal.ctx.db.write() as conn:
            await outbox_rows.lease_due(
                conn,
                owner="the-new-owner",
                now=to_db(now),
                lease_until=to_db(now + LEASE),
                limit=10,
                channel="email",
            )
        return await super().send_batch(rows, may_send)


def test_a_dispatcher_whose_lease_was_taken_over_while_it_sent_records_none_of_those_rows(
    portal, clock
):
    queue_emails(portal, 3)
    slow = OutboxDispatcher(
        portal.ctx, {"email": TakenOverWhileSending(portal, clock)}, ConsentGate()
    )
    assert portal.call(slow.run_once) == 3
    rows = portal.rows("SELECT status, attempts, lease_owner FROM outbox ORDER BY id")
    assert [(r.status, r.attempts, r.lease_owner) for r in rows] == [
        ("pending", 0, "the-new-owner")
    ] * 3


class CarrierStopsTheFirst:
    """An SMS provider whose carrier refuses the first text (a STOP we never heard) and takes
    the rest; each send moves the clock a second on."""

    channel = "sms"

    async def close(self) -> None:
        """Nothing is kept between batches."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.sent: list[str] = []

    async def send_batch(self, rows, may_send=None):
        outcomes = {}
        for row in rows:
            if may_send is not None and not await may_send(row):
                continue
            self.sent.append(row.body_text)
            if len(self.sent) == 1:
                outcomes[row.id] = Outcome.opted_out_at_carrier("21610", {"code": 21610})
            else:
                outcomes[row.id] = Outcome.sent()
        self.clock.advance(seconds=1)
        return outcomes


def test_a_carrier_stop_is_in_the_ledger_before_the_next_round_asks_about_that_number(
    portal, clock
):
    # Rounds overlap: one round's outcomes are written while the next is on the wire. A
    # carrier's STOP is the exception: the next text to that number must be refused.
    phone = "+12015550160"
    person = add_person(portal, "Quinn", phone)
    queue_emails(portal, 250)  # enough for several rounds

    async def queue(body, seconds_from_now):
        async with portal.ctx.db.write() as conn:
            await outbox.queue_text(
                conn,
                portal.ctx,
                template="notice",
                to=phone,
                body=body,
                person_id=person,
                not_before=portal.ctx.now() + dt.timedelta(seconds=seconds_from_now),
            )

    portal.call(queue, "first", 0)
    portal.call(queue, "second", 1)  # due in the next round, once the first was sent
    emails, texts = Recorder(), CarrierStopsTheFirst(clock)
    dispatcher = OutboxDispatcher(portal.ctx, {"email": emails, "sms": texts}, ConsentGate())
    portal.call(dispatcher.drain)
    assert texts.sent == ["first"]
    statuses = portal.rows("SELECT status FROM outbox WHERE channel = 'sms' ORDER BY id")
    assert [r.status for r in statuses] == ["failed", "blocked"]
    # The 250, and the office's email about the carrier's STOP, each once.
    assert len({i for i, _ in emails.sent}) == len(emails.sent) == 251


def test_every_rounds_outcomes_are_written_when_the_dispatcher_stops_mid_round(portal):
    # Shutting down cancels the dispatcher while a round is on the wire; the round before it,
    # already delivered, is written all the same (else it would go again after its lease).
    queue_emails(portal, 150)
    stopped = asyncio.Event()

    class StopsOnTheSecondRound(Recorder):
        async def send_batch(self, rows, may_send=None):
            if self.sent:
                stopped.set()
                await asyncio.sleep(3600)  # cancelled long before that
            return await super().send_batch(rows, may_send)

    provider = StopsOnTheSecondRound()
    dispatcher = OutboxDispatcher(portal.ctx, {"email": provider}, ConsentGate())

    async def run_and_cancel():
        task = asyncio.create_task(dispatcher.run_forever())
        await stopped.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # Nothing of the dispatcher is left running once it has stopped: the database may be
        # closed next.
        return [t for t in asyncio.all_tasks() if "OutboxDispatcher" in t.get_coro().__qualname__]

    assert portal.call(run_and_cancel) == []
    rows = portal.rows("SELECT status, lease_owner FROM outbox ORDER BY id")
    assert [r.status for r in rows] == ["sent"] * 100 + ["pending"] * 50
    assert {r.lease_owner for r in rows[:100]} == {None}


def test_a_failing_email_batch_leaves_the_texts_of_its_round_sent_and_recorded(portal):
    # Emails and texts of one round go out side by side: an error in one channel must not
    # cancel the other mid-send (texts handed over but not recorded would go again).
    queue_emails(portal, 3)

    async def queue_help_answers():
        async with portal.ctx.db.write() as conn:
            for n in range(3):
                await outbox.queue_text(
                    conn,
                    portal.ctx,
                    template="help",
                    to=f"+1201555019{n}",
                    body="Riverside: reply STOP to stop.",
                    requires_consent=False,
                )

    portal.call(queue_help_answers)

    class Broken(Recorder):
        async def send_batch(self, rows, may_send=None):
            raise OSError("the mail server's certificate expired")

    class Phone(Recorder):
        channel = "sms"

        async def send_batch(self, rows, may_send=None):
            await asyncio.sleep(0.05)  # still on the wire when the email batch fails
            return await super().send_batch(rows, may_send)

    phone = Phone()
    dispatcher = OutboxDispatcher(portal.ctx, {"email": Broken(), "sms": phone}, ConsentGate())
    portal.call(lambda: dispatcher._run_rounds(1))
    assert len(phone.sent) == 3
    rows = portal.rows("SELECT channel, status, attempts, last_error FROM outbox ORDER BY id")
    assert [(r.channel, r.status) for r in rows] == [("email", "pending")] * 3 + [
        ("sms", "sent")
    ] * 3
    assert all("certificate expired" in r.last_error for r in rows[:3])
