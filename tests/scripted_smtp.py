"""An SMTP server on loopback (aiosmtpd) that answers as each test scripts it: refusals, stalls."""

from __future__ import annotations

import asyncio
import collections
import logging

from aiosmtpd.controller import Controller

from portal.messaging.mailcatcher import MailCatcher, _Handler


class _Scripted(_Handler):
    """The mail catcher's handler, answering EHLO and DATA as the test scripted."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        self.box.ehlo_seen += 1
        if self.box.ehlo_stalls:
            # A server that has accepted the connection but does not answer in time.
            await asyncio.sleep(self.box.ehlo_stalls.popleft())
        return responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.box.data_seen += 1
        answer = self.box.data_answers.popleft() if self.box.data_answers else "250"
        if isinstance(answer, float):
            # Keeps the message (as a server commits it before it answers), but answers only
            # after the client has given up.
            accepted = await super().handle_DATA(server, session, envelope)
            await asyncio.sleep(answer)
            return accepted
        if answer.startswith("250"):
            return await super().handle_DATA(server, session, envelope)
        return answer


class ScriptedSmtp(MailCatcher):
    """A real aiosmtpd server on loopback. `data_answers`: the replies to the next DATA
    commands ('451 ...', '550 ...', or seconds to stall before accepting); then it accepts.
    `ehlo_stalls`: seconds to wait before answering the next EHLOs."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port=port)
        self.data_answers: collections.deque[str | float] = collections.deque()
        self.ehlo_stalls: collections.deque[float] = collections.deque()
        self.ehlo_seen = 0
        self.data_seen = 0

    def start(self) -> ScriptedSmtp:
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # stalls end in lost connections
        self._controller = Controller(_Scripted(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def message_ids(self) -> list[str]:
        return [m.message_id for m in self.messages()]
