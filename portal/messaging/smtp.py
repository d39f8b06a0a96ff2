"""Email delivery over SMTP with aiosmtplib: one connection per batch, one recipient per message."""

from __future__ import annotations

import email.utils
import re
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import aiosmtplib

from portal.messaging.providers import MaySend, Outcome
from portal.settings import Settings


def build_message(row, *, mail_from: str) -> EmailMessage:
    """A MIME message from an outbox row. The SMTP policy refuses CR/LF in any header."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    if getattr(row, "reply_to", ""):
        message["Reply-To"] = row.reply_to  # the From is a no-reply sender
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


class SmtpProvider:
    channel = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str,
        username: str = "",
        password: str = "",
        mail_from: str,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password = username, password
        self.mail_from = mail_from
        self.timeout = timeout

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        tls: str | None = None,
    ) -> SmtpProvider:
        return cls(
            host=host or settings.smtp_host,
            port=port or settings.smtp_port,
            tls=tls or settings.smtp_tls,
            username=settings.smtp_username,
            password=str(settings.smtp_password),
            mail_from=settings.mail_from,
        )

    def _client(self) -> aiosmtplib.SMTP:
        # start_tls=True makes STARTTLS required, not opportunistic: no plain-text fallback.
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
        )

    async def send_batch(self, rows: list, may_send: MaySend | None = None) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        client = self._client()
        try:
            await client.connect()
            if self.username:
                await client.login(self.username, self.password)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return {row.id: _outcome_for(exc) for row in rows}
        try:
            for row in rows:
                if may_send is not None and not await may_send(row):
                    continue
                try:
                    message = build_message(row, mail_from=self.mail_from)
                except (ValueError, TypeError) as exc:
                    outcomes[row.id] = Outcome.failed(f"unsendable message: {exc}")
                    continue
                try:
                    await client.send_message(message)
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    outcomes[row.id] = _outcome_for(exc)
                    if not client.is_connected:
                        for rest in rows:
                            outcomes.setdefault(rest.id, Outcome.retry("connection lost"))
                        break
                else:
                    outcomes[row.id] = Outcome.sent()
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
        return outcomes


def _outcome_for(exc: BaseException) -> Outcome:
    """4xx and connection trouble are worth retrying; 5xx is the server's final word."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    code = getattr(exc, "code", None)
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(code, int) and 500 <= code < 600:
        return Outcome.failed(text)
    return Outcome.retry(text)


def failure_reason(error: str) -> str | None:
    """The reason code for an error this module stored (`Name: text`), or None when the
    error is not an SMTP one. 5xx: the server refused for good; the rest is connection
    trouble the dispatcher retried."""
    name, _, text = error.partition(":")
    code = re.match(r"\s*\((\d{3}),", text)
    if code and code.group(1).startswith("5"):
        return "mail_refused"
    if code and code.group(1).startswith("4"):
        return "mail_deferred"
    if "STARTTLS" in text and "not supported" in text:
        # We require TLS and the server does not offer it: nothing was sent in clear.
        return "tls_unavailable"
    if "Timeout" in name or "timed out" in text.lower():
        return "timeout"
    if "refused" in text.lower() or name in {"SMTPConnectError", "ConnectionRefusedError"}:
        return "connection_refused"
    if name.startswith("SMTP") or name == "connection lost":
        return "connection_lost"
    if name == "unsendable message":
        return "unsendable"
    return None
