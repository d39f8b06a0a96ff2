"""Queries for the single organization row: its name, Organization Email and texting number."""

from __future__ import annotations

from portal.db import Conn, Row


async def get(conn: Conn) -> Row:
    row = await conn.fetch_one(
        "SELECT id, name, email, phone, consent_link_days, provider_answers_keywords,"
        " updated_at FROM organization"
    )
    if row is None:
        raise LookupError("the organization row is missing: run `portal migrate` and start once")
    return row


async def ensure(conn: Conn, *, name: str, email: str, phone: str, now: str) -> None:
    """Create the row from the settings' first defaults; later edits by staff win."""
    exists = await conn.fetch_val("SELECT COUNT(*) FROM organization")
    if not exists:
        await conn.execute(
            "INSERT INTO organization (id, name, email, phone, updated_at)"
            " VALUES (1, :name, :email, :phone, :now)",
            {"name": name, "email": email, "phone": phone, "now": now},
        )


async def update(conn: Conn, *, name: str, email: str, phone: str, now: str) -> None:
    await conn.execute(
        "UPDATE organization SET name = :name, email = :email, phone = :phone,"
        " updated_at = :now WHERE id = 1",
        {"name": name, "email": email, "phone": phone, "now": now},
    )


async def update_texting_rules(
    conn: Conn, *, consent_link_days: int | None, provider_answers_keywords: bool | None, now: str
) -> None:
    """None puts a value back to the setting's first default."""
    await conn.execute(
        "UPDATE organization SET consent_link_days = :days, provider_answers_keywords = :answers,"
        " updated_at = :now WHERE id = 1",
        {
            "days": consent_link_days,
            "answers": None
            if provider_answers_keywords is None
            else int(provider_answers_keywords),
            "now": now,
        },
    )
