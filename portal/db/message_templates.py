"""Queries for message templates: the texts staff save to start a mass text from, each with
an optional Spanish body."""

from __future__ import annotations

from portal.db import Conn, Row

_COLUMNS = "id, name, body, body_es, created_by, created_at, updated_at"


async def all_by_name(conn: Conn) -> list[Row]:
    return await conn.fetch_all(
        "SELECT " + _COLUMNS + " FROM message_templates ORDER BY LOWER(name), id"
    )


async def get(conn: Conn, template_id: int) -> Row | None:
    return await conn.fetch_one(
        "SELECT " + _COLUMNS + " FROM message_templates WHERE id = :id", {"id": template_id}
    )


async def create(
    conn: Conn, *, name: str, body: str, body_es: str | None, created_by: int | None, now: str
) -> int:
    return await conn.fetch_val(
        "INSERT INTO message_templates (name, body, body_es, created_by, created_at, updated_at)"
        " VALUES (:name, :body, :body_es, :by, :now, :now) RETURNING id",
        {"name": name, "body": body, "body_es": body_es, "by": created_by, "now": now},
    )


async def update(
    conn: Conn, template_id: int, *, name: str, body: str, body_es: str | None, now: str
) -> bool:
    changed = await conn.fetch_val(
        "UPDATE message_templates SET name = :name, body = :body, body_es = :body_es,"
        " updated_at = :now WHERE id = :id RETURNING id",
        {"id": template_id, "name": name, "body": body, "body_es": body_es, "now": now},
    )
    return changed is not None


async def delete(conn: Conn, template_id: int) -> bool:
    deleted = await conn.fetch_val(
        "DELETE FROM message_templates WHERE id = :id RETURNING id", {"id": template_id}
    )
    return deleted is not None
