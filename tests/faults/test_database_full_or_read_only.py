"""A database that cannot take a change, on purpose: SQLite full, PostgreSQL read-only. The
person gets the clear 503 page, /healthz says 503 where it can know, and nothing is partial."""

from __future__ import annotations

import database_backends
import pytest
import sqlite_faults

from portal.app import create_app


@pytest.fixture
def database_url(each_backend_url):
    return each_backend_url


@pytest.fixture
def full_disk(monkeypatch):
    """Real SQLite connections that cannot grow the file by a single page while the switch is
    on (PRAGMA max_page_count clamps to the pages it has), as on a full disk."""
    return sqlite_faults.install(
        monkeypatch, fault="PRAGMA max_page_count=1", healthy="PRAGMA max_page_count=1073741823"
    )


@pytest.fixture
def app(full_disk, settings, clock):
    return create_app(settings, clock=clock, start_dispatcher=False)


def snapshot(driver) -> list:
    return [
        driver.rows(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 (our own table names)
        for table in ("consent_events", "consent_state", "outbox", "people")
    ]


def assert_503_page(response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert "We cannot save changes right now" in response.text
    assert "Nothing was changed" in response.text


@pytest.mark.parametrize("each_backend_url", ["sqlite"], indirect=True)
def test_a_change_on_a_full_sqlite_database_gets_the_503_page_and_nothing_partial(
    parent, full_disk
):
    async def vacuum():
        async with parent.ctx.db.read() as conn:
            await conn.execute("VACUUM")  # no free pages left to fill

    parent.call(vacuum)
    full_disk.on = True
    # Changes fit while the file's pages have room; the first one that needs a new page is
    # refused, whichever of its rows (event, state, the office's email) ran out.
    for attempt in range(100):
        before = snapshot(parent)
        response = parent.save_person("Avery", allow_texting=attempt % 2 == 1)
        if response.status_code != 200:
            break
    assert_503_page(response)
    assert snapshot(parent) == before
    assert parent.rows("PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    full_disk.on = False
    assert parent.save_person("Avery", allow_texting=attempt % 2 == 1).status_code == 200
    assert len(snapshot(parent)[0]) == len(before[0]) + 1


@pytest.mark.parametrize("each_backend_url", ["postgresql"], indirect=True)
def test_a_read_only_postgresql_gets_the_503_page_and_healthz_503_and_nothing_changes(
    parent, database_url
):
    name = database_backends.name_of(database_url)
    before = snapshot(parent)
    database_backends.run_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')

    async def reconnect():
        # The setting holds for new sessions: the app's pool opens new ones, as after a failover.
        await parent.ctx.db.disconnect()
        await parent.ctx.db.connect()

    parent.call(reconnect)
    assert_503_page(parent.save_person("Avery", allow_texting=False))
    health = parent.client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "error"
    assert "Texts allowed" in parent.client.get("/account/students").text  # reads still work
    assert snapshot(parent) == before
    database_backends.run_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    parent.call(reconnect)
    assert parent.client.get("/healthz").status_code == 200
    assert parent.save_person("Avery", allow_texting=False).status_code == 200
