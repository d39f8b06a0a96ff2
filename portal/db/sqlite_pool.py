"""Reuse SQLite connections: `databases` opens a new one (a new thread) for every use.

Opening an aiosqlite connection starts a thread, opens the file and runs our PRAGMAs; for a
page with two short queries that costs more than the queries. This keeps a few idle
connections and hands them out again. Only connections outside a transaction are kept.
"""

from __future__ import annotations

import sqlite3
import typing

import aiosqlite
from databases.backends.sqlite import SQLiteBackend, SQLitePool

MAX_IDLE = 32


class PooledSQLitePool(SQLitePool):
    def __init__(self, url, **options: typing.Any) -> None:
        super().__init__(url, **options)
        self._idle: list[aiosqlite.Connection] = []

    async def acquire(self) -> aiosqlite.Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.in_transaction:
                return connection
            await super().release(connection)
        connection = await super().acquire()
        # Rows that know their column names, in the one hop to the connection's thread that
        # runs the query (portal.db.Conn builds its Row dicts from them).
        connection.row_factory = sqlite3.Row
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        if len(self._idle) < MAX_IDLE and not connection.in_transaction:
            self._idle.append(connection)
        else:
            await super().release(connection)

    async def close_idle(self) -> None:
        while self._idle:
            await super().release(self._idle.pop())


class PooledSQLiteBackend(SQLiteBackend):
    def __init__(self, database_url, **options: typing.Any) -> None:
        super().__init__(database_url, **options)
        self._pool = PooledSQLitePool(self._database_url, **self._options)

    async def disconnect(self) -> None:
        await self._pool.close_idle()
        await super().disconnect()
