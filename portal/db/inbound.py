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


async def to_review(conn: Conn, limit: int = 100) -> list[Row]:
    """Stops in plain words not yet reviewed by staff, newest first."""
    return await conn.fetch_all(
        "SELECT id, message_sid, from_phone, body, kind, received_at FROM inbound_messages"
        " WHERE needs_review = 1 AND reviewed_at IS NULL ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )


async def people_with_numbers(conn: Conn, phones: list[str]) -> list[Row]:
    """Everyone who has one of these cell phones (a stop covers every person with it)."""
    if not phones:
        return []
    names = {f"p{i}": phone for i, phone in enumerate(phones)}
    return await conn.fetch_all(
        "SELECT id, first_name, last_name, kind, cell_phone FROM people"
        " WHERE cell_phone IN (" + ", ".join(f":{name}" for name in names) + ")"
        " ORDER BY last_name, first_name, id",
        names,
    )


async def mark_reviewed(
    conn: Conn, message_id: int, *, account_id: int, outcome: str, now: str
) -> bool:
    """Record that staff reviewed a flagged stop and what they decided ('opt_out' or
    'not_opt_out'). Changes no consent. False when it was not waiting for review."""
    done = await conn.fetch_val(
        "UPDATE inbound_messages SET reviewed_at = :now, reviewed_by = :account,"
        " review_outcome = :outcome WHERE id = :id AND needs_review = 1 AND reviewed_at IS NULL"
        " RETURNING id",
        {"id": message_id, "account": account_id, "outcome": outcome, "now": now},
    )
    return done is not None


async def id_of(conn: Conn, message_sid: str) -> int | None:
    return await conn.fetch_val(
        "SELECT id FROM inbound_messages WHERE message_sid = :sid", {"sid": message_sid}
    )
