"""A real `portal worker` killed with SIGKILL in the middle of a send, after its lease was
committed: once the lease has run out, a new worker delivers the message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from outbox_steps import outbox_row, queue_email
from twilio_steps import ORG_NUMBER, PAT, TOKEN

from portal.messaging import outbox
from portal.settings import SETTINGS


@pytest.fixture
def worker_env(tmp_path, database_url, scripted_smtp, twilio):
    """The environment of a `portal worker`: the test's database, SMTP server and Twilio."""
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    return env | {
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "http://portal.test",
        "SECRET_KEY": "test-secret-key-for-the-portal-tests-0123456789",
        "SMTP_HOST": scripted_smtp.host,
        "SMTP_PORT": str(scripted_smtp.port),
        "SMTP_TLS": "none",
        "TWILIO_ACCOUNT_SID": "ACtest",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": ORG_NUMBER,
        "TWILIO_API_URL": twilio.url,
        "SPOOL_DIR": str(tmp_path / "spool"),
    }


def start_worker(env, *args: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own command, no shell)
        [sys.executable, "-m", "portal.cli", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def worker_once(env) -> str:
    """Run `portal worker --once` to its end; what it printed."""
    process = start_worker(env, "--once")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


def kill_when(process: subprocess.Popen, condition, seconds: float = 20.0) -> None:
    """SIGKILL the worker as soon as `condition` holds (bounded wait): no cleanup runs."""
    deadline = time.monotonic() + seconds
    try:
        while not condition():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the worker never got there"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)


def expire_leases(portal) -> None:
    """The two minutes of a lease pass: its end moves into the past, as the clock would."""

    async def work():
        async with portal.ctx.db.write() as conn:
            await conn.execute("UPDATE outbox SET lease_until = '2000-01-01T00:00:00+00:00'")

    portal.call(work)


def test_a_worker_killed_before_the_mail_server_took_the_email_is_replaced_and_it_goes_once(
    portal, worker_env, scripted_smtp
):
    outbox_id = queue_email(portal)
    scripted_smtp.ehlo_stalls.append(10.0)  # the worker is connected, waiting on the server
    kill_when(start_worker(worker_env), lambda: scripted_smtp.ehlo_seen == 1)
    row = outbox_row(portal, outbox_id)
    assert (row.status, row.attempts) == ("pending", 0) and row.lease_owner  # the claim held
    assert "delivered or tried 0 messages" in worker_once(worker_env)  # its lease still runs
    expire_leases(portal)
    assert "delivered or tried 1 messages" in worker_once(worker_env)
    assert scripted_smtp.message_ids() == [row.message_id]
    assert outbox_row(portal, outbox_id).status == "sent"


def test_a_text_twilio_took_before_the_worker_died_is_sent_again_after_the_lease(
    portal, worker_env, twilio
):
    # The worker died waiting for Twilio's answer: nothing tells us Twilio took the text, and
    # its API has no idempotency key. The text goes again: at least once, never lost.
    async def queue():
        async with portal.ctx.db.write() as conn:
            return await outbox.queue_text(
                conn, portal.ctx, template="help", to=PAT, body="Help!", requires_consent=False
            )

    outbox_id = portal.call(queue)
    twilio.answer(201, {"sid": "SMlost", "status": "queued"}, delay=5.0)
    kill_when(start_worker(worker_env), lambda: len(twilio.requests) == 1)
    assert outbox_row(portal, outbox_id).status == "pending"
    expire_leases(portal)
    assert "delivered or tried 1 messages" in worker_once(worker_env)
    row = outbox_row(portal, outbox_id)
    assert row.status == "sent" and row.provider_id != "SMlost"
    assert twilio.texts_to(PAT) == ["Help!", "Help!"]
