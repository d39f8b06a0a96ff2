"""Statements run straight on the driver connection that `databases` holds.

`databases` compiles every statement through SQLAlchemy's text() on every call, which costs more
than a short query itself; sqlite3 reads `:name` (and executemany's `?`) natively, and asyncpg
needs only `$n` in their place, worked out once per statement.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

# A `:name` placeholder, or a quoted literal or identifier, which is skipped whole: a colon
# inside one is no placeholder, nor is a `::type` cast. Unlike SQLAlchemy's text(), which these
# statements went through before, `:name::type` is a placeholder and `\:` is not unescaped
# (no statement here writes one).
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(?<![:\w\\]):(\w+)")


class QueryValuesError(ValueError):
    """The values given do not match the statement's `:name` placeholders (a bug, not data)."""


@functools.lru_cache(maxsize=1024)
def _placeholders(sql: str) -> tuple[frozenset[str], str, tuple[str, ...]]:
    """The names a statement takes, and for asyncpg the statement with `$n` in their place and
    the names in `$n` order. Cached: the same few hundred statements run again and again."""
    order: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        return f"${order.setdefault(name, len(order) + 1)}"

    numbered = _PLACEHOLDER.sub(number, sql)
    return frozenset(order), numbered, tuple(order)


@functools.lru_cache(maxsize=256)
def _numbered_positions(sql: str) -> str:
    """A statement's `?` placeholders as asyncpg's `$1, $2, ...`."""
    number = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(number)}", sql)


def _check_values(sql: str, names: frozenset[str], values: Mapping[str, Any]) -> None:
    if names.symmetric_difference(values):
        missing, extra = sorted(names.difference(values)), sorted(set(values) - names)
        raise QueryValuesError(f"values missing {missing}, unknown {extra} for: {sql}")


class SQLiteDriver:
    """Runs a statement on the sqlite3 connection inside the aiosqlite one `databases` holds,
    right here on the event loop's thread; `:name` is sqlite3's own placeholder.

    A hop to the connection's own thread costs more than a short statement: the two threads
    hand the GIL back and forth, and under load each hop waits for the loop to come round, all
    while a write transaction holds SQLite's one write lock. Statements here do not wait for
    another writer: under WAL a read does not, and a statement inside a write transaction runs
    after BEGIN IMMEDIATE has taken the lock. (A read may still meet a WAL recovery after a
    crash, which busy_timeout waits out; that is rare enough to block the loop for.)
    What can wait, BEGIN (for another process's writer, up to busy_timeout) and COMMIT (for
    the disk), still goes to the thread (`run`). The connection's query lock keeps one
    statement at a time on it, from either thread."""

    @staticmethod
    async def records(raw: Any, sql: str, values: Mapping[str, Any]) -> Sequence[Any]:
        _check_values(sql, _placeholders(sql)[0], values)
        # The pool gives every connection sqlite3.Row (see sqlite_pool.py): rows know their names.
        return raw._conn.execute(sql, values).fetchall()

    @staticmethod
    async def execute_many(raw: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raw._conn.executemany(sql, rows)

    @staticmethod
    async def run(raw: Any, sql: str) -> None:
        """BEGIN, COMMIT, ROLLBACK or a savepoint: one hop to the connection's thread, where
        waiting for a lock or the disk does not hold up the event loop."""
        await raw.execute_fetchall(sql, ())


class PostgresDriver:
    """Runs a statement on the asyncpg connection `databases` holds, `:name` turned to `$n`."""

    @staticmethod
    async def records(raw: Any, sql: str, values: Mapping[str, Any]) -> Sequence[Any]:
        names, numbered, order = _placeholders(sql)
        _check_values(sql, names, values)
        return await raw.fetch(numbered, *(values[n] for n in order))

    @staticmethod
    async def execute_many(raw: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await raw.executemany(_numbered_positions(sql), rows)

    @staticmethod
    async def run(raw: Any, sql: str) -> None:
        """BEGIN, COMMIT, ROLLBACK or a savepoint, in one round trip."""
        await raw.execute(sql)
