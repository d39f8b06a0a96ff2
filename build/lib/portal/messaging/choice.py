"""Which provider delivers each channel, chosen from the settings.

A real SMTP server and Twilio when they are configured; in development without them, the
local mail catcher and the fake phone, started inside the process. A second SMS provider is
one more module beside twilio.py and one more branch here.
"""

from __future__ import annotations

import dataclasses
import logging

from portal.messaging.fakephone import FakePhone
from portal.messaging.mailcatcher import MailCatcher
from portal.messaging.providers import Provider
from portal.messaging.smtp import SmtpProvider
from portal.messaging.twilio import TwilioProvider
from portal.settings import Settings

log = logging.getLogger("portal.messaging")


@dataclasses.dataclass
class Providers:
    by_channel: dict[str, Provider]
    mail_catcher: MailCatcher | None = None
    fake_phone: FakePhone | None = None

    def stop(self) -> None:
        if self.mail_catcher is not None:
            self.mail_catcher.stop()


def choose(
    settings: Settings, *, status_callback: str, given: dict[str, Provider] | None = None
) -> Providers:
    """Providers for every channel: those `given` (tests), then the settings' choice.
    `status_callback` is the absolute URL of the delivery-status webhook."""
    chosen = Providers(dict(given or {}))
    if "email" not in chosen.by_channel:
        if settings.smtp_host:
            chosen.by_channel["email"] = SmtpProvider.from_settings(settings)
        elif settings.is_development:
            chosen.mail_catcher = catcher = MailCatcher().start()
            chosen.by_channel["email"] = SmtpProvider.from_settings(
                settings, host=catcher.host, port=catcher.port, tls="none"
            )
            log.warning("no SMTP_HOST: mail goes to the local catcher, see /dev/mailbox")
    if "sms" not in chosen.by_channel:
        if settings.twilio_account_sid:
            chosen.by_channel["sms"] = TwilioProvider.from_settings(
                settings, status_callback=status_callback
            )
        elif settings.is_development:
            chosen.fake_phone = chosen.by_channel["sms"] = FakePhone()
            log.warning("no Twilio settings: texts go to the fake phone, see /dev/phone")
    return chosen
