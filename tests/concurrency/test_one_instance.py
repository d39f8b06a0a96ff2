"""One `portal serve` process under a burst: fifty toggles of one person's switch, and one
signed STOP delivered five times at once; on the suite's backend (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx
from process_steps import count, login, text_in, wait_until
from twilio_steps import PAT

TOGGLES = 50


def _refusal(n: int) -> int | None:
    """Some of the fifty are refused: a forged CSRF token (403), or no first name (400)."""
    return {9: 403, 4: 400}.get(n % 10)


async def _toggle_fifty(base: str, cookies: dict, token: str) -> list[int]:
    # One connection per request, all open at once: the server sees them together.
    limits = httpx.Limits(max_connections=TOGGLES)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, limits=limits, timeout=30
    ) as browser:

        async def toggle(n: int) -> int:
            on = n % 2 == 1
            form = {
                "first_name": "" if _refusal(n) == 400 else "Pat",
                "last_name": "Parker",
                "email": "parent@demo.example",
                "cell_phone": "(201) 555-0101",
                "allow_texting_was": "off" if on else "on",
                "csrf_token": "forged" if _refusal(n) == 403 else token,
            }
            if on:
                form["allow_texting"] = "on"
            # The user agent names the request in the ledger, so each event has its answer.
            answer = await browser.post(
                "/account/settings/edit", data=form, headers={"User-Agent": f"toggle-{n}"}
            )
            return answer.status_code

        return list(await asyncio.gather(*(toggle(n) for n in range(TOGGLES))))


def test_fifty_simultaneous_toggles_leave_the_last_committed_event_in_force_with_its_mail(
    deployment,
):
    base = deployment.serve()
    cookies, token = login(base)
    pat = deployment.rows("SELECT id FROM people WHERE first_name = 'Pat'")[0].id
    before = deployment.rows("SELECT MAX(id) AS id FROM consent_events")[0].id
    outbox_before = deployment.rows("SELECT MAX(id) AS id FROM outbox")[0].id or 0

    answers = asyncio.run(_toggle_fifty(base, cookies, token))

    # No answer was an error under contention: the form's redirect, or the refusal asked for.
    assert answers == [_refusal(n) or 303 for n in range(TOGGLES)], deployment.log("serve")
    events = deployment.rows(
        "SELECT id, old_status, new_status, user_agent FROM consent_events"
        " WHERE person_id = :p AND id > :before ORDER BY id",
        {"p": pat, "before": before},
    )
    assert events, "fifty toggles from an opted-in start recorded nothing"
    # Each event is one accepted request's own choice, recorded once; a refused request
    # recorded nothing, nor did a save that found its choice already in force (the product's
    # rule for a repeated answer).
    asked = {
        f"toggle-{n}": "opted_in" if n % 2 else "opted_out"
        for n in range(TOGGLES)
        if not _refusal(n)
    }
    agents = [e.user_agent for e in events]
    assert len(agents) == len(set(agents))
    assert all(asked.get(e.user_agent) == e.new_status for e in events)
    # No update was lost: each event starts from the one before it, and changes something.
    previous = "opted_in"
    for event in events:
        assert (event.old_status, event.new_status) == (previous, event.new_status)
        assert event.new_status != previous
        previous = event.new_status
    [state] = deployment.rows(
        "SELECT status, last_event_id FROM consent_state WHERE person_id = :p", {"p": pat}
    )
    assert (state.status, state.last_event_id) == (events[-1].new_status, events[-1].id)
    # Each event queued what it owes, in the same order: an opt-out tells the office, an
    # opt-in sends the one confirmation text; nothing else was queued.
    queued = deployment.rows(
        "SELECT template, recipient FROM outbox WHERE id > :after ORDER BY id",
        {"after": outbox_before},
    )
    owed = {
        "opted_out": ("org_opt_out", "office@demo.example"),
        "opted_in": ("opt_in_confirmation", PAT),
    }
    assert [(q.template, q.recipient) for q in queued] == [owed[e.new_status] for e in events]


def test_one_signed_stop_delivered_five_times_at_once_stops_once_and_is_answered_once(
    deployment,
):
    # This time the server delivers, so the text and the email are counted where they land.
    base = deployment.serve(RUN_DISPATCHER="true")
    pat = deployment.rows("SELECT id FROM people WHERE first_name = 'Pat'")[0].id
    before = deployment.rows("SELECT MAX(id) AS id FROM consent_events")[0].id
    sid = "SM" + "7" * 32

    async def five_at_once() -> list[int]:
        limits = httpx.Limits(max_connections=5)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as twilio:
            return list(
                await asyncio.gather(*(text_in(twilio, "STOP", PAT, sid) for _ in range(5)))
            )

    assert asyncio.run(five_at_once()) == [200] * 5, deployment.log("serve")
    wait_until(
        lambda: count(deployment, "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'") == 0,
        message="the server never delivered what the STOP queued",
    )
    assert count(deployment, "SELECT COUNT(*) AS n FROM inbound_messages") == 1
    events = deployment.rows(
        "SELECT person_id, new_status, channel FROM consent_events WHERE id > :before",
        {"before": before},
    )
    # One number-wide event and one for Pat, the only person with the number.
    assert sorted((e.person_id or 0, e.new_status) for e in events) == [
        (0, "suppressed"),
        (pat, "opted_out"),
    ]
    assert len(deployment.twilio.texts_to(PAT)) == 1
    office = [m for m in deployment.mailbox.messages() if "replied STOP" in m.subject]
    assert len(office) == 1
