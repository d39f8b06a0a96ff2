"""Queries for saved lists: lists staff name, and the people in each."""

from __future__ import annotations

from collections.abc import Sequence

from portal.db import Conn, Row


async def all_by_name(conn: Conn) -> list[Row]:
    return await conn.fetch_all(
        "SELECT l.id, l.name, l.created_at,"
        " (SELECT COUNT(*) FROM saved_list_members m WHERE m.list_id = l.id) AS members"
        " FROM saved_lists l ORDER BY LOWER(l.name), l.id"
    )


async def get(conn: Conn, list_id: int) -> Row | None:
    return await conn.fetch_one(
        "SELECT id, name, created_by, created_at FROM saved_lists WHERE id = :id",
        {"id": list_id},
    )


async def create(conn: Conn, *, name: str, created_by: int | None, now: str) -> int:
    return await conn.fetch_val(
        "INSERT INTO saved_lists (name, created_by, created_at) VALUES (:name, :by, :now)"
        " RETURNING id",
        {"name": name, "by": created_by, "now": now},
    )


async def delete(conn: Conn, list_id: int) -> None:
    await conn.execute("DELETE FROM saved_list_members WHERE list_id = :id", {"id": list_id})
    await conn.execute("DELETE FROM saved_lists WHERE id = :id", {"id": list_id})


async def add(conn: Conn, list_id: int, person_ids: Sequence[int], *, now: str) -> int:
    """Add people not in the list yet; how many were added."""
    added = 0
    for person_id in person_ids:
        row = await conn.fetch_val(
            "INSERT INTO saved_list_members (list_id, person_id, added_at)"
            " VALUES (:list, :person, :now) ON CONFLICT DO NOTHING RETURNING person_id",
            {"list": list_id, "person": person_id, "now": now},
        )
        added += row is not None
    return added


async def remove(conn: Conn, list_id: int, person_id: int) -> bool:
    removed = await conn.fetch_val(
        "DELETE FROM saved_list_members WHERE list_id = :list AND person_id = :person"
        " RETURNING person_id",
        {"list": list_id, "person": person_id},
    )
    return removed is not None
