"""Fixtures of the fault tests: a scripted SMTP server on loopback."""

from __future__ import annotations

import pytest
from scripted_smtp import ScriptedSmtp


@pytest.fixture
def scripted_smtp():
    server = ScriptedSmtp().start()
    yield server
    server.stop()
