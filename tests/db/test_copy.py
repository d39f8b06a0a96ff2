"""`portal copy-database`: a SQLite database in use, moved to an empty PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import sqlite3

import asyncpg
import database_backends
import pytest
from conftest import PUBLIC_URL, PortalDriver
from staff_steps import login_as
from starlette.testclient import TestClient

from portal.app import create_app
from portal.cli import main
from portal.db import Database
from portal.db import copy as database_copy
from portal.people import demo

SEND_TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')


@contextlib.contextmanager
def running(settings, clock, mailbox, database_url: str):
    """The real app on `database_url`, as a browser reaches it."""
    settings = dataclasses.replace(settings, database_url=database_url)
    app = create_app(settings, clock=clock, start_dispatcher=False)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        yield PortalDriver(client, app, mailbox)


@pytest.fixture
def source(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env is read by the command
    return database_backends.sqlite_url(tmp_path)


@pytest.fixture
def target():
    name = database_backends.new_empty_postgres_database()
    yield database_backends.postgres_url(name)
    database_backends.drop_postgres_database(name)


def consent_activity(portal) -> None:
    """A little of everything that writes: a portal toggle, a STOP, a staff opt-out with its
    audit row, a mass text, and the mail and texts they queued, delivered."""
    portal.call(demo.load, portal.ctx)
    assert portal.login().status_code == 200
    assert portal.save_person("Avery", allow_texting=False).status_code == 200
    assert portal.save_person("Jordan", allow_texting=True).status_code == 200
    assert portal.post("/dev/phone", {"from": "(201) 555-0101", "body": "STOP"}).status_code == 200
    login_as(portal, "admin")
    casey = f"/staff/people/{portal.person_id('Casey')}"
    saved = portal.post(
        casey, {"text_opt_in_was": "on", "block_was": "off", "note": "asked at the desk"}
    )
    assert "Changes saved." in saved.text
    body = {"body": "Class is on, {first_name}. {organization}"}
    preview = portal.post("/staff/messages/preview", body, token_from="/staff/messages")
    token = SEND_TOKEN_RE.search(preview.text).group(1)
    portal.post("/staff/messages/send", {**body, "send_token": token}, token_from="/staff/messages")
    portal.call(portal.app.state.mass_text_queueing.join)
    portal.deliver()
    portal.client.cookies.clear()


def settings_page(portal) -> str:
    """The parent's settings page, without what differs per visit (the form tokens)."""
    assert portal.login().status_code == 200
    page = portal.client.get("/account/settings").text
    return re.sub(r'value="[^"]{32,}"', 'value=""', page)


async def _every_row(url: str) -> dict[str, list]:
    database = Database(url)
    await database.connect()
    try:
        async with database.read() as conn:
            if conn.dialect == "sqlite":
                sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> :internal"
            else:
                sql = "SELECT table_name AS name FROM information_schema.tables"
                sql += " WHERE table_schema = 'public' AND table_name <> :internal"
            tables = [
                row.name for row in await conn.fetch_all(sql, {"internal": "sqlite_sequence"})
            ]
            return {
                table: sorted(
                    [dict(row) for row in await conn.fetch_all(f"SELECT * FROM {table}")],  # noqa: S608
                    key=lambda row: repr(sorted(row.items())),
                )
                for table in tables
            }
    finally:
        await database.disconnect()


def every_row(url: str) -> dict[str, list]:
    """Every row of every table, whatever order the columns were created in."""
    return asyncio.run(_every_row(url))


async def _postgres(url: str, *statements: str) -> list:
    connection = await asyncpg.connect(url)
    try:
        results = []
        for statement in statements:
            try:
                results.append(await connection.fetch(statement))
            except asyncpg.PostgresError as exc:
                results.append(exc)
        return results
    finally:
        await connection.close()


def postgres(url: str, *statements: str) -> list:
    return asyncio.run(_postgres(url, *statements))


def test_a_sqlite_database_in_use_is_copied_row_for_row_and_the_portal_runs_on_the_copy(
    settings, clock, mailbox, source, target, monkeypatch, capsys
):
    with running(settings, clock, mailbox, source) as portal:
        consent_activity(portal)
        page_before = settings_page(portal)
    assert "This number replied STOP" in page_before
    before = every_row(source)
    assert len(before["consent_events"]) >= 5 and before["mass_texts"] and before["staff_actions"]

    monkeypatch.setattr(database_copy, "BATCH_ROWS", 3)  # several batches per large table
    assert main(["copy-database", "--from", source, "--to", target]) == 0
    assert "every table's row count matches" in capsys.readouterr().out
    assert every_row(target) == before  # every row of every table, ids and all

    changes, deletes = postgres(
        target,
        "UPDATE consent_events SET new_status = 'opted_in'",
        "DELETE FROM consent_events",
    )
    assert "append-only" in str(changes) and "append-only" in str(deletes)

    last_id = max(row["id"] for row in before["consent_events"])
    with running(settings, clock, mailbox, target) as portal:
        assert settings_page(portal) == page_before  # the same state, read from PostgreSQL
        assert portal.save_person("Avery", allow_texting=True).status_code == 200
        [new] = portal.rows("SELECT id FROM consent_events WHERE id > :id", {"id": last_id})
        assert new.id == last_id + 1  # the identity sequence went on past the copied ids


def test_a_target_with_tables_is_refused_and_left_as_it_was(source, target, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", source)
    assert main(["demo"]) == 0
    postgres(target, "CREATE TABLE keep (note TEXT)", "INSERT INTO keep VALUES ('mine')")
    assert main(["copy-database", "--to", target]) == 2  # --from defaults to DATABASE_URL
    assert "copy only into a new, empty database" in capsys.readouterr().err
    [tables, rows] = postgres(
        target,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        "SELECT note FROM keep",
    )
    assert [r["table_name"] for r in tables] == ["keep"] and [r["note"] for r in rows] == ["mine"]


def test_a_source_with_migrations_pending_is_refused(source, target, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", source)
    assert main(["migrate"]) == 0
    with sqlite3.connect(source.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM schema_migrations WHERE version = 90")
    assert main(["copy-database", "--to", target]) == 2
    assert "migrations pending (0090_texting_reports)" in capsys.readouterr().err
    assert postgres(
        target, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    ) == [[]]


def test_a_row_postgresql_cannot_hold_stops_the_copy_and_leaves_no_table_behind(
    source, target, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", source)
    assert main(["demo"]) == 0
    with sqlite3.connect(source.removeprefix("sqlite:///")) as db:
        # SQLite text may hold a NUL character; PostgreSQL text may not.
        db.execute("UPDATE families SET name = 'Lee' || char(0) WHERE name = 'Lee'")
    assert main(["copy-database", "--to", target]) == 2
    assert "families.name of row 2 holds a NUL character" in capsys.readouterr().err
    # The schema was made in the copy's one transaction: it went with the rows.
    assert postgres(
        target, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    ) == [[]]
    assert main(["copy-database", "--to", "sqlite:///elsewhere.sqlite3"]) == 2
    assert "the target must be a PostgreSQL database" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "column_type", "expected"),
    [(7, "integer", 7), (7.0, "bigint", 7), (" 12", "integer", 12), (42, "text", "42")],
)
def test_values_sqlite_stored_loosely_take_the_postgresql_columns_type(
    value, column_type, expected
):
    column = database_copy._Column("c", column_type)
    assert database_copy._convert("t", {"c": value, "__rowid": 1}, column) == expected


@pytest.mark.parametrize(
    ("value", "column_type"),
    [("seven", "integer"), ("+-5", "integer"), (2**31, "integer"), (1.5, "bigint")],
)
def test_values_a_postgresql_column_cannot_hold_are_refused_by_name(value, column_type):
    with pytest.raises(database_copy.CopyRefused, match="t.c of row 1"):
        database_copy._convert(
            "t", {"c": value, "__rowid": 1}, database_copy._Column("c", column_type)
        )
