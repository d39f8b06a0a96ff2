"""Fixtures of the fault tests: a scripted SMTP server on loopback."""

from __future__ import annotations

import database_backends
import pytest
from scripted_smtp import ScriptedSmtp


@pytest.fixture
def scripted_smtp():
    server = ScriptedSmtp().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def each_backend_url(request, tmp_path):
    """A fresh database on SQLite, then on PostgreSQL, whatever backend the suite runs on: what
    these tests break behaves differently on each."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_database")
    return database_backends.sqlite_url(tmp_path)
