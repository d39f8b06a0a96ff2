"""Fixtures for the concurrency tests: a fake Twilio on loopback, and a deployment (one database,
the demo organization, the processes a test starts, all stopped at its end)."""

from __future__ import annotations

import pytest
from fake_twilio import FakeTwilio
from process_steps import Deployment


@pytest.fixture
def twilio():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def deployment(database_url, smtp_server, twilio, tmp_path):
    """The test's database with the demo organization loaded; processes killed at the end."""
    smtp_server.clear()
    deployed = Deployment(database_url, smtp_server, twilio, tmp_path)
    deployed.load_demo()
    try:
        yield deployed
    finally:
        deployed.stop()


@pytest.fixture
def pg_deployment(postgres_database, smtp_server, twilio, tmp_path):
    """The same on PostgreSQL whatever the suite's backend: several processes share it."""
    smtp_server.clear()
    deployed = Deployment(postgres_database, smtp_server, twilio, tmp_path)
    deployed.load_demo()
    try:
        yield deployed
    finally:
        deployed.stop()
