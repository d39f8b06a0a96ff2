"""Queries for the staff audit trail: every staff action that is not a consent event."""

from __future__ import annotations

import json
from typing import Any

from portal.db import Conn, Row


async def record(
    conn: Conn,
    *,
    account_id: int | None,
    action: str,
    subject_kind: str = "",
    subject_id: int | None = None,
    details: dict[str, Any] | None = None,
    ip: str = "",
    now: str,
) -> int:
    """Append one action, in the transaction of the change it describes."""
    return await conn.fetch_val(
        "INSERT INTO staff_actions (account_id, action, subject_kind, subject_id, details, ip,"
        " created_at) VALUES (:account, :action, :kind, :subject, :details, :ip, :now)"
        " RETURNING id",
        {
            "account": account_id,
            "action": action,
            "kind": subject_kind,
            "subject": subject_id,
            "details": json.dumps(details or {}, ensure_ascii=False),
            "ip": ip,
            "now": now,
        },
    )


async def of_subject(conn: Conn, subject_kind: str, subject_id: int, limit: int = 100) -> list[Row]:
    return await conn.fetch_all(
        "SELECT s.id, s.action, s.details, s.ip, s.created_at, a.display_name AS by_name"
        " FROM staff_actions s LEFT JOIN accounts a ON a.id = s.account_id"
        " WHERE s.subject_kind = :kind AND s.subject_id = :id ORDER BY s.id DESC LIMIT :limit",
        {"kind": subject_kind, "id": subject_id, "limit": limit},
    )


async def recent(conn: Conn, *, action_prefix: str = "", limit: int = 100) -> list[Row]:
    return await conn.fetch_all(
        "SELECT s.id, s.action, s.subject_kind, s.subject_id, s.details, s.ip, s.created_at,"
        " a.display_name AS by_name FROM staff_actions s"
        " LEFT JOIN accounts a ON a.id = s.account_id"
        " WHERE s.action LIKE :prefix ORDER BY s.id DESC LIMIT :limit",
        {"prefix": action_prefix + "%", "limit": limit},
    )
