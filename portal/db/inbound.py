"""Queries for inbound texts: recorded once per MessageSid, listed for staff."""

from __future__ import annotations

from portal.db import Conn, Row


async def record_once(
    conn: Conn,
    *,
    message_sid: str,
    from_phone: str,
    to_phone: str,
    body: str,
    kind: str,
    needs_review: bool,
    opt_out_type: str,
    now: str,
) -> int | None:
    """The new row's id, or None when this MessageSid was already recorded (a retry)."""
    return await conn.fetch_val(
        "INSERT INTO inbound_messages (message_sid, from_phone, to_phone, body, kind,"
        " needs_review, opt_out_type, received_at)"
        " VALUES (:sid, :from_phone, :to_phone, :body, :kind, :review, :opt_out_type, :now)"
        " ON CONFLICT (message_sid) DO NOTHING RETURNING id",
        {
            "sid": message_sid,
            "from_phone": from_phone,
            "to_phone": to_phone,
            "body": body,
            "kind": kind,
            "review": int(needs_review),
            "opt_out_type": opt_out_type,
            "now": now,
        },
    )


async def recent(conn: Conn, limit: int = 200) -> list[Row]:
    return await conn.fetch_all(
        "SELECT id, message_sid, from_phone, to_phone, body, kind, needs_review, opt_out_type,"
        " received_at FROM inbound_messages ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )


async def open_request_for(conn: Conn, phone: str) -> bool:
    """Someone with this number is waiting to confirm: a plain YES then means yes."""
    count = await conn.fetch_val(
        "SELECT COUNT(*) FROM people p JOIN consent_state s ON s.person_id = p.id"
        " WHERE p.cell_phone = :phone AND s.status = 'pending' AND s.phone = :phone",
        {"phone": phone},
    )
    return bool(count)


async def latest_from(conn: Conn, phone: str) -> Row | None:
    """The last text a number sent us."""
    return await conn.fetch_one(
        "SELECT id, body, kind, needs_review, received_at FROM inbound_messages"
        " WHERE from_phone = :phone ORDER BY id DESC LIMIT 1",
        {"phone": phone},
    )
