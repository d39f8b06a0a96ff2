"""Twilio slower than our timeout, against the fake Twilio over real HTTP on loopback.

Twilio's Messages API takes no idempotency key, so a request that reached Twilio and timed
out on our side cannot be told apart from one that never arrived. The dispatcher chooses to
send again (at least once): a consent confirmation or a STOP reply that is never sent is worse
than one sent twice. These tests pin that choice down.
"""

from __future__ import annotations

import dataclasses

import pytest
from twilio_steps import PAT, with_twilio

from portal.app import create_app
from portal.messaging import failures, outbox
from portal.messaging.dispatcher import backoff
from portal.messaging.twilio import TwilioProvider

TIMEOUT = 0.3  # the provider's own default is 10 s


@pytest.fixture
def sms_per_second() -> int:
    return 1


@pytest.fixture
def settings(settings, twilio, sms_per_second):
    return dataclasses.replace(with_twilio(settings, twilio), sms_per_second=sms_per_second)


@pytest.fixture
def app(settings, clock):
    provider = TwilioProvider.from_settings(settings, status_callback="http://portal.test/s")
    provider.timeout = TIMEOUT
    return create_app(settings, clock=clock, providers={"sms": provider}, start_dispatcher=False)


def queue_reply(portal, body: str = "Help!") -> int:
    """A keyword reply: needs no consent, so the gate lets it through whatever the state."""

    async def work():
        async with portal.ctx.db.write() as conn:
            return await outbox.queue_text(
                conn, portal.ctx, template="help", to=PAT, body=body, requires_consent=False
            )

    return portal.call(work)


def text_row(portal, outbox_id: int):
    return portal.rows("SELECT * FROM outbox WHERE id = :id", {"id": outbox_id})[0]


def test_a_twilio_timeout_is_retried_after_its_backoff_and_may_reach_twilio_twice(
    portal, twilio, clock
):
    twilio.answer(201, {"sid": "SMlate", "status": "queued"}, delay=TIMEOUT * 3)
    outbox_id = queue_reply(portal)
    portal.call(portal.app.state.dispatcher.drain)
    row = text_row(portal, outbox_id)
    assert (row.status, row.attempts, row.provider_id) == ("pending", 1, None)
    assert failures.reason("sms", row.last_error) == "timeout"
    portal.call(portal.app.state.dispatcher.drain)  # inside the backoff: not sent again yet
    assert len(twilio.texts_to(PAT)) == 1
    clock.advance(seconds=backoff(1).total_seconds())
    portal.call(portal.app.state.dispatcher.drain)
    row = text_row(portal, outbox_id)
    assert row.status == "sent" and row.provider_id.startswith("SM") and row.attempts == 2
    # Twilio accepted the first request after we stopped waiting: it holds two. Never fewer.
    assert twilio.texts_to(PAT) == ["Help!", "Help!"]


def test_a_twilio_that_never_answers_in_time_keeps_the_text_pending_not_lost(portal, twilio, clock):
    for _ in range(3):
        twilio.answer(201, {"sid": "SMlate", "status": "queued"}, delay=TIMEOUT * 2)
    outbox_id = queue_reply(portal)
    for attempt in (1, 2, 3):
        portal.call(portal.app.state.dispatcher.drain)
        clock.advance(seconds=backoff(attempt).total_seconds())
    row = text_row(portal, outbox_id)
    assert (row.status, row.attempts) == ("pending", 3)
    portal.call(portal.app.state.dispatcher.drain)
    assert text_row(portal, outbox_id).status == "sent"


@pytest.mark.parametrize("sms_per_second", [3])
def test_after_a_twilio_timeout_the_rest_of_the_batch_waits_unsent_and_goes_later(
    portal, twilio, clock
):
    # Each text waiting out its own timeout would stretch the batch past its lease, and a
    # second dispatcher would lease and send the same texts again.
    twilio.answer(201, {"sid": "SMlate", "status": "queued"}, delay=TIMEOUT * 3)
    first, *rest = [queue_reply(portal, f"Text {n}") for n in (1, 2, 3)]
    portal.call(portal.app.state.dispatcher.drain)
    assert twilio.texts_to(PAT) == ["Text 1"]
    assert text_row(portal, first).attempts == 1
    for held in rest:
        row = text_row(portal, held)
        assert (row.status, row.attempts) == ("pending", 0)
        assert failures.reason("sms", row.last_error) == "timeout"
    clock.advance(seconds=backoff(1).total_seconds())
    portal.call(portal.app.state.dispatcher.drain)
    assert {text_row(portal, i).status for i in (first, *rest)} == {"sent"}
    assert sorted(twilio.texts_to(PAT)) == ["Text 1", "Text 1", "Text 2", "Text 3"]
