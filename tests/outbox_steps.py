"""Steps shared by tests of delivery: queue a message the way a change does, read its row."""

from __future__ import annotations

from portal.messaging import outbox


def queue_email(portal, to: str = "avery.parent@demo.example") -> int:
    """Queue one email the way every change does, in a write transaction; its outbox id."""

    async def work():
        async with portal.ctx.db.write() as conn:
            return await outbox.queue_email(
                conn,
                portal.ctx,
                template="password_reset",
                to=to,
                email=to,
                link_url="http://portal.test/reset-password/x",
                minutes=60,
            )

    return portal.call(work)


def outbox_row(portal, outbox_id: int):
    return portal.rows("SELECT * FROM outbox WHERE id = :id", {"id": outbox_id})[0]
