"""Moving a whole SQLite database into an empty PostgreSQL one (`portal copy-database`).

Every row of every table is copied with its id, parents before children, in batches, inside
one PostgreSQL transaction that also creates the schema: a copy that fails part way leaves the
target as empty as it was. The ledger's append-only triggers refuse UPDATE and DELETE, not
INSERT, so they stay in force throughout.
"""

from __future__ import annotations

import contextlib
import dataclasses
import graphlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portal.db import Conn, Database, migrate

BATCH_ROWS = 1000
_INT_RANGE = {
    "smallint": 2**15,
    "integer": 2**31,
    "bigint": 2**63,
}


class CopyRefused(Exception):
    """The copy cannot be made as asked; the message says why. The target was not changed."""


@dataclasses.dataclass(frozen=True)
class CopyReport:
    """Rows per table, as counted in the source and in the target after the copy."""

    source_rows: dict[str, int]
    target_rows: dict[str, int]

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows

    @property
    def total(self) -> int:
        return sum(self.target_rows.values())


@dataclasses.dataclass(frozen=True)
class _Column:
    name: str
    data_type: str


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch_rows: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy `source` (SQLite, fully migrated) into `target` (PostgreSQL, without tables)."""
    if source.dialect != "sqlite":
        raise CopyRefused("the source must be a SQLite database (sqlite:///path.sqlite3)")
    if target.dialect != "postgresql":
        raise CopyRefused("the target must be a PostgreSQL database (postgresql://...)")
    if waiting := await migrate.pending(source):
        raise CopyRefused(
            f"the source has migrations pending ({', '.join(waiting)}): run `portal migrate`"
            " on it first, with the same version of the portal"
        )
    async with target.read() as conn:
        if existing := await _target_tables(conn):
            shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
            raise CopyRefused(
                f"the target already has {len(existing)} tables ({shown}): copy only into a"
                " new, empty database; nothing was changed"
            )

    async with source.read() as src:
        # One read transaction: a snapshot of the file, even if a portal still writes to it.
        await src.execute("BEGIN")
        try:
            async with target.write() as dst:
                # Nested writes share this connection and become savepoints: the schema is
                # created inside the same transaction as the rows.
                await migrate.apply(target)
                # The target's own record of its migrations gives way to the source's, which
                # says when each was applied to this data.
                await dst.execute("DELETE FROM schema_migrations")
                tables = await _plan(src, dst)
                for table, columns in tables.items():
                    copied = await _copy_table(src, dst, table, columns, batch_rows or BATCH_ROWS)
                    if progress:
                        progress(table, copied)
                await _reset_identities(dst, list(tables))
            source_rows = await _counts(src, list(tables))
        finally:
            await src.execute("COMMIT")
    async with target.read() as conn:
        target_rows = await _counts(conn, list(tables))
    return CopyReport(source_rows=source_rows, target_rows=target_rows)


def sqlite_file(url: str) -> Path | None:
    """The file a sqlite:/// URL names, or None for any other URL."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


async def _target_tables(conn: Conn) -> list[str]:
    rows = await conn.fetch_all(
        "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables"
        " WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    )
    return [row.name for row in rows]


async def _plan(src: Conn, dst: Conn) -> dict[str, list[_Column]]:
    """The tables to copy, parents before children, each with the target's columns."""
    source_tables = {
        row.name
        for row in await src.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    columns: dict[str, list[_Column]] = {}
    for row in await dst.fetch_all(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        columns.setdefault(row.table_name, []).append(_Column(row.column_name, row.data_type))
    if source_tables != set(columns):
        raise CopyRefused(
            "the two schemas differ: only in the source "
            f"{sorted(source_tables - set(columns))}, only in the target "
            f"{sorted(set(columns) - source_tables)}"
        )
    for table, wanted in columns.items():
        have = {row.name for row in await src.fetch_all(f'PRAGMA table_info("{table}")')}
        if have != {c.name for c in wanted}:
            raise CopyRefused(f"the columns of {table} differ between the two databases")

    parents: dict[str, set[str]] = {table: set() for table in sorted(columns)}
    for row in await dst.fetch_all(
        "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent"
        " FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    ):
        if row.child != row.parent:  # a row that refers to its own table comes after, by id
            parents[row.child].add(row.parent)
    try:
        order = list(graphlib.TopologicalSorter(parents).static_order())
    except graphlib.CycleError as exc:
        raise CopyRefused(f"foreign keys run in a circle: {exc.args[1]}") from None
    return {table: columns[table] for table in order}


async def _copy_table(
    src: Conn, dst: Conn, table: str, columns: list[_Column], batch_rows: int
) -> int:
    names = ", ".join(f'"{c.name}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in columns)})'
    # Keyset paging on SQLite's rowid: each batch is one short query, however large the table.
    select = (
        f'SELECT rowid AS "__rowid", {names} FROM "{table}"'  # noqa: S608 (names from the schemas)
        " WHERE rowid > :after ORDER BY rowid LIMIT :limit"
    )
    after, copied = -(2**63), 0
    while rows := await src.fetch_all(select, {"after": after, "limit": batch_rows}):
        await dst.execute_many(insert, [[_convert(table, row, c) for c in columns] for row in rows])
        after = rows[-1]["__rowid"]
        copied += len(rows)
    return copied


def _convert(table: str, row: dict, column: _Column) -> Any:
    """A SQLite value as the PostgreSQL column takes it. SQLite stores what it is given
    whatever the declared type; PostgreSQL's driver takes only the declared one."""
    value = row[column.name]
    if value is None:
        return None
    where = f"{table}.{column.name} of row {row['__rowid']}"
    if column.data_type in _INT_RANGE:
        if isinstance(value, float | str):
            with contextlib.suppress(ValueError, OverflowError):
                value = int(value) if isinstance(value, str) or value.is_integer() else value
        if not isinstance(value, int):
            raise CopyRefused(f"{where} is {value!r}, not a whole number")
        limit = _INT_RANGE[column.data_type]
        if not -limit <= value < limit:
            raise CopyRefused(f"{where} is {value}, too large for PostgreSQL's {column.data_type}")
        return value
    if column.data_type == "text":
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise CopyRefused(f"{where} holds bytes that are not UTF-8 text") from None
        value = value if isinstance(value, str) else str(value)
        if "\x00" in value:
            raise CopyRefused(f"{where} holds a NUL character, which PostgreSQL text cannot")
        return value
    return value


async def _reset_identities(dst: Conn, tables: list[str]) -> None:
    """Ids were copied as they were, so each identity sequence starts past the largest."""
    for row in await dst.fetch_all(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ):
        if row.table_name in tables:
            await dst.fetch_val(
                f"SELECT setval(pg_get_serial_sequence(:table, :column),"  # noqa: S608
                f' COALESCE(MAX("{row.column_name}"), 0) + 1, false) FROM "{row.table_name}"',
                {"table": f'"{row.table_name}"', "column": row.column_name},
            )


async def _counts(conn: Conn, tables: list[str]) -> dict[str, int]:
    return {
        table: await conn.fetch_val(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
        for table in tables
    }
