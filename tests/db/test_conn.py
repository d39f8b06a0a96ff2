"""Conn runs `:name` statements straight on the driver and answers with Row dicts."""

from __future__ import annotations

import pytest

from portal.db import Database, Row, migrate
from portal.db.drivers import QueryValuesError


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.connect()
    await migrate.apply(database)
    yield database
    await database.disconnect()


async def test_rows_answer_by_key_and_by_attribute(db):
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO families (name, created_at) VALUES (:name, :at)",
            {"name": "Rivera", "at": "2026-01-01"},
        )
    async with db.read() as conn:
        row = await conn.fetch_one("SELECT name, created_at FROM families")
        rows = await conn.fetch_all("SELECT name FROM families WHERE name = :n", {"n": "Rivera"})
        nothing = await conn.fetch_one("SELECT name FROM families WHERE name = 'nobody'")
    assert isinstance(row, Row) and row == {"name": "Rivera", "created_at": "2026-01-01"}
    assert row.name == row["name"] == "Rivera"
    assert rows == [{"name": "Rivera"}] and nothing is None


async def test_a_colon_inside_a_string_literal_is_text_not_a_placeholder(db):
    async with db.read() as conn:
        found = await conn.fetch_one(
            "SELECT ':n' AS said, 'it''s :x' AS quoted, :n AS n", {"n": "7"}
        )
    assert found == {"said": ":n", "quoted": "it's :x", "n": "7"}


async def test_a_postgresql_cast_is_not_a_placeholder(postgres_database):
    # PostgreSQL's own syntax (SQLite has no :: casts), so on PostgreSQL whatever the backend.
    db = Database(postgres_database)
    await db.connect()
    try:
        async with db.read() as conn:
            found = await conn.fetch_one("SELECT :n::text AS t, :n::int + 1 AS m", {"n": "41"})
    finally:
        await db.disconnect()
    assert found == {"t": "41", "m": 42}


async def test_a_repeated_name_binds_the_same_value_each_time(db):
    async with db.read() as conn:
        row = await conn.fetch_one("SELECT :n AS a, :n AS b, :m AS c", {"n": "x", "m": "y"})
    assert row == {"a": "x", "b": "x", "c": "y"}


async def test_fetch_val_answers_the_first_column_even_when_names_repeat(db):
    async with db.read() as conn:
        assert await conn.fetch_val("SELECT 1 AS x, 2 AS x") == 1
        assert await conn.fetch_val("SELECT name FROM families WHERE name = 'nobody'") is None


async def test_a_missing_or_unknown_value_is_refused_before_the_database_sees_it(db):
    async with db.read() as conn:
        with pytest.raises(QueryValuesError, match=r"missing \['b'\]"):
            await conn.fetch_val("SELECT :a, :b", {"a": "1"})
        with pytest.raises(QueryValuesError, match=r"unknown \['c'\]"):
            await conn.fetch_val("SELECT :a", {"a": "1", "c": "2"})
        assert await conn.fetch_val("SELECT :a", {"a": "3"}) == "3"  # the connection still works


async def test_statements_of_conn_and_the_write_transaction_share_one_connection(db):
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO families (name, created_at) VALUES ('gone', '2026-01-01')"
            )
            assert await conn.fetch_val("SELECT COUNT(*) FROM families") == 1
            raise RuntimeError("roll it back")
    async with db.read() as conn:
        assert await conn.fetch_val("SELECT COUNT(*) FROM families") == 0
