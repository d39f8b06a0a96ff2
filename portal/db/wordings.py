"""Queries for the versioned texts staff publish: consent wording and automatic reply texts.

Rows are only ever added: a new version is a new row, never an edit of an old one.
"""

from __future__ import annotations

from portal.db import Conn, Row


async def consent_versions(conn: Conn) -> list[Row]:
    """Every published consent wording, newest first."""
    return await conn.fetch_all(
        "SELECT w.version, w.text, w.text_es, w.created_at, a.display_name AS created_by_name"
        " FROM consent_wordings w LEFT JOIN accounts a ON a.id = w.created_by"
        " ORDER BY w.created_at DESC, w.version DESC"
    )


async def consent_version(conn: Conn, version: str) -> Row | None:
    return await conn.fetch_one(
        "SELECT version, text, text_es, created_at FROM consent_wordings WHERE version = :v",
        {"v": version},
    )


async def add_consent_version(
    conn: Conn, *, version: str, text: str, text_es: str, account_id: int | None, now: str
) -> None:
    """Publish a version in both languages at once: a version without Spanish is not offered."""
    await conn.execute(
        "INSERT INTO consent_wordings (version, text, text_es, created_by, created_at)"
        " VALUES (:v, :text, :text_es, :by, :now)",
        {"v": version, "text": text, "text_es": text_es, "by": account_id, "now": now},
    )


async def latest_replies(conn: Conn) -> dict[tuple[str, str], Row]:
    """The newest published version of each (kind, language) reply text."""
    rows = await conn.fetch_all(
        "SELECT kind, language, version, text, created_at FROM reply_texts r"
        " WHERE version = (SELECT MAX(version) FROM reply_texts x"
        " WHERE x.kind = r.kind AND x.language = r.language)"
    )
    return {(row.kind, row.language): row for row in rows}


async def reply_history(conn: Conn) -> list[Row]:
    return await conn.fetch_all(
        "SELECT r.kind, r.language, r.version, r.text, r.created_at,"
        " a.display_name AS created_by_name FROM reply_texts r"
        " LEFT JOIN accounts a ON a.id = r.created_by ORDER BY r.id DESC"
    )


async def add_reply_version(
    conn: Conn, *, kind: str, language: str, text: str, account_id: int | None, now: str
) -> int:
    """Publish the next version of one reply text; returns its number (the code's is 1)."""
    latest = await conn.fetch_val(
        "SELECT MAX(version) FROM reply_texts WHERE kind = :kind AND language = :language",
        {"kind": kind, "language": language},
    )
    version = (latest or 1) + 1
    await conn.execute(
        "INSERT INTO reply_texts (kind, language, version, text, created_by, created_at)"
        " VALUES (:kind, :language, :version, :text, :by, :now)",
        {
            "kind": kind,
            "language": language,
            "version": version,
            "text": text,
            "by": account_id,
            "now": now,
        },
    )
    return version
