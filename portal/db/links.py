"""Queries for the server-side state of emailed links (consent answers, password resets)."""

from __future__ import annotations

from portal.db import Conn, Row

_CREATE_COLUMNS = (
    "id",
    "purpose",
    "person_id",
    "account_id",
    "phone",
    "consent_version",
    "created_at",
    "expires_at",
    "sent_to",
)


async def create_many(conn: Conn, rows: list[dict]) -> None:
    """Many links in one executemany (a bulk request's batch). Each row gives every column
    of _CREATE_COLUMNS."""
    await conn.insert_many("links", _CREATE_COLUMNS, rows)


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


async def consent_page(conn: Conn, link_id: str, *, lock: bool = False) -> Row | None:
    """Everything the consent page shows, in one query: link, person, state, STOP, organization
    and the newest consent wording staff published (none: the code's own).

    `lock` (inside a write): on PostgreSQL a second answer to the same link waits here for the
    first to commit, then finds it used. SQLite's write transaction already runs alone."""
    lock_link = " FOR UPDATE OF l" if lock and conn.dialect == "postgresql" else ""
    return await conn.fetch_one(
        "SELECT l.id AS link_id, l.purpose, l.person_id, l.phone AS link_phone,"
        " l.consent_version AS link_version, l.expires_at, l.used_at, l.answer, l.sent_to,"
        " p.first_name, p.last_name, p.kind, p.email, p.cell_phone, p.blocked,"
        " p.family_id, p.language, COALESCE(s.status, 'none') AS status, s.phone AS consent_phone,"
        " COALESCE(s.version, 0) AS consent_version, COALESCE(ps.active, 0) AS suppressed,"
        " o.name AS org_name, o.phone AS org_phone, o.email AS org_email,"
        " w.version AS published_wording_version, w.text AS published_wording,"
        " w.text_es AS published_wording_es"
        " FROM links l JOIN people p ON p.id = l.person_id"
        " LEFT JOIN consent_state s ON s.person_id = p.id"
        " LEFT JOIN phone_suppressions ps ON ps.phone = p.cell_phone AND ps.active = 1"
        " CROSS JOIN organization o"
        " LEFT JOIN consent_wordings w ON w.version = (SELECT version FROM consent_wordings"
        " ORDER BY created_at DESC, version DESC LIMIT 1)"
        " WHERE l.id = :id" + lock_link,
        {"id": link_id},
    )
