"""Queries for bulk opt-in requests: one row per send, its progress, and each person's outcome."""

from __future__ import annotations

import json

from portal.db import Conn, Row

_COLUMNS = (
    "id, criteria, send_token, total, processed, sent, skipped, skipped_reasons, resume_after,"
    " status, error, created_by, created_at, updated_at, finished_at"
)


async def create(conn: Conn, *, criteria: str, send_token: str, created_by: int, now: str) -> int:
    return await conn.fetch_val(
        "INSERT INTO request_batches (criteria, send_token, created_by, created_at, updated_at)"
        " VALUES (:criteria, :token, :by, :now, :now) RETURNING id",
        {"criteria": criteria, "token": send_token, "by": created_by, "now": now},
    )


async def get(conn: Conn, batch_id: int) -> Row | None:
    return await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM request_batches WHERE id = :id", {"id": batch_id}
    )


async def by_token(conn: Conn, send_token: str) -> Row | None:
    return await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM request_batches WHERE send_token = :t", {"t": send_token}
    )


async def running_with(conn: Conn, criteria: str) -> Row | None:
    """A send of the same selection still running, if any."""
    return await conn.fetch_one(
        f"SELECT {_COLUMNS} FROM request_batches WHERE status = 'running'"
        " AND criteria = :criteria ORDER BY id LIMIT 1",
        {"criteria": criteria},
    )


async def recent(conn: Conn, limit: int = 10) -> list[Row]:
    return await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM request_batches ORDER BY id DESC LIMIT :limit", {"limit": limit}
    )


async def set_total(conn: Conn, batch_id: int, *, total: int, now: str) -> None:
    await conn.execute(
        "UPDATE request_batches SET total = :total, updated_at = :now WHERE id = :id",
        {"total": total, "now": now, "id": batch_id},
    )


async def touch(conn: Conn, batch_id: int, *, seen: str, now: str) -> bool:
    """Claim a running send whose last progress was at `seen`: True for the one claimant."""
    claimed = await conn.fetch_val(
        "UPDATE request_batches SET updated_at = :now"
        " WHERE id = :id AND status = 'running' AND updated_at = :seen RETURNING id",
        {"now": now, "id": batch_id, "seen": seen},
    )
    return claimed is not None


async def record_step(
    conn: Conn,
    batch_id: int,
    *,
    sent: list[int],
    skipped: dict[int, str],
    resume_after: str | None,
    done: bool,
    now: str,
) -> None:
    """One batch's outcomes and the progress they make, in the batch's own transaction."""
    outcomes = [(batch_id, person_id, None) for person_id in sent]
    outcomes += [(batch_id, person_id, reason) for person_id, reason in skipped.items()]
    if outcomes:
        await conn.execute_many(
            "INSERT INTO request_batch_people (batch_id, person_id, reason) VALUES (?, ?, ?)",
            outcomes,
        )
    row = await get(conn, batch_id)
    reasons = json.loads(row.skipped_reasons)
    for reason in skipped.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    await conn.execute(
        "UPDATE request_batches SET sent = sent + :sent, skipped = skipped + :skipped,"
        " processed = processed + :sent + :skipped, skipped_reasons = :reasons,"
        " resume_after = :after, updated_at = :now,"
        " status = CASE WHEN :done = 1 THEN 'done' ELSE status END,"
        " finished_at = CASE WHEN :done = 1 THEN :now ELSE finished_at END"
        " WHERE id = :id",
        {
            "sent": len(sent),
            "skipped": len(skipped),
            "reasons": json.dumps(reasons, ensure_ascii=False, sort_keys=True),
            "after": resume_after,
            "now": now,
            "done": int(done),
            "id": batch_id,
        },
    )


async def fail(conn: Conn, batch_id: int, *, error: str, now: str) -> None:
    await conn.execute(
        "UPDATE request_batches SET status = 'failed', error = :error, updated_at = :now,"
        " finished_at = :now WHERE id = :id AND status = 'running'",
        {"error": error[:500], "now": now, "id": batch_id},
    )


async def skipped_people(conn: Conn, batch_id: int, limit: int = 200) -> list[Row]:
    """Who a send skipped, with why, by reason then name."""
    return await conn.fetch_all(
        "SELECT b.person_id, b.reason, p.first_name, p.last_name FROM request_batch_people b"
        " JOIN people p ON p.id = b.person_id WHERE b.batch_id = :id AND b.reason IS NOT NULL"
        " ORDER BY b.reason, lower(p.last_name), lower(p.first_name), p.id LIMIT :limit",
        {"id": batch_id, "limit": limit},
    )
