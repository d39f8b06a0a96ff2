"""Email delivery over SMTP with aiosmtplib: one recipient per message, over a few connections
kept open while mail keeps flowing (the dispatcher closes them when nothing is due)."""

from __future__ import annotations

import asyncio
import email.utils
import io
import re
import secrets
import ssl
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32

import aiosmtplib

from portal.messaging.providers import MaySend, Outcome
from portal.settings import Settings


class _MessagePolicy(Compat32):
    """The email package's compat32 policy, which stores headers as given instead of parsing
    each one into an object (most of a message's cost under the default policy), with what
    the SMTP policy guaranteed kept: CR/LF in a header value is refused, lines end in CRLF.
    A short ASCII header is written as it is, which is what compat32's folding makes of it;
    an address in UTF-8 is written as UTF-8 (it goes only with SMTPUTF8), never RFC 2047-encoded,
    which would hide the address."""

    def header_store_parse(self, name, value):
        if isinstance(value, str) and ("\r" in value or "\n" in value):
            raise ValueError(f"the {name} header may not contain a line break")
        return super().header_store_parse(name, value)

    def fold_binary(self, name, value):
        line = f"{name}: {value}"
        if isinstance(value, str) and len(line) <= self.max_line_length and line.isascii():
            return (line + self.linesep).encode("ascii")
        if isinstance(value, str) and name.lower() in _ADDRESS_HEADERS:
            return (line + self.linesep).encode("utf-8")
        return super().fold_binary(name, value)


_ADDRESS_HEADERS = {"to", "reply-to"}  # From is made ASCII once, with formataddr


_POLICY = _MessagePolicy(linesep="\r\n")
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # not compat32's base64: a text part stays readable on the wire
# RFC 5322: no line longer than 998 characters, CRLF excluded.
_LONGEST_LINE = 998


def _text_part(text: str, subtype: str) -> MIMEText:
    """ASCII with lines of legal length goes as it is (7bit); anything else as quoted-printable
    UTF-8, so no server without 8BITMIME has to carry raw bytes."""
    plain = text.isascii() and all(len(line) <= _LONGEST_LINE for line in text.splitlines())
    return MIMEText(text, subtype, "us-ascii" if plain else _UTF8_QP, policy=_POLICY)


def _boundary(*parts: str) -> str:
    """A random boundary no part contains (the generator would otherwise search every message
    with a freshly compiled pattern). 96 random bits, short enough that the Content-Type header
    needs no folding."""
    while True:
        boundary = f"=_{secrets.token_hex(12)}"
        if not any(boundary in part for part in parts):
            return boundary


def build_message(row, *, mail_from: str) -> bytes:
    """The MIME message of an outbox row, as it goes on the wire. Raises ValueError for CR/LF
    in any header, before anything is sent."""
    parts = [_text_part(row.body_text, "plain")]
    if row.body_html:
        parts.append(_text_part(row.body_html, "html"))
    if len(parts) == 1:
        message = parts[0]
    else:
        message = MIMEMultipart(
            "alternative",
            boundary=_boundary(row.body_text, row.body_html),
            _subparts=parts,
            policy=_POLICY,
        )
    message["From"] = mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    if getattr(row, "reply_to", ""):
        message["Reply-To"] = row.reply_to  # the From is a no-reply sender
    with io.BytesIO() as out:
        BytesGenerator(out, policy=_POLICY).flatten(message)
        return out.getvalue()


class SmtpProvider:
    """Sends each batch over `connections` SMTP connections at once, each carrying its own
    share of the rows in turn: while one waits for the server's answer, another's message is
    built. The connections are kept between batches while mail keeps flowing."""

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
        connections: int = 1,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password = username, password
        self.mail_from = mail_from
        # Parsed once: the envelope sender, and the From header with only a non-ASCII display
        # name encoded (encoding the whole header would hide the address).
        name, self._envelope_from = email.utils.parseaddr(mail_from)
        self._from_header = email.utils.formataddr((name, self._envelope_from))
        self.timeout = timeout
        self.connections = max(connections, 1)
        self._tls_context: ssl.SSLContext | None = None
        # Connections kept open between batches, and the event loop they belong to.
        self._idle: list[aiosmtplib.SMTP] = []
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
            connections=settings.smtp_connections,
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
        """A connection kept from an earlier batch if the server still answers on it (a NOOP:
        a server may drop an idle client), else a new one."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # Kept by another event loop (a test's): unusable here, and not ours to quit.
            for client in self._idle:
                client.close()
            self._idle, self._loop = [], loop
        while self._idle:
            client = self._idle.pop()
            if not client.is_connected:
                continue
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
        return client

    async def close(self) -> None:
        """Say goodbye on every kept connection: nothing is due for now."""
        idle, self._idle = self._idle, []
        same_loop = self._loop is asyncio.get_running_loop()
        for client in idle:
            if not client.is_connected:
                continue
            if not same_loop:
                client.close()
                continue
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()

    async def _send(self, client: aiosmtplib.SMTP, row) -> None:
        """Raises ValueError or TypeError for a message that cannot be sent (CR/LF in a header),
        before anything of it is sent."""
        message = build_message(row, mail_from=self._from_header)
        addresses = (self._envelope_from, row.recipient, getattr(row, "reply_to", "") or "")
        # An address in UTF-8 needs a server that takes it (SMTPUTF8); aiosmtplib refuses to
        # send to one that does not, before anything of the message is sent.
        options = [] if all(a.isascii() for a in addresses) else ["SMTPUTF8"]
        await client.sendmail(self._envelope_from, [row.recipient], message, mail_options=options)

    async def send_batch(self, rows: list, may_send: MaySend | None = None) -> dict[int, Outcome]:
        # Every row goes to exactly one share, and each share is sent over its own connection.
        shares = [rows[i :: self.connections] for i in range(min(self.connections, len(rows)))]
        outcomes: dict[int, Outcome] = {}
        async with asyncio.TaskGroup() as group:
            for share in shares:
                group.create_task(self._send_share(share, may_send, outcomes))
        return outcomes

    async def _send_share(self, rows: list, may_send: MaySend | None, outcomes: dict) -> None:
        """One connection's rows, in turn. Trouble on it is told for its own rows only."""
        try:
            client = await self._connection()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            outcomes.update({row.id: _outcome_for(exc) for row in rows})
            return
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
            # Kept for the next batch; a lost one is reopened then. A share cut short (say,
            # cancelled mid-message) leaves the session in an unknown state: it is closed.
            if finished and client.is_connected:
                self._idle.append(client)
            else:
                client.close()


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
