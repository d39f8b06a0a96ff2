"""A STOP is never lost: one that meets a locked database waits in the spool, then counts once."""

from __future__ import annotations

import sqlite3

import pytest
from twilio_steps import PAT, text_in

from portal import db

# These tests lock the SQLite file itself; PostgreSQL's faults are in tests/faults/.
pytestmark = pytest.mark.sqlite


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Other processes' locks are waited out for 0.3 s instead of 5, to keep the test quick."""
    monkeypatch.setitem(db.SQLITE_PRAGMAS, "busy_timeout", 300)


def database_file(portal) -> str:
    return portal.ctx.settings.database_url.removeprefix("sqlite:///")


def test_a_stop_that_meets_a_locked_database_is_spooled_answered_and_processed_later(
    short_busy_timeout, portal, twilio
):
    spool = portal.app.state.inbound_spool
    blocker = sqlite3.connect(database_file(portal), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        response = text_in(portal, "STOP", sid="SM" + "7" * 32)
        assert response.status_code == 200  # Twilio must not see an error, nor retry
        assert len(spool.waiting()) == 1
        assert portal.rows("SELECT phone FROM phone_suppressions") == []
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert portal.call(spool.drain, portal.ctx) == 1
    assert spool.waiting() == []
    [suppressed] = portal.rows("SELECT phone, active FROM phone_suppressions")
    assert (suppressed.phone, suppressed.active) == (PAT, 1)
    # Twilio's own retry of the same text arrives later: it changes nothing more.
    events = len(portal.rows("SELECT id FROM consent_events"))
    assert text_in(portal, "STOP", sid="SM" + "7" * 32).status_code == 200
    assert len(portal.rows("SELECT id FROM consent_events")) == events
    assert len(portal.rows("SELECT id FROM inbound_messages")) == 1


def test_a_spooled_text_waits_while_the_database_is_still_locked(
    short_busy_timeout, portal, twilio
):
    spool = portal.app.state.inbound_spool
    blocker = sqlite3.connect(database_file(portal), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        assert text_in(portal, "STOP").status_code == 200
        assert portal.call(spool.drain, portal.ctx) == 0  # still locked: kept, not dropped
        assert len(spool.waiting()) == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert portal.call(spool.drain, portal.ctx) == 1
