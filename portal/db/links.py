"""Queries for the server-side state of emailed links (consent answers, password resets)."""

from __future__ import annotations

from portal.db import Conn, Row


async def create(
    conn: Conn,
    *,
    link_id: str,
    purpose: str,
    person_id: int | None,
    account_id: int | None,
    phone: str | None,
    consent_version: int | None,
    now: str,
    expires_at: str,
) -> None:
    await conn.execute(
        "INSERT INTO links (id, purpose, person_id, account_id, phone, consent_version,"
        " created_at, expires_at) VALUES (:id, :purpose, :person_id, :account_id, :phone,"
        " :version, :now, :expires_at)",
        {
            "id": link_id,
            "purpose": purpose,
            "person_id": person_id,
            "account_id": account_id,
            "phone": phone,
            "version": consent_version,
            "now": now,
            "expires_at": expires_at,
        },
    )


async def get(conn: Conn, link_id: str) -> Row | None:
    return await conn.fetch_one(
        "SELECT id, purpose, person_id, account_id, phone, consent_version, created_at,"
        " expires_at, used_at, answer FROM links WHERE id = :id",
        {"id": link_id},
    )


async def mark_used(conn: Conn, link_id: str, *, answer: str, now: str) -> bool:
    """Mark once; False when another request used it first (double click, replay)."""
    used = await conn.fetch_val(
        "UPDATE links SET used_at = :now, answer = :answer WHERE id = :id AND used_at IS NULL"
        " RETURNING id",
        {"id": link_id, "answer": answer, "now": now},
    )
    return used is not None


async def count_recent(
    conn: Conn, *, purpose: str, person_id: int | None, account_id: int | None, since: str
) -> int:
    return await conn.fetch_val(
        "SELECT COUNT(*) FROM links WHERE purpose = :purpose AND created_at > :since"
        " AND (person_id = :person_id OR account_id = :account_id)",
        {
            "purpose": purpose,
            "person_id": person_id or 0,
            "account_id": account_id or 0,
            "since": since,
        },
    )
