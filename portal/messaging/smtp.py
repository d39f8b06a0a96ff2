"""Email delivery over SMTP with aiosmtplib: one recipient per message, over one connection
kept open while mail keeps flowing (the dispatcher closes it when nothing is due)."""

from __future__ import annotations

import asyncio
import email.utils
import re
import ssl
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
        self._tls_context: ssl.SSLContext | None = None
        # The open connection, kept between batches, and the event loop it belongs to.
        self._open: aiosmtplib.SMTP | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

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

    def _tls(self) -> ssl.SSLContext | None:
        """Built once per provider, and only when TLS is used: building one loads the system's
        certificates, which costs more than sending a message."""
        if self.tls == "none":
            return None
        if self._tls_context is None:
            # As aiosmtplib builds its own: certificates and host names are checked.
            self._tls_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        return self._tls_context

    def _client(self) -> aiosmtplib.SMTP:
        # start_tls=True makes STARTTLS required, not opportunistic: no plain-text fallback.
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            tls_context=self._tls(),
        )

    async def _connection(self) -> aiosmtplib.SMTP:
        """The connection kept from the last batch if the server still answers on it (a NOOP:
        a server may drop an idle client), else a new one."""
        client, loop = self._open, asyncio.get_running_loop()
        self._open = None
        if client is not None and client.is_connected and self._loop is loop:
            try:
                await client.noop()
                return client
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
        client = self._client()
        try:
            await client.connect()
            if self.username:
                await client.login(self.username, self.password)
        except BaseException:
            client.close()
            raise
        self._loop = loop
        return client

    async def close(self) -> None:
        """Say goodbye on the kept connection, if any: nothing is due for now."""
        client, self._open = self._open, None
        if client is None or not client.is_connected:
            return
        if self._loop is not asyncio.get_running_loop():
            client.close()
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

    async def _send(self, client: aiosmtplib.SMTP, row) -> None:
        """Raises ValueError or TypeError for a message that cannot be sent (CR/LF in a header),
        before anything of it is sent."""
        await client.send_message(build_message(row, mail_from=self.mail_from))

    async def send_batch(self, rows: list, may_send: MaySend | None = None) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        try:
            client = await self._connection()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return {row.id: _outcome_for(exc) for row in rows}
        finished = False
        try:
            for row in rows:
                if may_send is not None and not await may_send(row):
                    continue
                try:
                    await self._send(client, row)
                except (ValueError, TypeError) as exc:
                    outcomes[row.id] = Outcome.failed(f"unsendable message: {exc}")
                    continue
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    outcomes[row.id] = _outcome_for(exc)
                    if not client.is_connected:
                        for rest in rows:
                            outcomes.setdefault(rest.id, Outcome.retry("connection lost"))
                        break
                else:
                    outcomes[row.id] = Outcome.sent()
            finished = True
        finally:
            # Kept for the next batch; a lost one is reopened then. A batch cut short (say,
            # cancelled mid-message) leaves the session in an unknown state: it is closed.
            if finished and client.is_connected:
                self._open = client
            else:
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
