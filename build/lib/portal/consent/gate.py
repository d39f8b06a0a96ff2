"""Consent's answers to the outbox dispatcher: may this text go now, and a carrier's STOP.

The dispatcher (messaging/) is handed this object rather than importing consent, so the
arrows keep running down: consent queues messages, and messaging asks consent through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from portal.consent import commands
from portal.db import Conn, Row

if TYPE_CHECKING:
    from portal.context import PortalContext


class ConsentGate:
    async def may_send(self, conn: Conn, row: Row) -> bool:
        """Emails and the replies the rules allow always go; any other text needs may_text
        for its person at this moment (rule 2)."""
        if row.channel != "sms" or not row.requires_consent:
            return True
        return bool(row.person_id) and await commands.may_text(conn, row.person_id)

    async def recipient_opted_out(
        self, conn: Conn, ctx: PortalContext, *, phone: str, evidence: Mapping
    ) -> None:
        await commands.carrier_opt_out(conn, ctx, phone=phone, detail=dict(evidence))
