"""Queries for the single organization row: its name, Organization Email and texting number."""

from __future__ import annotations

from portal.db import Conn, Row


async def get(conn: Conn) -> Row:
    row = await conn.fetch_one("SELECT id, name, email, phone, updated_at FROM organization")
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
