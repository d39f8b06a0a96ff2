"""Fixtures for tests that talk to the portal as Twilio does: a fake Twilio over real HTTP."""

from __future__ import annotations

import dataclasses

import pytest
from fake_twilio import FakeTwilio
from twilio_steps import ORG_NUMBER, TOKEN


@pytest.fixture
def twilio():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, twilio):
    return dataclasses.replace(
        settings,
        twilio_account_sid="ACtest",
        twilio_auth_token=type(settings.twilio_auth_token)(TOKEN),
        twilio_from_number=ORG_NUMBER,
        twilio_api_url=twilio.url,
    )
