"""The inbound spool: a text the database could not take at once waits here, never dropped.

Twilio waits 15 s for a webhook's answer and retries at most once, so a STOP that meets a
busy, locked or unreachable database must not simply fail. The webhook writes it to a file
(synced to disk before it answers 200), and `drain` processes the waiting files through the
same handler once the database answers again. Handling is idempotent by MessageSid, so a file
processed twice, or a text both spooled and retried by Twilio, still counts once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from portal.db import is_unavailable
from portal.messaging.providers import InboundText
from portal.replies.inbound import handle_inbound

if TYPE_CHECKING:
    from portal.context import PortalContext

log = logging.getLogger("portal.replies")

DRAIN_SECONDS = 5.0


class InboundSpool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def put(self, text: InboundText) -> Path:
        return await asyncio.to_thread(self._write, text)

    def _write(self, text: InboundText) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
        temporary = self.directory / f".{name}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(dataclasses.asdict(text), handle)
            handle.flush()
            os.fsync(handle.fileno())
        final = self.directory / name
        os.replace(temporary, final)
        # The rename is durable only once the folder itself is synced.
        folder = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return final

    def waiting(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("[0-9]*.json"))

    async def drain(self, ctx: PortalContext) -> int:
        """Process waiting texts oldest first; stop at the first the database refuses."""
        handled = 0
        for path in self.waiting():
            text = InboundText(**json.loads(path.read_text(encoding="utf-8")))
            try:
                async with ctx.db.write() as conn:
                    await handle_inbound(conn, ctx, text)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("inbound spool: database still unavailable (%s)", exc)
                break
            path.unlink()
            handled += 1
        return handled

    async def run_forever(self, ctx: PortalContext) -> None:
        while True:
            try:
                if await self.drain(ctx):
                    log.info("inbound spool: processed waiting texts")
            except Exception:  # keep trying: the files stay until they are processed
                log.exception("inbound spool: drain failed")
            await asyncio.sleep(DRAIN_SECONDS)
