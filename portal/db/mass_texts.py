"""Queries for mass texts: one row per Send, its texts being outbox rows tagged with its id."""

from __future__ import annotations

import json

from portal.db import Conn, Row

_COLUMNS = (
    "m.id, m.body, m.body_es, m.criteria, m.send_token, m.urgent, m.status, m.scheduled_for,"
    " m.recipients, m.skipped, m.skipped_reasons, m.cancelled_texts, m.created_by,"
    " m.created_at, m.cancelled_at, m.chosen, m.queueing, m.queue_error"
)


async def by_token(conn: Conn, send_token: str) -> Row | None:
    return await conn.fetch_one(
        "SELECT " + _COLUMNS + " FROM mass_texts m WHERE m.send_token = :t", {"t": send_token}
    )


async def create(
    conn: Conn,
    *,
    body: str,
    body_es: str | None = None,
    criteria: str,
    send_token: str,
    urgent: bool,
    status: str,
    scheduled_for: str | None,
    skipped_reasons: dict[str, int],
    chosen: int,
    created_by: int | None,
    now: str,
) -> int:
    """A new mass text whose `chosen` texts are still to be queued (queueing = 1)."""
    return await conn.fetch_val(
        "INSERT INTO mass_texts (body, body_es, criteria, send_token, urgent, status,"
        " scheduled_for, skipped, skipped_reasons, chosen, queueing, created_by, created_at)"
        " VALUES (:body, :body_es, :criteria, :token, :urgent, :status, :scheduled_for,"
        " :skipped, :reasons, :chosen, 1, :by, :now) RETURNING id",
        {
            "body_es": body_es,
            "chosen": chosen,
            "body": body,
            "criteria": criteria,
            "token": send_token,
            "urgent": int(urgent),
            "status": status,
            "scheduled_for": scheduled_for,
            "skipped": sum(skipped_reasons.values()),
            "reasons": json.dumps(skipped_reasons, sort_keys=True),
            "by": created_by,
            "now": now,
        },
    )


async def add_recipients(conn: Conn, mass_text_id: int, count: int) -> None:
    await conn.execute(
        "UPDATE mass_texts SET recipients = recipients + :n WHERE id = :id",
        {"n": count, "id": mass_text_id},
    )


async def queued_all(conn: Conn, mass_text_id: int, *, error: str = "") -> None:
    """Queueing is over: every text is queued, or `error` says why it stopped."""
    await conn.execute(
        "UPDATE mass_texts SET queueing = 0, queue_error = :error WHERE id = :id",
        {"id": mass_text_id, "error": error[:1000]},
    )


async def get(conn: Conn, mass_text_id: int) -> Row | None:
    return await conn.fetch_one(
        "SELECT " + _COLUMNS + ", a.display_name AS by_name FROM mass_texts m"
        " LEFT JOIN accounts a ON a.id = m.created_by WHERE m.id = :id",
        {"id": mass_text_id},
    )


async def recent(conn: Conn, limit: int = 20) -> list[Row]:
    return await conn.fetch_all(
        "SELECT " + _COLUMNS + ", a.display_name AS by_name,"
        " (SELECT COUNT(*) FROM outbox o WHERE o.mass_text_id = m.id"
        "  AND o.status = 'pending') AS waiting"
        " FROM mass_texts m LEFT JOIN accounts a ON a.id = m.created_by"
        " ORDER BY m.id DESC LIMIT :limit",
        {"limit": limit},
    )


async def status_counts(conn: Conn, mass_text_id: int) -> dict[str, int]:
    rows = await conn.fetch_all(
        "SELECT status, COUNT(*) AS n FROM outbox WHERE mass_text_id = :id GROUP BY status",
        {"id": mass_text_id},
    )
    return {r.status: r.n for r in rows}


async def outcomes(conn: Conn, mass_text_id: int) -> list[Row]:
    """Its texts that were delivered or failed, grouped by what the provider last said."""
    return await conn.fetch_all(
        "SELECT status, provider_status, last_error, COUNT(*) AS n FROM outbox"
        " WHERE mass_text_id = :id AND (status = 'failed' OR (status = 'sent'"
        " AND provider_status IN ('delivered', 'read', 'undelivered', 'failed')))"
        " GROUP BY status, provider_status, last_error",
        {"id": mass_text_id},
    )


async def next_due(conn: Conn, mass_text_id: int) -> str | None:
    """When its next waiting text is due (a schedule, or the sending hours' opening)."""
    return await conn.fetch_val(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE mass_text_id = :id AND status = 'pending'",
        {"id": mass_text_id},
    )


async def cancel(conn: Conn, mass_text_id: int, *, now: str) -> int | None:
    """Cancel the texts not yet handed to a dispatcher; None if it was already cancelled.
    A row leased right now keeps its lease: it may be on its way to the provider."""
    done = await conn.fetch_val(
        "UPDATE mass_texts SET status = 'cancelled', cancelled_at = :now"
        " WHERE id = :id AND status != 'cancelled' RETURNING id",
        {"id": mass_text_id, "now": now},
    )
    if done is None:
        return None
    cancelled = await conn.fetch_val(
        "SELECT COUNT(*) FROM outbox WHERE mass_text_id = :id AND status = 'pending'"
        " AND (lease_until IS NULL OR lease_until <= :now)",
        {"id": mass_text_id, "now": now},
    )
    await conn.execute(
        "UPDATE outbox SET status = 'cancelled', last_error = 'cancelled by staff'"
        " WHERE mass_text_id = :id AND status = 'pending'"
        " AND (lease_until IS NULL OR lease_until <= :now)",
        {"id": mass_text_id, "now": now},
    )
    await conn.execute(
        "UPDATE mass_texts SET cancelled_texts = :n WHERE id = :id",
        {"n": cancelled, "id": mass_text_id},
    )
    return cancelled


async def add_skips(conn: Conn, mass_text_id: int, skipped: dict[str, list[int]]) -> None:
    """Name who the mass text skipped and why, for its report."""
    rows = [
        (mass_text_id, person_id, reason)
        for reason, person_ids in skipped.items()
        for person_id in person_ids
    ]
    if rows:
        await conn.execute_many(
            "INSERT INTO mass_text_skips (mass_text_id, person_id, reason) VALUES (?, ?, ?)", rows
        )


# What the provider said last, read as delivered or failed (statuses in Twilio's words).
_DELIVERED = "o.status = 'sent' AND o.provider_status IN ('delivered', 'read')"
_FAILED = "(o.status = 'failed' OR o.provider_status IN ('undelivered', 'failed'))"


async def report_rows(conn: Conn, mass_text_id: int) -> list[Row]:
    """Everyone the mass text meant to reach: each text queued, then each person skipped."""
    return await conn.fetch_all(
        "SELECT p.first_name, p.last_name, o.recipient AS phone, o.status, o.provider_status,"
        " o.last_error, '' AS reason FROM outbox o LEFT JOIN people p ON p.id = o.person_id"
        " WHERE o.mass_text_id = :id"
        " UNION ALL"
        " SELECT p.first_name, p.last_name, p.cell_phone AS phone, 'skipped' AS status,"
        " NULL AS provider_status, '' AS last_error, s.reason FROM mass_text_skips s"
        " JOIN people p ON p.id = s.person_id WHERE s.mass_text_id = :id",
        {"id": mass_text_id},
    )
