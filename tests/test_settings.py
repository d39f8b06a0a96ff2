"""Settings refuse what cannot be right before anything starts."""

from __future__ import annotations

import pytest

from portal.settings import DEFAULT_SECRET_KEY, Settings, SettingsError

GOOD_PRODUCTION = {
    "ENVIRONMENT": "production",
    "DATABASE_URL": "sqlite:////var/lib/portal/portal.sqlite3",
    "SECRET_KEY": "a-real-production-secret-key-0123456789abcdef",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_TLS": "none",
}


def test_production_settings_with_their_own_key_and_a_file_database_are_accepted():
    settings = Settings.from_mapping(GOOD_PRODUCTION)
    assert settings.environment == "production"


def test_production_refuses_the_default_secret_key():
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_mapping({**GOOD_PRODUCTION, "SECRET_KEY": DEFAULT_SECRET_KEY})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_mapping({**GOOD_PRODUCTION, "SECRET_KEY": "short"})


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "sqlite:///"])
def test_production_refuses_an_in_memory_database(url):
    with pytest.raises(SettingsError, match="memory"):
        Settings.from_mapping({**GOOD_PRODUCTION, "DATABASE_URL": url})


def test_an_unknown_setting_name_is_refused_by_name():
    with pytest.raises(SettingsError, match="SMTP_HOTS"):
        Settings.from_mapping({"SMTP_HOTS": "mail.example"})


def test_a_malformed_number_setting_is_refused():
    with pytest.raises(SettingsError, match="wrong form"):
        Settings.from_mapping({"SMTP_PORT": "twenty-five"})


def test_production_refuses_plain_smtp_to_a_remote_server():
    with pytest.raises(SettingsError, match="loopback"):
        Settings.from_mapping({**GOOD_PRODUCTION, "SMTP_HOST": "mail.example.com"})


def test_an_unknown_name_in_the_env_file_is_refused_not_silently_ignored(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SMTP_HOTS=mail.example.com\n")
    with pytest.raises(SettingsError, match="SMTP_HOTS"):
        Settings.from_env(env_file, environ={})


def test_the_env_file_is_read_and_the_environment_wins_over_it(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ORGANIZATION_NAME=From File\nSMTP_PORT=2525\n")
    settings = Settings.from_env(env_file, environ={"SMTP_PORT": "2626"})
    assert settings.organization_name == "From File"
    assert settings.smtp_port == 2626


@pytest.mark.parametrize(
    ("name", "value"),
    [("ORGANIZATION_TIMEZONE", "Mars/Olympus"), ("SENDING_HOURS", "8am-8pm")],
)
def test_an_unknown_time_zone_or_malformed_sending_hours_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_mapping({name: value})
