"""Storage: PRAGMAs on every connection, write transactions, pooling, migrations."""

from __future__ import annotations

import asyncio

import pytest

from portal.db import Database, DatabaseError, migrate


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.connect()
    await migrate.apply(database)
    yield database
    await database.disconnect()


@pytest.mark.sqlite
async def test_every_connection_has_wal_full_sync_foreign_keys_and_busy_timeout(db):
    async def pragmas():
        async with db.read() as conn:
            return [
                await conn.fetch_val(f"PRAGMA {name}")
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            ]

    # Several at once, so more than one connection is opened.
    results = await asyncio.gather(*(pragmas() for _ in range(5)))
    assert all(r == ["wal", 2, 1, 5000] for r in results)
    await db.check_pragmas()


def test_an_in_memory_database_is_refused():
    with pytest.raises(DatabaseError):
        Database("sqlite:///:memory:")


async def test_a_failed_write_rolls_back_and_leaves_no_open_transaction_behind(db):
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute("INSERT INTO families (name, created_at) VALUES ('x', '2026-01-01')")
            raise RuntimeError("boom")
    async with db.read() as conn:
        assert await conn.fetch_val("SELECT COUNT(*) FROM families") == 0
    async with db.write() as conn:  # the pooled connection is usable again
        await conn.execute("INSERT INTO families (name, created_at) VALUES ('y', '2026-01-01')")
    async with db.read() as conn:
        assert await conn.fetch_val("SELECT COUNT(*) FROM families") == 1


@pytest.mark.sqlite
async def test_concurrent_read_modify_write_transactions_all_succeed(db):
    """SQLite's writes take turns (BEGIN IMMEDIATE), so even a read-then-write without a row
    lock loses nothing. PostgreSQL code locks the rows it will change (state_for_update)."""
    async with db.write() as conn:
        await conn.execute("INSERT INTO families (name, created_at) VALUES ('0', 'now')")

    async def increment():
        async with db.write() as conn:
            value = await conn.fetch_val("SELECT name FROM families WHERE id = 1")
            await conn.execute(
                "UPDATE families SET name = :v WHERE id = 1", {"v": str(int(value) + 1)}
            )

    await asyncio.gather(*(increment() for _ in range(100)))
    async with db.read() as conn:
        assert await conn.fetch_val("SELECT name FROM families WHERE id = 1") == "100"


async def test_migrations_apply_once_and_report_nothing_pending(db):
    assert await migrate.apply(db) == []
    assert await migrate.pending(db) == []


async def test_foreign_keys_are_enforced(db):
    with pytest.raises(Exception, match="(?i)foreign key"):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO people (family_id, kind, first_name, last_name, created_at,"
                " updated_at) VALUES (999, 'student', 'A', 'B', 'now', 'now')"
            )


async def test_a_write_inside_a_write_is_a_savepoint_of_it(db):
    async def family_names():
        async with db.read() as conn:
            return [r.name for r in await conn.fetch_all("SELECT name FROM families ORDER BY id")]

    insert = "INSERT INTO families (name, created_at) VALUES (:n, '2026-01-01')"
    async with db.write() as outer:
        await outer.execute(insert, {"n": "kept"})
        with pytest.raises(RuntimeError):
            async with db.write() as inner:
                await inner.execute(insert, {"n": "undone with its savepoint"})
                raise RuntimeError("inner fails")
        async with db.write() as inner:
            await inner.execute(insert, {"n": "released into the outer"})
    assert await family_names() == ["kept", "released into the outer"]

    with pytest.raises(RuntimeError):
        async with db.write() as outer:
            async with db.write() as inner:
                await inner.execute(insert, {"n": "gone with the outer"})
            raise RuntimeError("outer fails")
    assert await family_names() == ["kept", "released into the outer"]
