"""Scale-out on one PostgreSQL: two `portal serve` instances taking a burst of STOPs together,
and two `portal worker` processes sending one mass text while STOPs arrive."""

from __future__ import annotations

import asyncio
import collections

import httpx
from process_steps import add_texting_people, count, text_in, wait_until

from portal.messaging import mass_texts

STOPPERS = [f"+120155503{n:02d}" for n in range(20)]
AUDIENCE = [f"+120155504{n:02d}" for n in range(30)]
MASS_TEXT = "Rehearsal moves to Studio B tonight, {first_name}. Reply STOP to opt out."


async def _deliver_all(deliveries: list[tuple[str, str, str]], body: str = "STOP") -> list[int]:
    """Each (instance, number, MessageSid) as a signed text, all at once."""
    clients = {}
    try:
        for base in {base for base, _, _ in deliveries}:
            clients[base] = httpx.AsyncClient(
                base_url=base, limits=httpx.Limits(max_connections=50), timeout=30
            )
        return list(
            await asyncio.gather(
                *(text_in(clients[base], body, number, sid) for base, number, sid in deliveries)
            )
        )
    finally:
        for client in clients.values():
            await client.aclose()


def test_two_instances_on_one_postgresql_stop_each_of_twenty_numbers_exactly_once(
    pg_deployment,
):
    people = add_texting_people(pg_deployment, STOPPERS)
    first, second = pg_deployment.serve("serve-1"), pg_deployment.serve("serve-2")
    # A few numbers stopped and started again before: their suppression row is there, off.
    again = STOPPERS[0:12:4]
    earlier = [("STOP", n) for n in again] + [("START", n) for n in again]
    for k, (word, number) in enumerate(earlier):
        assert asyncio.run(_deliver_all([(first, number, f"SM{k + 900:032d}")], word)) == [200]
    before = pg_deployment.rows("SELECT MAX(id) AS id FROM consent_events")[0].id
    outbox_before = pg_deployment.rows("SELECT MAX(id) AS id FROM outbox")[0].id
    deliveries = []
    for n, number in enumerate(STOPPERS):
        mine, other = (first, second) if n % 2 else (second, first)
        deliveries.append((mine, number, f"SM{n:032d}"))
        if n % 3 == 0:  # Twilio retried the same text and the balancer chose the other instance
            deliveries.append((other, number, f"SM{n:032d}"))
        if n % 4 == 0:  # the person sent STOP twice: two texts, one opt-out
            deliveries.append((other, number, f"SM{n + 100:032d}"))

    answers = asyncio.run(_deliver_all(deliveries))

    assert answers == [200] * len(deliveries), pg_deployment.log("serve-1") + pg_deployment.log(
        "serve-2"
    )
    sids = {(number, sid) for _, number, sid in deliveries}
    assert count(pg_deployment, "SELECT COUNT(*) AS n FROM inbound_messages") == len(sids) + len(
        earlier
    )
    for number in STOPPERS:
        by_number = pg_deployment.rows(
            "SELECT new_status FROM consent_events"
            " WHERE phone = :p AND person_id IS NULL AND id > :before",
            {"p": number, "before": before},
        )
        assert [e.new_status for e in by_number] == ["suppressed"], number
        by_person = pg_deployment.rows(
            "SELECT new_status FROM consent_events WHERE person_id = :id AND id > :before",
            {"id": people[number], "before": before},
        )
        assert [e.new_status for e in by_person] == ["opted_out"], number
        replies = pg_deployment.rows(
            "SELECT template FROM outbox WHERE recipient = :p AND id > :after",
            {"p": number, "after": outbox_before},
        )
        assert [r.template for r in replies] == ["reply_opt_out"], number
    office = count(
        pg_deployment,
        "SELECT COUNT(*) AS n FROM outbox WHERE template = 'org_number_stopped' AND id > :after",
        {"after": outbox_before},
    )
    assert office == len(STOPPERS)
    assert count(
        pg_deployment, "SELECT COUNT(*) AS n FROM phone_suppressions WHERE active = 1"
    ) == len(STOPPERS)


def _queue_mass_text(deployment, people: dict[str, int]) -> int:
    async def send(ctx):
        async with ctx.db.read() as conn:
            staff = await conn.fetch_val(
                "SELECT id FROM accounts WHERE email = 'staff@demo.example'"
            )
        queueing = mass_texts.Queueing()
        mass_text_id, _ = await mass_texts.send(
            ctx,
            queueing,
            body=MASS_TEXT,
            recipients=[
                mass_texts.Recipient(person_id=people[phone], phone=phone, first_name="Sam")
                for phone in AUDIENCE
            ],
            skipped_reasons={},
            criteria="{}",
            send_token="concurrency-test-send-token",
            urgent=True,
            scheduled_for=None,
            account_id=staff,
            ip="127.0.0.1",
        )
        await queueing.join()
        return mass_text_id

    return deployment.call(send)


def test_two_workers_send_a_mass_text_once_each_and_both_honour_a_stop_taken_meanwhile(
    pg_deployment,
):
    people = add_texting_people(pg_deployment, AUDIENCE)
    twilio = pg_deployment.twilio
    instances = [pg_deployment.serve("serve-1"), pg_deployment.serve("serve-2")]
    # Each worker leases ten texts at a time, so the thirty are shared between them.
    for name in ("worker-1", "worker-2"):
        pg_deployment.worker(name, SMS_PER_SECOND="10")
    # The first text each worker hands over waits at Twilio: both are caught mid-batch, with
    # texts leased and not sent, while the STOPs below commit.
    twilio.hold(2)
    mass_text_id = _queue_mass_text(pg_deployment, people)
    assert twilio.wait_held(2), pg_deployment.log("worker-1") + pg_deployment.log("worker-2")
    in_flight = {r["form"]["To"] for r in twilio.requests}
    leased = collections.defaultdict(list)
    for row in pg_deployment.rows(
        "SELECT recipient, lease_owner FROM outbox WHERE mass_text_id = :m AND status = 'pending'"
        " ORDER BY id",
        {"m": mass_text_id},
    ):
        if row.recipient not in in_flight:
            leased[row.lease_owner].append(row.recipient)
    owners = [owner for owner in leased if owner is not None]
    assert len(owners) == 2, leased  # each worker holds a batch it has not sent yet
    # Two numbers leased by each worker, and two nobody leased yet, reply STOP now.
    stopped = [number for owner in [*owners, None] for number in leased[owner][-2:]]
    deliveries = [
        (instances[n % 2], number, f"SM{n + 500:032d}") for n, number in enumerate(stopped)
    ]
    assert asyncio.run(_deliver_all(deliveries)) == [200] * len(deliveries)
    twilio.release()

    wait_until(
        lambda: (
            count(pg_deployment, "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'") == 0
        ),
        seconds=15,
        message="the workers never emptied the queue",
    )
    sent = collections.Counter(
        r["form"]["To"] for r in twilio.requests if r["form"]["Body"].startswith("Rehearsal")
    )
    assert sent == {number: 1 for number in AUDIENCE if number not in stopped}
    for number in stopped:
        # The STOP's own confirmation, and nothing else.
        assert len(twilio.texts_to(number)) == 1 and "Rehearsal" not in twilio.texts_to(number)[0]
    blocked = pg_deployment.rows(
        "SELECT recipient FROM outbox WHERE mass_text_id = :m AND status = 'blocked'",
        {"m": mass_text_id},
    )
    assert sorted(r.recipient for r in blocked) == sorted(stopped)
