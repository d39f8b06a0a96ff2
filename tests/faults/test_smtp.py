"""SMTP faults on purpose, against real aiosmtpd servers on loopback: refused connections, 451
then recovery, 550, a server slower than our timeout, and no STARTTLS when TLS is required."""

from __future__ import annotations

import dataclasses
import time

import pytest
from outbox_steps import outbox_row, queue_email
from scripted_smtp import ScriptedSmtp

from portal.app import create_app
from portal.messaging import failures
from portal.messaging.dispatcher import EMAIL_BATCH, backoff
from portal.messaging.mailcatcher import free_port
from portal.messaging.smtp import SmtpProvider
from portal.people import demo

# Short, so a stalled server costs the test a fraction of a second, not the 15 s default.
TIMEOUT = 0.3


@pytest.fixture
def smtp_tls() -> str:
    return "none"


@pytest.fixture
def smtp_port(scripted_smtp) -> int:
    return scripted_smtp.port


@pytest.fixture
def settings(settings, scripted_smtp, smtp_port, smtp_tls):
    return dataclasses.replace(
        settings, smtp_host=scripted_smtp.host, smtp_port=smtp_port, smtp_tls=smtp_tls
    )


@pytest.fixture
def app(settings, clock):
    provider = SmtpProvider(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        mail_from=settings.mail_from,
        timeout=TIMEOUT,
    )
    return create_app(settings, clock=clock, providers={"email": provider}, start_dispatcher=False)


def deliver(portal) -> None:
    portal.call(portal.app.state.dispatcher.drain)


def wait_for(condition, seconds: float = 5.0) -> None:
    """Wait for something a server thread does on its own time (bounded)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.02)


@pytest.mark.parametrize("smtp_port", [free_port()])  # nothing listens there yet
def test_a_refused_connection_keeps_the_email_pending_and_it_goes_once_a_server_listens(
    portal, clock, smtp_port
):
    outbox_id = queue_email(portal)
    deliver(portal)
    row = outbox_row(portal, outbox_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert failures.reason("email", row.last_error) == "connection_refused"
    server = ScriptedSmtp(port=smtp_port).start()
    try:
        deliver(portal)  # still inside its backoff: not tried again yet
        assert outbox_row(portal, outbox_id).attempts == 1 and server.messages() == []
        clock.advance(seconds=backoff(1).total_seconds())
        deliver(portal)
        assert server.message_ids() == [row.message_id]
        assert outbox_row(portal, outbox_id).status == "sent"
    finally:
        server.stop()


def test_a_451_is_retried_after_its_backoff_and_delivered_once_with_the_same_message_id(
    portal, clock, scripted_smtp
):
    scripted_smtp.data_answers.append("451 4.3.0 Try again later")
    outbox_id = queue_email(portal)
    deliver(portal)
    row = outbox_row(portal, outbox_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert failures.reason("email", row.last_error) == "mail_deferred"
    assert scripted_smtp.messages() == []
    clock.advance(seconds=backoff(1).total_seconds())
    deliver(portal)
    deliver(portal)
    assert scripted_smtp.message_ids() == [row.message_id]
    assert outbox_row(portal, outbox_id).status == "sent"


def test_a_550_fails_for_good_is_not_retried_and_staff_see_it_in_words(
    portal, clock, scripted_smtp
):
    scripted_smtp.data_answers.append("550 5.1.1 No such user here")
    outbox_id = queue_email(portal)
    deliver(portal)
    row = outbox_row(portal, outbox_id)
    assert (row.status, row.attempts) == ("failed", 1) and "550" in row.last_error
    clock.advance(seconds=24 * 3600)
    deliver(portal)
    assert scripted_smtp.data_seen == 1 and scripted_smtp.messages() == []
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/alerts")
    assert "refused the email for good" in page.text and "avery.parent@demo.example" in page.text
    assert portal.client.get("/healthz").json()["status"] == "degraded"


def test_a_server_that_stalls_before_taking_the_message_is_retried_and_delivers_once(
    portal, clock, scripted_smtp
):
    scripted_smtp.ehlo_stalls.append(TIMEOUT * 4)
    outbox_id = queue_email(portal)
    deliver(portal)
    row = outbox_row(portal, outbox_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert failures.reason("email", row.last_error) == "timeout"
    clock.advance(seconds=backoff(1).total_seconds())
    deliver(portal)
    assert scripted_smtp.message_ids() == [row.message_id]
    assert scripted_smtp.data_seen == 1  # the stalled attempt never sent the message


def test_a_server_that_answers_data_after_our_timeout_gets_the_retry_with_the_same_message_id(
    portal, clock, scripted_smtp
):
    # The server took the message but answered too late: SMTP cannot tell us it arrived
    # (RFC 1047), so the retry may be a second copy. It carries the first one's Message-ID,
    # which is how the receiving side recognises it.
    scripted_smtp.data_answers.append(TIMEOUT * 3)
    outbox_id = queue_email(portal)
    deliver(portal)
    row = outbox_row(portal, outbox_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert failures.reason("email", row.last_error) == "timeout"
    clock.advance(seconds=backoff(1).total_seconds())
    deliver(portal)
    assert outbox_row(portal, outbox_id).status == "sent"
    wait_for(lambda: len(scripted_smtp.messages()) == 2)
    assert scripted_smtp.message_ids() == [row.message_id, row.message_id]


@pytest.mark.parametrize("smtp_tls", ["starttls"])
def test_required_starttls_that_the_server_does_not_offer_sends_nothing_in_clear(
    portal, clock, scripted_smtp
):
    outbox_id = queue_email(portal)
    deliver(portal)
    clock.advance(seconds=backoff(1).total_seconds())
    deliver(portal)
    row = outbox_row(portal, outbox_id)
    assert scripted_smtp.data_seen == 0 and scripted_smtp.messages() == []
    assert (row.status, row.attempts) == ("pending", 2)
    assert "STARTTLS" in row.last_error
    assert failures.reason("email", row.last_error) == "tls_unavailable"
    clock.advance(seconds=3600)  # an hour stuck: staff are told, in words
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    assert "does not offer the encrypted connection" in portal.client.get("/staff/alerts").text


def test_one_connection_carries_every_batch_while_mail_keeps_flowing(portal, scripted_smtp):
    ids = [queue_email(portal, to=f"p{n}@demo.example") for n in range(EMAIL_BATCH + 5)]
    deliver(portal)  # two batches
    assert scripted_smtp.ehlo_seen == 1
    sent = sorted(outbox_row(portal, outbox_id).message_id for outbox_id in ids)
    assert sorted(scripted_smtp.message_ids()) == sent


def test_a_kept_connection_the_server_dropped_is_reopened_and_no_attempt_is_lost_to_it(
    portal, scripted_smtp
):
    queue_email(portal)
    portal.call(portal.app.state.dispatcher.run_once)  # more may follow: the connection stays
    scripted_smtp.stop()  # and the server goes away meanwhile, with it
    restarted = ScriptedSmtp(port=scripted_smtp.port).start()
    try:
        outbox_id = queue_email(portal)
        deliver(portal)
        row = outbox_row(portal, outbox_id)
        assert (row.status, row.attempts) == ("sent", 1)
        assert restarted.message_ids() == [row.message_id]
    finally:
        restarted.stop()
