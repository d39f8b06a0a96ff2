"""Queries for the staff console's families: the list by name, renames, moves and archiving."""

from __future__ import annotations

from portal.db import Conn, Row


async def page(
    conn: Conn, *, name_prefix: str = "", after: tuple[str, int] | None = None, limit: int = 50
) -> list[Row]:
    """One page of families whose name starts with `name_prefix`, by name then id, after the
    keyset position `after` ((lower name, id)), each with its count of current people."""
    where, values = [], {"limit": limit}
    if name_prefix:
        where.append("lower(f.name) >= :lo AND lower(f.name) < :hi")
        values["lo"], values["hi"] = name_prefix.lower(), name_prefix.lower() + "\U0010ffff"
    if after is not None:
        where.append("(lower(f.name) > :a_name OR (lower(f.name) = :a_name AND f.id > :a_id))")
        values["a_name"], values["a_id"] = after
    sql = (
        "SELECT f.id, f.name, f.created_at, lower(f.name) AS sort_name,"
        " (SELECT COUNT(*) FROM people p WHERE p.family_id = f.id AND p.archived_at IS NULL)"
        " AS people_count FROM families f"
    )
    sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY lower(f.name), f.id"
    return await conn.fetch_all(sql + " LIMIT :limit", values)


async def rename(conn: Conn, family_id: int, *, name: str) -> None:
    await conn.execute(
        "UPDATE families SET name = :name WHERE id = :id", {"name": name, "id": family_id}
    )


async def move_person(conn: Conn, person_id: int, *, to_family_id: int, now: str) -> None:
    """Only the family changes: consent belongs to the person and their number, not to it."""
    await conn.execute(
        "UPDATE people SET family_id = :family, updated_at = :now WHERE id = :id",
        {"family": to_family_id, "now": now, "id": person_id},
    )


async def set_archived(conn: Conn, person_id: int, *, archived_at: str | None, now: str) -> None:
    """Archive (a time) or un-archive (None). Never a delete: the ledger keeps pointing here."""
    await conn.execute(
        "UPDATE people SET archived_at = :archived_at, updated_at = :now WHERE id = :id",
        {"archived_at": archived_at, "now": now, "id": person_id},
    )
