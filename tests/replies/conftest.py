"""Fixtures for tests that talk to the portal as Twilio does: a fake Twilio over real HTTP."""

from __future__ import annotations

import pytest
from twilio_steps import with_twilio


@pytest.fixture
def settings(settings, twilio):
    return with_twilio(settings, twilio)
