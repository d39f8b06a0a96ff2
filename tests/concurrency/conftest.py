"""Fixtures for the concurrency tests: a deployment (one database, the demo organization, the
processes a test starts, all stopped at its end)."""

from __future__ import annotations

import pytest
from process_steps import Deployment


def _deployed(database_url, smtp_server, twilio, tmp_path):
    smtp_server.clear()
    deployed = Deployment(database_url, smtp_server, twilio, tmp_path)
    deployed.load_demo()
    try:
        yield deployed
    finally:
        deployed.stop()


@pytest.fixture
def deployment(database_url, smtp_server, twilio, tmp_path):
    """The test's database with the demo organization loaded; processes killed at the end."""
    yield from _deployed(database_url, smtp_server, twilio, tmp_path)


@pytest.fixture
def pg_deployment(postgres_database, smtp_server, twilio, tmp_path):
    """The same on PostgreSQL whatever the suite's backend: several processes share it."""
    yield from _deployed(postgres_database, smtp_server, twilio, tmp_path)
