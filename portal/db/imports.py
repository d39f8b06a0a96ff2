"""Queries for roster files uploaded in the staff console and the import jobs that run them."""

from __future__ import annotations

import json
from typing import Any

from portal.db import Conn, Row


async def add_pending(
    conn: Conn, *, data: str, sha256: str, filename: str, created_by: int, now: str
) -> int:
    return await conn.fetch_val(
        "INSERT INTO pending_imports (data, sha256, filename, created_by, created_at)"
        " VALUES (:data, :sha, :filename, :by, :now) RETURNING id",
        {"data": data, "sha": sha256, "filename": filename[:200], "by": created_by, "now": now},
    )


async def pending(conn: Conn, pending_id: int) -> Row | None:
    return await conn.fetch_one(
        "SELECT id, data, sha256, filename, created_by, created_at FROM pending_imports"
        " WHERE id = :id",
        {"id": pending_id},
    )


async def running_job(conn: Conn, *, stale_before: str) -> Row | None:
    """A job still running, unless it has not moved since `stale_before` (its server
    stopped mid-way: the rows it wrote stay, and running the file again finishes it)."""
    return await conn.fetch_one(
        "SELECT id FROM import_jobs WHERE status = 'running' AND updated_at >= :stale"
        " ORDER BY id LIMIT 1",
        {"stale": stale_before},
    )


async def add_job(conn: Conn, *, pending_import_id: int, created_by: int, now: str) -> int:
    return await conn.fetch_val(
        "INSERT INTO import_jobs (pending_import_id, status, created_by, created_at, updated_at)"
        " VALUES (:pending, 'running', :by, :now, :now) RETURNING id",
        {"pending": pending_import_id, "by": created_by, "now": now},
    )


async def job(conn: Conn, job_id: int) -> Row | None:
    return await conn.fetch_one(
        "SELECT j.id, j.pending_import_id, j.status, j.total, j.done, j.report, j.created_by,"
        " j.created_at, j.updated_at, j.finished_at, p.filename, p.sha256"
        " FROM import_jobs j JOIN pending_imports p ON p.id = j.pending_import_id"
        " WHERE j.id = :id",
        {"id": job_id},
    )


async def recent_jobs(conn: Conn, limit: int = 10) -> list[Row]:
    return await conn.fetch_all(
        "SELECT j.id, j.status, j.total, j.done, j.created_at, j.finished_at, p.filename,"
        " a.display_name AS by_name"
        " FROM import_jobs j JOIN pending_imports p ON p.id = j.pending_import_id"
        " LEFT JOIN accounts a ON a.id = j.created_by ORDER BY j.id DESC LIMIT :limit",
        {"limit": limit},
    )


async def set_progress(conn: Conn, job_id: int, *, done: int, total: int, now: str) -> None:
    await conn.execute(
        "UPDATE import_jobs SET done = :done, total = :total, updated_at = :now WHERE id = :id",
        {"id": job_id, "done": done, "total": total, "now": now},
    )


async def finish(
    conn: Conn, job_id: int, *, status: str, report: dict[str, Any], total: int, now: str
) -> None:
    await conn.execute(
        "UPDATE import_jobs SET status = :status, report = :report, total = :total,"
        " done = CASE WHEN :status = 'done' THEN :total ELSE done END,"
        " updated_at = :now, finished_at = :now WHERE id = :id",
        {
            "id": job_id,
            "status": status,
            "report": json.dumps(report, ensure_ascii=False),
            "total": total,
            "now": now,
        },
    )
