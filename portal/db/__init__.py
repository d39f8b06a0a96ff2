"""The one door to the database: connections, read and write transactions, migrations.

`databases` 0.9.0 is its last release, so nothing outside `portal/db/` imports it. Everything
else receives a `Conn` from `Database.read()` or `Database.write()` and calls the named query
functions of this package (`people.by_id(conn, ...)`), never SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import databases

from portal.db.drivers import PostgresDriver, SQLiteDriver

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Every SQLite connection gets these, or it is refused at start (see Database.check_pragmas).
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL: a committed consent change survives power loss.
    "foreign_keys": 1,
    "busy_timeout": 5000,
}


class PragmaConnection(sqlite3.Connection):
    """sqlite3 connection that sets our PRAGMAs as it opens.

    `databases` opens a fresh connection per use, so PRAGMAs set once would be lost.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Opened in aiosqlite's thread, but statements run on the event loop's (see
        # drivers.SQLiteDriver); the query lock, not sqlite3, keeps them one at a time.
        kwargs["check_same_thread"] = False
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL")
        self.execute("PRAGMA synchronous=FULL")
        self.execute("PRAGMA foreign_keys=ON")
        self.execute(f"PRAGMA busy_timeout={SQLITE_PRAGMAS['busy_timeout']}")


class _Databases(databases.Database):
    """`databases.Database` with SQLite connections pooled (see portal/db/sqlite_pool.py)."""

    SUPPORTED_BACKENDS = {
        **databases.Database.SUPPORTED_BACKENDS,
        "sqlite": "portal.db.sqlite_pool:PooledSQLiteBackend",
    }


class DatabaseError(Exception):
    """The database is unreachable or not set up the way the portal requires."""


class DatabaseBusy(DatabaseError):
    """No turn to write came within the time the caller could wait."""


class DatabaseReadOnly(DatabaseError):
    """The server takes no writes now (a read-only default, a hot standby)."""


# What the drivers raise when the database refuses work; the app turns those that mean "not
# now" (write_unavailable) into a 503 page, the rest stay errors.
DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.OperationalError, asyncpg.PostgresError)

# PostgreSQL's words for "no write can happen now": a read-only transaction (a server or
# database set read-only, a standby) or a full disk. The transaction was rolled back.
_PG_WRITE_UNAVAILABLE = (
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    asyncpg.exceptions.DiskFullError,
)


# SQLite's words for "no write can happen now": a read-only file or database, a full disk, a
# failing disk, or a lock held past busy_timeout. The transaction was rolled back, nothing was
# changed, and the same request may well succeed later.
_WRITE_UNAVAILABLE = (
    "attempt to write a readonly database",
    "database or disk is full",
    "disk i/o error",
    "database is locked",
)


def write_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database cannot take writes now (see _WRITE_UNAVAILABLE), or
    this process gave no turn to write in time."""
    if isinstance(exc, (DatabaseBusy, DatabaseReadOnly, *_PG_WRITE_UNAVAILABLE)):
        return True
    return isinstance(exc, sqlite3.OperationalError) and any(
        words in str(exc).lower() for words in _WRITE_UNAVAILABLE
    )


def is_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database cannot take work right now (it cannot write, or
    cannot be reached) rather than that the work itself was wrong."""
    if write_unavailable(exc) or isinstance(exc, OSError):
        return True
    # PostgreSQL through asyncpg: lost or refused connections, a read-only or full server.
    name = type(exc).__name__
    return type(exc).__module__.startswith("asyncpg") and (
        "Connection" in name
        or name
        in {
            "InterfaceError",
            "ReadOnlySQLTransactionError",
            "DiskFullError",
            "CannotConnectNowError",
        }
    )


class Row(dict):
    """A result row: `row.first_name` and `row["first_name"]` both work."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _as_row(record: Any) -> Row:
    return Row(zip(record.keys(), record, strict=True))


# What a ROLLBACK after a failure may raise besides: the transaction is gone either way.
_ROLLBACK_ERRORS = (
    sqlite3.OperationalError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)


async def _to_the_end(statement: Awaitable[Any]) -> None:
    """Run BEGIN, COMMIT or ROLLBACK to its end even when the task is cancelled meanwhile (a
    client that hung up), then let the cancel go on. Stopped half-way, the statement would
    leave a connection in a transaction nobody ends: on SQLite holding the write lock, on
    PostgreSQL never given back to the pool (`databases` counts it as still in use)."""
    running = asyncio.ensure_future(statement)
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        if not running.done():
            await asyncio.wait([running])
        raise


class Conn:
    """One held connection. Query modules take it as their first argument."""

    def __init__(self, connection: databases.core.Connection, dialect: str) -> None:
        self._connection = connection
        self.dialect = dialect
        self._driver = PostgresDriver if dialect == "postgresql" else SQLiteDriver

    async def _records(self, sql: str, values: Mapping[str, Any] | None) -> Sequence[Any]:
        """The driver's own rows (sqlite3.Row, asyncpg.Record): both index by position and
        name. Straight to the driver, as `databases` would compile every statement through
        SQLAlchemy each time; its query lock still keeps one statement at a time per
        connection, as for the BEGIN and COMMIT it runs itself."""
        async with self._connection._query_lock:
            return await self._driver.records(self._connection.raw_connection, sql, values or {})

    async def fetch_one(self, sql: str, values: Mapping[str, Any] | None = None) -> Row | None:
        records = await self._records(sql, values)
        return _as_row(records[0]) if records else None

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        return [_as_row(r) for r in await self._records(sql, values)]

    async def fetch_val(self, sql: str, values: Mapping[str, Any] | None = None) -> Any:
        records = await self._records(sql, values)
        return records[0][0] if records else None

    async def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None:
        # No row count: queries that need one use RETURNING.
        await self._records(sql, values)

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement run for many rows of positional values (`?` placeholders), by the
        driver's own executemany: `databases` would compile the statement anew for each row,
        which costs more than the insert itself (a mass text queues thousands)."""
        async with self._connection._query_lock:
            await self._driver.execute_many(self._connection.raw_connection, sql, rows)

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert many rows, each giving a value for every one of `columns`, in one
        executemany. `table` and `columns` are ours, never a user's."""
        await self.execute_many(
            f"INSERT INTO {table} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})",
            [tuple(row[name] for name in columns) for row in rows],
        )

    async def run(self, statement: str) -> None:
        """BEGIN, COMMIT, ROLLBACK or a savepoint, straight on the driver like every statement
        (`databases` would compile it and, on SQLite, take three hops to run it)."""
        async with self._connection._query_lock:
            await self._driver.run(self._connection.raw_connection, statement)

    async def execute_script(self, script: str) -> None:
        for statement in split_sql(script):
            await self._connection.execute(statement)


class Database:
    def __init__(self, url: str) -> None:
        if ":memory:" in url:
            # `databases` gives every connection its own empty in-memory database.
            raise DatabaseError("an in-memory database loses everything: use a file")
        self.url = url
        # How deep each connection is in writes now: a write inside a write is a savepoint.
        self._write_depth: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        if url.startswith("sqlite"):
            self.dialect = "sqlite"
            self._db = _Databases(url, factory=PragmaConnection)
            # SQLite has one writer at a time. Queueing writers here, in order, beats letting
            # a burst of them poll the file lock until busy_timeout fails the late ones.
            self._write_lock: asyncio.Lock | None = asyncio.Lock()
        elif url.startswith(("postgresql", "postgres")):
            self.dialect = "postgresql"
            self._db = databases.Database(url.replace("postgres://", "postgresql://", 1))
            self._write_lock = None
        else:
            raise DatabaseError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]}")

    async def connect(self) -> None:
        await self._db.connect()

    async def disconnect(self) -> None:
        await self._db.disconnect()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """Hold one connection for a run of reads (a new one per query is much slower).

        Nested uses in the same task share the connection, so a request that holds one (see
        SecurityMiddleware) pays for opening it once.
        """
        async with self._db.connection() as connection:
            yield Conn(connection, self.dialect)

    @contextlib.asynccontextmanager
    async def write(self, *, turn_timeout: float | None = None) -> AsyncIterator[Conn]:
        """One short write transaction. Never do network I/O inside it.

        `turn_timeout` bounds the wait for this process's turn to write (DatabaseBusy after
        it); the database's own busy timeout bounds the wait for other processes. A write
        opened inside another in the same task is a savepoint of it (`portal copy-database`
        migrates and copies in one transaction)."""
        # `databases` hands the same connection to every use within one task.
        connection = self._db.connection()
        depth = self._write_depth.get(connection, 0)
        if depth:
            statements = _savepoint_statements(f"portal_write_{depth}")
            async with self._transaction(connection, *statements, depth=depth + 1) as conn:
                yield conn
            return
        # Plain BEGIN lets two SQLite read-then-write transactions deadlock into "database
        # is locked"; IMMEDIATE takes the write lock first and waits on busy_timeout.
        begin = "BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN"
        async with (
            self._writer_turn(turn_timeout),
            connection,
            self._transaction(connection, begin, "COMMIT", "ROLLBACK", depth=1) as conn,
        ):
            yield conn

    @contextlib.asynccontextmanager
    async def _transaction(
        self, connection, begin: str, commit: str, rollback: str, *, depth: int
    ) -> AsyncIterator[Conn]:
        self._write_depth[connection] = depth
        conn = Conn(connection, self.dialect)
        try:
            await _to_the_end(conn.run(begin))
            yield conn
        except BaseException:
            # After a full disk, an I/O error or a lost connection the database may have
            # rolled back already: a failing ROLLBACK must not hide the error that caused it.
            with contextlib.suppress(*_ROLLBACK_ERRORS):
                await _to_the_end(conn.run(rollback))
            raise
        else:
            await _to_the_end(conn.run(commit))
        finally:
            if depth == 1:
                self._write_depth.pop(connection, None)
            else:
                self._write_depth[connection] = depth - 1

    @contextlib.asynccontextmanager
    async def _writer_turn(self, timeout: float | None) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        try:
            # Waiting for a lock is safe to abandon: nothing has started yet.
            await asyncio.wait_for(self._write_lock.acquire(), timeout)
        except TimeoutError:
            raise DatabaseBusy(f"no turn to write within {timeout} s") from None
        try:
            yield
        finally:
            self._write_lock.release()

    async def check_writable(self) -> None:
        """Raise the database's own error if a write could not start now (read-only, locked
        past busy_timeout, failing disk). Takes the write lock for an instant; changes nothing.
        A full disk shows only when a write needs a new page, not here."""
        async with self._db.connection() as connection:
            if self.dialect == "sqlite":
                await connection.execute("BEGIN IMMEDIATE")
                await connection.execute("ROLLBACK")
            else:
                async with connection.transaction():
                    # On a hot standby, or with default_transaction_read_only, every write of
                    # ours would be refused. (SET TRANSACTION READ WRITE would pass the latter.)
                    if await connection.fetch_val("SHOW transaction_read_only") == "on":
                        raise DatabaseReadOnly("the database takes no writes (read-only)")

    async def check_pragmas(self) -> None:
        """Fail at start, not at the first lost write, if SQLite is not set up as we require."""
        if self.dialect != "sqlite":
            return
        async with self.read() as conn:
            found = {name: await conn.fetch_val(f"PRAGMA {name}") for name in SQLITE_PRAGMAS}
        if str(found["journal_mode"]).lower() != "wal" or any(
            found[k] != v for k, v in SQLITE_PRAGMAS.items() if k != "journal_mode"
        ):
            raise DatabaseError(f"SQLite connection is missing required PRAGMAs: {found}")


def _savepoint_statements(name: str) -> tuple[str, str, str]:
    """Begin, commit and roll back a savepoint: a nested write's own all-or-nothing."""
    return (
        f"SAVEPOINT {name}",
        f"RELEASE SAVEPOINT {name}",
        f"ROLLBACK TO SAVEPOINT {name}",
    )


def split_sql(script: str) -> list[str]:
    """Split a migration file on lines that hold only `-- statement` or on `;` at line end."""
    statements, current = [], []
    for line in script.splitlines():
        current.append(line)
        if line.rstrip().endswith(";") and not _inside_trigger(current):
            statement = "\n".join(current).strip()
            if statement.strip(";").strip() and not _only_comments(statement):
                statements.append(statement)
            current = []
    rest = "\n".join(current).strip()
    if rest and not _only_comments(rest):
        statements.append(rest)
    return statements


def _only_comments(statement: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in statement.splitlines())


def _inside_trigger(lines: list[str]) -> bool:
    """A trigger or function body holds `;` of its own; it ends at END; or $$;."""
    text = "\n".join(lines)
    upper = text.upper()
    if "CREATE TRIGGER" in upper and "BEGIN" in upper:
        return not upper.rstrip().endswith("END;")
    return text.count("$$") % 2 == 1
