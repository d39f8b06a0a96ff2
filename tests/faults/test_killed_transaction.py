"""A process killed (SIGKILL) inside a write transaction leaves nothing half-written: the STOP
it was recording is wholly absent, the database opens and takes the same change afterwards."""

from __future__ import annotations

import subprocess
import sys

import pytest
from twilio_steps import ORG_NUMBER, PAT

from portal.messaging.providers import InboundText
from portal.replies.inbound import handle_inbound

# The real write path of a STOP (the webhook's), stopped dead after every row is written and
# before COMMIT: the inbound message, the number's suppression, each person's event and
# state, the confirmation text and the office's email.
WRITER = """
import asyncio, sys, time
from starlette.routing import Router
from portal.context import PortalContext
from portal.messaging.providers import InboundText
from portal.replies.inbound import handle_inbound
from portal.settings import Settings
from portal.web.routes import routes

async def main(url):
    settings = Settings.from_mapping({
        "DATABASE_URL": url,
        "PUBLIC_URL": "http://portal.test",
        "SECRET_KEY": "test-secret-key-for-the-portal-tests-0123456789",
    })
    ctx = PortalContext.build(settings)
    ctx.router = Router(routes=routes(settings))
    await ctx.db.connect()
    async with ctx.db.write() as conn:
        text = InboundText(message_sid="SMkilled", from_phone=sys.argv[2],
                           to_phone=sys.argv[3], body="STOP")
        await handle_inbound(conn, ctx, text)
        print("written", flush=True)
        time.sleep(60)  # blocks the loop: the transaction stays open until the SIGKILL

asyncio.run(main(sys.argv[1]))
"""

TABLES = ("inbound_messages", "phone_suppressions", "consent_events", "consent_state", "outbox")


@pytest.fixture
def database_url(each_backend_url):
    return each_backend_url


def snapshot(portal) -> dict:
    return {table: portal.rows(f"SELECT * FROM {table} ORDER BY 1") for table in TABLES}  # noqa: S608


def test_a_process_killed_inside_a_stop_transaction_leaves_nothing_and_the_stop_can_be_redone(
    portal, database_url
):
    before = snapshot(portal)
    writer = subprocess.Popen(  # noqa: S603 (our own interpreter, no shell)
        [sys.executable, "-c", WRITER, database_url, PAT, ORG_NUMBER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = writer.stdout.readline()  # bounded: the writer fails or says so within seconds
        assert line.strip() == "written", writer.stderr.read()
    finally:
        writer.kill()  # SIGKILL: no rollback, no close, no atexit
        writer.communicate(timeout=10)
    assert snapshot(portal) == before
    if portal.ctx.db.dialect == "sqlite":
        assert portal.rows("PRAGMA integrity_check")[0]["integrity_check"] == "ok"

    async def stop_again():
        async with portal.ctx.db.write(turn_timeout=5) as conn:
            text = InboundText(
                message_sid="SMagain", from_phone=PAT, to_phone=ORG_NUMBER, body="STOP"
            )
            await handle_inbound(conn, portal.ctx, text)

    portal.call(stop_again)  # the killed writer's locks are gone with it
    after = snapshot(portal)
    assert [m.message_sid for m in after["inbound_messages"]][-1:] == ["SMagain"]
    assert len(after["phone_suppressions"]) == len(before["phone_suppressions"]) + 1
    new_events = after["consent_events"][len(before["consent_events"]) :]
    new_outbox = after["outbox"][len(before["outbox"]) :]
    assert new_events and {r.channel for r in new_outbox} == {"sms", "email"}
