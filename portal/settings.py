"""Every setting of the portal, declared once with its default and help, read from env / .env."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

from starlette.config import Config
from starlette.datastructures import Secret

DEFAULT_SECRET_KEY = "dev-secret-key-change-me"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


# The single list of settings. `.env.example` and the README are checked against it by a test.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ENVIRONMENT",
        "development",
        "`development` (local mail catcher, fake phone, /dev pages) or `production`.",
    ),
    Setting(
        "DATABASE_URL",
        "sqlite:///portal.sqlite3",
        "Where data lives: `sqlite:///path.sqlite3` or `postgresql://user@host/db`.",
    ),
    Setting(
        "SECRET_KEY",
        DEFAULT_SECRET_KEY,
        "Signs links and CSRF tokens. Must be changed in production.",
    ),
    Setting(
        "OLD_SECRET_KEYS",
        "",
        "Comma-separated earlier secret keys, still accepted for links while they rotate out.",
    ),
    Setting(
        "PUBLIC_URL",
        DEFAULT_PUBLIC_URL,
        "The address people reach the portal at; emailed links and webhook signatures use it, "
        "and requests for another host name get 400 (in development, loopback names too). "
        "In development, left at this default, it follows `portal serve --host --port`.",
    ),
    Setting(
        "SMTP_HOST",
        "",
        "Outgoing mail server. Empty in development: a local catcher, shown at /dev/mailbox.",
    ),
    Setting("SMTP_PORT", "587", "Port of the mail server."),
    Setting("SMTP_USERNAME", "", "Login for the mail server, if it needs one."),
    Setting("SMTP_PASSWORD", "", "Password for the mail server, if it needs one."),
    Setting(
        "SMTP_TLS",
        "starttls",
        "`starttls` (required, the default), `tls` (implicit TLS) or `none` (loopback only).",
    ),
    Setting(
        "SMTP_CONNECTIONS",
        "4",
        "How many connections to the mail server deliver email at once (1 to 16); each "
        "dispatcher opens its own.",
    ),
    Setting(
        "MAIL_FROM",
        "Consent Portal <no-reply@portal.example>",
        "The From address of every email the portal sends.",
    ),
    Setting(
        "ORGANIZATION_NAME",
        "Our Organization",
        "First default of the organization's name; staff edit it in the product.",
    ),
    Setting(
        "ORGANIZATION_EMAIL",
        "office@portal.example",
        "First default of the Organization Email that is told of every opt-out.",
    ),
    Setting(
        "ORGANIZATION_PHONE",
        "",
        "First default of the organization's texting number (E.164), shown in STOP notes.",
    ),
    Setting(
        "ORGANIZATION_TIMEZONE",
        "America/New_York",
        "The organization's time zone (an IANA name): scheduled texts and sending hours use it.",
    ),
    Setting(
        "SENDING_HOURS",
        "08:00-20:00",
        "When texts from staff may go out, in the organization's time zone (HH:MM-HH:MM); "
        "others wait for the next opening unless sent as urgent.",
    ),
    Setting("CONSENT_LINK_DAYS", "14", "How many days an emailed consent link stays valid."),
    Setting("PASSWORD_RESET_MINUTES", "60", "How many minutes a password-reset link stays valid."),
    Setting(
        "SESSION_DAYS",
        "14",
        "How many days a login lasts without use; each use starts the count again.",
    ),
    Setting(
        "SESSION_MAX_DAYS",
        "30",
        "How many days a login lasts at most, however often it is used; then the password is "
        "asked again.",
    ),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account SID. Empty in development: a fake phone."),
    Setting("TWILIO_AUTH_TOKEN", "", "Twilio auth token; also checks webhook signatures."),
    Setting("TWILIO_FROM_NUMBER", "", "The Twilio number texts are sent from (E.164)."),
    Setting("TWILIO_API_URL", "https://api.twilio.com", "Base URL of Twilio's REST API."),
    Setting(
        "TWILIO_MESSAGING_SERVICE_SID",
        "",
        "A Twilio Messaging Service (MG...) to send through instead of TWILIO_FROM_NUMBER; "
        "Twilio then picks the sender from its pool.",
    ),
    Setting(
        "SMS_PER_SECOND",
        "1",
        "How many texts a second the portal hands to the SMS provider (Twilio allows about 1 a "
        "second per long code); keyword replies go first.",
    ),
    Setting(
        "PROVIDER_ANSWERS_KEYWORDS",
        "false",
        "`true` when the SMS provider itself answers STOP/START/HELP, so we send no reply.",
    ),
    Setting(
        "FORWARDED_ALLOW_IPS",
        "127.0.0.1",
        "Proxies trusted to say who the client is (X-Forwarded-For); login throttling and the "
        "ledger's IP use it. Comma-separated addresses or networks (10.0.0.0/8), or * when only "
        "one load balancer can reach the portal.",
    ),
    Setting(
        "SPOOL_DIR",
        "",
        "Folder where an inbound text waits when the database cannot take it at once, so a "
        "STOP is never lost. Empty: beside the SQLite file, or ./portal-spool.",
    ),
    Setting(
        "RUN_DISPATCHER",
        "true",
        "`true`: `portal serve` delivers queued email and texts itself; `false`: leave it to "
        "`portal worker`.",
    ),
)


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclasses.dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    secret_key: Secret
    old_secret_keys: tuple[Secret, ...]
    public_url: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: Secret
    smtp_tls: str
    smtp_connections: int
    mail_from: str
    organization_name: str
    organization_email: str
    organization_phone: str
    organization_timezone: str
    sending_hours: str
    consent_link_days: int
    password_reset_minutes: int
    session_days: int
    session_max_days: int
    twilio_account_sid: str
    twilio_auth_token: Secret
    twilio_from_number: str
    twilio_api_url: str
    twilio_messaging_service_sid: str
    sms_per_second: int
    provider_answers_keywords: bool
    forwarded_allow_ips: str
    spool_dir: str
    run_dispatcher: bool

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def inbound_spool_dir(self) -> Path:
        if self.spool_dir:
            return Path(self.spool_dir)
        if self.database_url.startswith("sqlite:///"):
            database = Path(self.database_url.removeprefix("sqlite:///"))
            return database.parent / f"{database.stem}-spool"
        return Path("portal-spool")

    @property
    def signing_keys(self) -> list[str]:
        """Oldest first, newest last: itsdangerous signs with the last and accepts them all."""
        return [str(k) for k in self.old_secret_keys] + [str(self.secret_key)]

    def served_at(self, host: str, port: int) -> Settings:
        """In development, links follow the address actually served (`portal serve --port
        8123`) unless PUBLIC_URL was changed from its default; production keeps PUBLIC_URL."""
        if not self.is_development or self.public_url != DEFAULT_PUBLIC_URL:
            return self
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None  # a name, such as localhost
        if address is not None and address.is_unspecified:
            # "Every interface" is not an address a browser can open; loopback is.
            host = "::1" if address.version == 6 else "127.0.0.1"
        if address is not None and address.version == 6:
            host = f"[{host}]"
        return dataclasses.replace(self, public_url=f"http://{host}:{port}")

    @classmethod
    def from_env(
        cls, env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None
    ) -> Settings:
        env_path = env_file if env_file and Path(env_file).is_file() else None
        config = Config(env_path, environ=environ if environ is not None else os.environ)
        # The environment holds every program's variables, but the .env file is ours alone:
        # a misspelt name there would otherwise be silently ignored.
        unknown = set(config.file_values) - {s.name for s in SETTINGS}
        if unknown:
            raise SettingsError(f"unknown settings in {env_path}: {', '.join(sorted(unknown))}")
        return cls.from_mapping({s.name: config(s.name, default=s.default) for s in SETTINGS})

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        """Build settings from names to strings; missing names take their defaults."""
        raw = {s.name: s.default for s in SETTINGS} | dict(values)
        unknown = set(raw) - {s.name for s in SETTINGS}
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        try:
            settings = cls(
                environment=raw["ENVIRONMENT"].strip().lower(),
                database_url=raw["DATABASE_URL"],
                secret_key=Secret(raw["SECRET_KEY"]),
                old_secret_keys=tuple(
                    Secret(k.strip()) for k in raw["OLD_SECRET_KEYS"].split(",") if k.strip()
                ),
                public_url=raw["PUBLIC_URL"].rstrip("/"),
                smtp_host=raw["SMTP_HOST"],
                smtp_port=int(raw["SMTP_PORT"]),
                smtp_username=raw["SMTP_USERNAME"],
                smtp_password=Secret(raw["SMTP_PASSWORD"]),
                smtp_tls=raw["SMTP_TLS"].strip().lower(),
                smtp_connections=int(raw["SMTP_CONNECTIONS"]),
                mail_from=raw["MAIL_FROM"],
                organization_name=raw["ORGANIZATION_NAME"],
                organization_email=raw["ORGANIZATION_EMAIL"],
                organization_phone=raw["ORGANIZATION_PHONE"],
                organization_timezone=raw["ORGANIZATION_TIMEZONE"].strip(),
                sending_hours=raw["SENDING_HOURS"].strip(),
                consent_link_days=int(raw["CONSENT_LINK_DAYS"]),
                password_reset_minutes=int(raw["PASSWORD_RESET_MINUTES"]),
                session_days=int(raw["SESSION_DAYS"]),
                session_max_days=int(raw["SESSION_MAX_DAYS"]),
                twilio_account_sid=raw["TWILIO_ACCOUNT_SID"],
                twilio_auth_token=Secret(raw["TWILIO_AUTH_TOKEN"]),
                twilio_from_number=raw["TWILIO_FROM_NUMBER"],
                twilio_api_url=raw["TWILIO_API_URL"].rstrip("/"),
                twilio_messaging_service_sid=raw["TWILIO_MESSAGING_SERVICE_SID"].strip(),
                sms_per_second=int(raw["SMS_PER_SECOND"]),
                provider_answers_keywords=_as_bool(raw["PROVIDER_ANSWERS_KEYWORDS"]),
                forwarded_allow_ips=raw["FORWARDED_ALLOW_IPS"].strip(),
                spool_dir=raw["SPOOL_DIR"].strip(),
                run_dispatcher=_as_bool(raw["RUN_DISPATCHER"]),
            )
        except ValueError as exc:
            raise SettingsError(f"a setting has the wrong form: {exc}") from exc
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot be right, before anything starts."""
        if self.environment not in {"development", "production"}:
            raise SettingsError("ENVIRONMENT must be `development` or `production`")
        if not 1 <= self.session_days <= self.session_max_days:
            raise SettingsError("SESSION_DAYS must be at least 1 and at most SESSION_MAX_DAYS")
        try:
            zoneinfo.ZoneInfo(self.organization_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError("ORGANIZATION_TIMEZONE must be a time zone name") from exc
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", self.sending_hours):
            raise SettingsError("SENDING_HOURS must read like 08:00-20:00")
        if self.sms_per_second < 1:
            raise SettingsError("SMS_PER_SECOND must be 1 or more")
        if not 1 <= self.smtp_connections <= 16:
            raise SettingsError("SMTP_CONNECTIONS must be from 1 to 16")
        if self.smtp_tls not in {"starttls", "tls", "none"}:
            raise SettingsError("SMTP_TLS must be `starttls`, `tls` or `none`")
        if self.environment == "production":
            if str(self.secret_key) == DEFAULT_SECRET_KEY or len(str(self.secret_key)) < 32:
                raise SettingsError("production needs its own SECRET_KEY of 32+ characters")
            if ":memory:" in self.database_url or self.database_url.rstrip("/") in {
                "sqlite:",
                "sqlite:/",
                "sqlite://",
            }:
                raise SettingsError("production needs a database on disk, not in memory")
            if not self.smtp_host:
                raise SettingsError("production needs SMTP_HOST: the catcher is for development")
            if self.smtp_tls == "none" and self.smtp_host not in {"127.0.0.1", "::1", "localhost"}:
                raise SettingsError("SMTP_TLS=none is only allowed for a server on loopback")


class SettingsError(Exception):
    """A setting is missing, malformed or unsafe for the chosen environment."""
