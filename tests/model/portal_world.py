"""One real portal per Hypothesis example: its own database, app, clock and logged-in people.

The pytest fixtures are per test, and a stateful test runs many examples in one test, so each
example builds its world here the way tests/conftest.py builds a test's, and closes it after.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import database_backends
from conftest import PUBLIC_URL, PortalDriver
from starlette.testclient import TestClient
from twilio_steps import with_twilio

from portal.app import create_app
from portal.clock import FrozenClock
from portal.people import demo
from portal.settings import Settings

LINK_RE = re.compile(r"http://portal\.test(/text-consent/[A-Za-z0-9._\-]+)")
# A login's own bookkeeping (when it was last used) is not data a page may not change.
NOT_DATA = {"sessions", "throttle_hits", "sqlite_sequence"}


def settings_for(database_url: str, smtp, twilio) -> Settings:
    base = Settings.from_mapping(
        {
            "DATABASE_URL": database_url,
            "PUBLIC_URL": PUBLIC_URL,
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "none",
            "SECRET_KEY": "test-secret-key-for-the-portal-tests-0123456789",
            "ORGANIZATION_NAME": "Riverside Dance Academy",
            "ORGANIZATION_EMAIL": "office@riverside.example",
            "ORGANIZATION_PHONE": "+12015550100",
            "SMS_PER_SECOND": "50",
        }
    )
    return with_twilio(base, twilio)


class PortalWorld:
    """The app of one example, driven through one TestClient whose cookies are swapped
    between the people using it (the parent, the office, someone holding a link)."""

    def __init__(self, smtp, twilio) -> None:
        self.smtp = smtp
        self._dir = None
        self._pg = None
        if database_backends.BACKEND == "postgresql":
            self._pg = database_backends.new_postgres_database()
            url = database_backends.postgres_url(self._pg)
        else:
            self._dir = Path(tempfile.mkdtemp(prefix="portal-model-"))
            url = database_backends.sqlite_url(self._dir)
        self.clock = FrozenClock()
        self.app = create_app(
            settings_for(url, smtp, twilio), clock=self.clock, start_dispatcher=False
        )
        self._client = TestClient(self.app, base_url=PUBLIC_URL)
        self._client.__enter__()
        self.portal = PortalDriver(self._client, self.app, smtp)
        self.portal.call(demo.load, self.app.state.ctx)
        # The client's own cookie class (Starlette's TestClient may bring its own httpx).
        self._cookies = type(self._client.cookies)
        self._jars: dict = {}
        self._who = "anyone"
        self._fresh: set[str] = set()

    def close(self) -> None:
        try:
            self._client.__exit__(None, None, None)
        finally:
            if self._pg:
                database_backends.drop_postgres_database(self._pg)
            if self._dir:
                shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def client(self) -> TestClient:
        return self._client

    def become(self, who: str, login: tuple[str, str] | None = None) -> PortalDriver:
        """Use the browser of `who`; log in again when the clock has moved since."""
        self._jars[self._who] = self._cookies(self._client.cookies)
        self._client.cookies = self._jars.get(who, self._cookies())
        self._who = who
        if login and who not in self._fresh:
            self._client.cookies.clear()
            response = self.portal.login(*login)
            assert response.status_code == 200, response.text
            self._fresh.add(who)
        return self.portal

    def clock_moved(self) -> None:
        self._fresh.clear()

    # -- reading the database -----------------------------------------------------------

    def tables(self) -> list[str]:
        if database_backends.BACKEND == "postgresql":
            sql = (
                "SELECT table_name AS name FROM information_schema.tables"
                " WHERE table_schema = 'public'"
            )
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return sorted(r.name for r in self.portal.rows(sql) if r.name not in NOT_DATA)

    def snapshot(self) -> dict[str, list[tuple]]:
        return {
            t: sorted(map(_plain, self.portal.rows(f"SELECT * FROM {t}")))  # noqa: S608
            for t in self.tables()
        }

    def ledger(self) -> list[tuple]:
        return [
            _plain(r)
            for r in self.portal.rows(
                "SELECT id, person_id, phone, old_status, new_status, channel, actor_kind,"
                " actor_person_id, evidence FROM consent_events ORDER BY id"
            )
        ]

    def outbox_since(self, last_id: int) -> list:
        return self.portal.rows(
            "SELECT id, template, recipient, person_id, message_id, requires_consent, status"
            " FROM outbox WHERE id > :id ORDER BY id",
            {"id": last_id},
        )

    def sent_texts_needing_consent(self) -> set[tuple[int, str, int | None]]:
        rows = self.portal.rows(
            "SELECT id, recipient, person_id FROM outbox WHERE channel = 'sms'"
            " AND requires_consent = 1 AND status = 'sent'"
        )
        return {(r.id, r.recipient, r.person_id) for r in rows}

    def deliver(self) -> list:
        """Everything due goes out; the mail that arrived at the SMTP server."""
        return self.portal.deliver()


def _plain(row) -> tuple:
    return tuple(dict(row).items())


def evidence_of(event: tuple) -> dict:
    return json.loads(dict(event)["evidence"] or "{}")
