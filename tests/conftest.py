"""Fixtures: a real database per test (a SQLite file, or PostgreSQL: see databases.py), a real
aiosmtpd server, a frozen clock, the real app."""

from __future__ import annotations

import re

import database_backends
import pytest
from argon2 import PasswordHasher
from fake_twilio import FakeTwilio
from starlette.testclient import TestClient

from portal.accounts import passwords
from portal.app import create_app
from portal.clock import FrozenClock
from portal.db import people as people_rows
from portal.messaging.mailcatcher import MailCatcher
from portal.people import demo
from portal.settings import Settings

PUBLIC_URL = "http://portal.test"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def cheap_argon2():
    """Still argon2id, at the lowest cost: each test hashes the demo passwords afresh, and the
    production parameters (~0.15 s a hash) would make the suite minutes long."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        passwords._dummy_hash.cache_clear()  # made afresh, by the cheap hasher
        yield
    passwords._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd), shared by the session and emptied per test."""
    server = MailCatcher().start()
    yield server
    server.stop()


@pytest.fixture
def twilio():
    """A fake Twilio REST API on loopback (tests/fake_twilio.py): the one thing faked."""
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture(scope="session", autouse=True)
def postgres_template():
    """The migrated template each PostgreSQL test database is cloned from, dropped at the end."""
    yield
    database_backends.drop_template()


@pytest.fixture
def postgres_database():
    """A fresh, migrated PostgreSQL database (whatever the suite's backend); its URL."""
    name = database_backends.new_postgres_database()
    yield database_backends.postgres_url(name)
    database_backends.drop_postgres_database(name)


@pytest.fixture
def database_url(request, tmp_path):
    """The test's own database, on the backend the suite runs on. Tests marked `sqlite` are
    about the SQLite file itself (its locks, its PRAGMAs) and get one whatever the backend."""
    if database_backends.BACKEND == "postgresql" and not request.node.get_closest_marker("sqlite"):
        return request.getfixturevalue("postgres_database")
    return database_backends.sqlite_url(tmp_path)


@pytest.fixture
def settings(database_url, smtp_server):
    return Settings.from_mapping(
        {
            "DATABASE_URL": database_url,
            "PUBLIC_URL": PUBLIC_URL,
            "SMTP_HOST": smtp_server.host,
            "SMTP_PORT": str(smtp_server.port),
            "SMTP_TLS": "none",
            "SECRET_KEY": "test-secret-key-for-the-portal-tests-0123456789",
            "ORGANIZATION_NAME": "Riverside Dance Academy",
            "ORGANIZATION_EMAIL": "office@riverside.example",
            "ORGANIZATION_PHONE": "+12015550100",
            # Most tests deliver several texts in one frozen second; tests of the pace set 1.
            "SMS_PER_SECOND": "50",
        }
    )


@pytest.fixture
def app(settings, clock):
    # The dispatcher does not run in the background: tests deliver with `portal.deliver()`, so
    # every assertion about mail is deterministic.
    return create_app(settings, clock=clock, start_dispatcher=False)


class PortalDriver:
    """Drives the real app like a person with a browser, plus a few behind-the-scenes helpers."""

    def __init__(self, client: TestClient, app, mailbox: MailCatcher) -> None:
        self.client = client
        self.app = app
        self.ctx = app.state.ctx
        self.mailbox = mailbox

    def call(self, fn, *args, **kwargs):
        """Run an async function on the app's event loop (database checks, services)."""
        return self.client.portal.call(lambda: fn(*args, **kwargs))

    def csrf(self, path: str = "/login") -> str:
        page = self.client.get(path)
        match = CSRF_RE.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str = demo.PARENT_EMAIL, password: str = demo.PARENT_PASSWORD):
        response = self.client.post(
            "/login",
            data={
                "email": email,
                "password": password,
                "csrf_token": self.csrf("/login"),
            },
        )
        return response

    def post(self, path: str, data: dict, *, token_from: str | None = None):
        """Submit a form the way a browser does: read the page's token, then POST."""
        token = self.csrf(token_from or path)
        return self.client.post(path, data={**data, "csrf_token": token})

    def deliver(self) -> list:
        """Run the outbox dispatcher until nothing is due; return the mail it sent, newest first.

        Tests run no background dispatcher, so everything caught here came from this call.
        Mass texts still being queued in the background are waited for first: they are due.
        """
        queueing = getattr(self.app.state, "mass_text_queueing", None)
        if queueing is not None:
            self.call(queueing.join)
        self.mailbox.clear()
        self.call(self.app.state.dispatcher.drain)
        return self.mailbox.messages()

    async def _query(self, sql: str, values: dict | None):
        async with self.ctx.db.read() as conn:
            return await conn.fetch_all(sql, values or {})

    def rows(self, sql: str, values: dict | None = None) -> list:
        return self.call(self._query, sql, values)

    def table_names(self) -> list[str]:
        """Every table of the portal's schema, on either backend."""
        if self.ctx.db.dialect == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        # sqlite_sequence is SQLite's own bookkeeping, not ours.
        return sorted(row.name for row in self.rows(sql) if row.name != "sqlite_sequence")

    def save_person(self, who: str, /, *, allow_texting: bool, **changes: str):
        """Submit a person's edit form as a parent would: their current details, `changes`
        applied, and the *Allow text messaging?* switch on or off."""
        [person] = self.rows(
            "SELECT id, kind, first_name, last_name, email, cell_phone FROM people"
            " WHERE first_name = :n",
            {"n": who},
        )
        form = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email or "",
            "cell_phone": person.cell_phone or "",
            **changes,
        }
        if allow_texting:
            form["allow_texting"] = "on"
        area = "contacts" if person.kind == "contact" else "students"
        return self.post(f"/account/{area}/{person.id}/edit", form)

    def person_id(self, first_name: str) -> int:
        return self.rows("SELECT id FROM people WHERE first_name = :n", {"n": first_name})[0].id

    def set_language(self, first_name: str, language: str | None) -> None:
        """A person's saved language, as the parent's Language select saves it."""
        person_id = self.person_id(first_name)

        async def save():
            async with self.ctx.db.write() as conn:
                await people_rows.set_language(conn, person_id, language)

        self.call(save)


@pytest.fixture
def portal(app, mailbox):
    with TestClient(app, base_url=PUBLIC_URL) as client:
        driver = PortalDriver(client, app, mailbox)
        driver.call(demo.load, app.state.ctx)
        yield driver


@pytest.fixture
def parent(portal):
    """The demo parent, logged in."""
    response = portal.login()
    assert response.status_code == 200 and response.url.path == "/account/settings"
    return portal
