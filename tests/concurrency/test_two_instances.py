"""Scale-out on one PostgreSQL: two `portal serve` instances taking a burst of STOPs together,
and two `portal worker` processes sending one mass text while STOPs arrive."""

from __future__ import annotations

import asyncio

import httpx
from process_steps import add_texting_people, count, text_in

STOPPERS = [f"+120155503{n:02d}" for n in range(20)]


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
