"""Fixtures for tests that talk to the portal as Twilio does: a fake Twilio over real HTTP."""

from __future__ import annotations

import pytest
from fake_twilio import FakeTwilio
from twilio_steps import with_twilio


@pytest.fixture
def twilio():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, twilio):
    return with_twilio(settings, twilio)
