"""The development mail catcher: an aiosmtpd server on loopback that keeps what it receives."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import email
import email.policy
import logging
import socket
import threading

from aiosmtpd.controller import Controller


@dataclasses.dataclass(frozen=True)
class CaughtMail:
    received_at: dt.datetime
    mail_from: str
    to: list[str]
    subject: str
    message_id: str
    text: str
    html: str
    reply_to: str = ""


class _Handler:
    def __init__(self, box: MailCatcher) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text_part = message.get_body(("plain",))
        html_part = message.get_body(("html",))
        self.box.add(
            CaughtMail(
                received_at=dt.datetime.now(dt.UTC),
                mail_from=envelope.mail_from,
                to=list(envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                message_id=str(message.get("Message-ID", "")),
                text=text_part.get_content() if text_part else "",
                html=html_part.get_content() if html_part else "",
                reply_to=str(message.get("Reply-To", "")),
            )
        )
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MailCatcher:
    """Runs in its own thread (aiosmtpd's Controller); keeps the newest `keep` messages."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, keep: int = 500) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._messages: collections.deque[CaughtMail] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> MailCatcher:
        # Built here, not in __init__: a Controller makes an event loop that only a started
        # and stopped server closes again.
        # aiosmtpd logs every SMTP exchange at INFO on "mail.log", and "Connection lost during
        # _handle_client()" for every connection: for the Controller's own readiness probe
        # (it connects, reads the banner and hangs up) and even after a clean QUIT. That is
        # protocol chatter of a development tool, not news; its warnings and errors still show.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def add(self, message: CaughtMail) -> None:
        with self._lock:
            self._messages.append(message)

    def messages(self) -> list[CaughtMail]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._messages))

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
