"""Queries for conversations: the numbers that texted us and what each sent."""

from __future__ import annotations

from portal.db import Conn, Row


async def numbers(conn: Conn, limit: int = 100) -> list[Row]:
    """The numbers that texted us, the one that texted last first, with their last text."""
    return await conn.fetch_all(
        "SELECT i.from_phone AS phone, i.body, i.received_at, g.received FROM"
        " (SELECT from_phone, MAX(id) AS last_id, COUNT(*) AS received FROM inbound_messages"
        "  GROUP BY from_phone) g JOIN inbound_messages i ON i.id = g.last_id"
        " ORDER BY g.last_id DESC LIMIT :limit",
        {"limit": limit},
    )


async def received_from(conn: Conn, phone: str, limit: int = 100) -> list[Row]:
    """The texts one number sent us, newest first."""
    return await conn.fetch_all(
        "SELECT id, body, kind, needs_review, received_at FROM inbound_messages"
        " WHERE from_phone = :phone ORDER BY id DESC LIMIT :limit",
        {"phone": phone, "limit": limit},
    )
