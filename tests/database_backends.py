"""Per-test databases: a fresh SQLite file, or a fresh PostgreSQL database.

`PORTAL_TEST_DATABASE=postgresql` runs the whole suite on PostgreSQL (`.ci/run` runs it both
ways). Each test then gets its own database, cloned from a template migrated once per session,
and dropped after the test. `PORTAL_TEST_POSTGRES` names the server (a maintenance database
URL); it defaults to the local server on 127.0.0.1:5432 with trust auth.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import uuid
from pathlib import Path

import asyncpg

from portal.db import Database, migrate

BACKEND = os.environ.get("PORTAL_TEST_DATABASE", "sqlite").strip().lower()
if BACKEND not in {"sqlite", "postgresql"}:
    raise RuntimeError(f"PORTAL_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")

SERVER_URL = os.environ.get(
    "PORTAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
).rstrip("/")
_SERVER_ROOT = SERVER_URL.rsplit("/", 1)[0]

# Names are unique per test run, so two runs on one server (or a run that was killed and left
# databases behind) never meet.
_RUN = uuid.uuid4().hex[:10]
_numbers = itertools.count(1)
_template: str | None = None


def run_on_own_loop(coroutine_function, *args, timeout: float | None = None):
    """Run async work on its own event loop in a thread: a test's loop may already be running
    in this one."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine_function(*args)).result(timeout=timeout)


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(SERVER_URL, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    database = Database(url)
    await database.connect()
    try:
        await migrate.apply(database)
    finally:
        await database.disconnect()


def postgres_url(name: str) -> str:
    return f"{_SERVER_ROOT}/{name}"


def _ensure_template() -> str:
    global _template
    if _template is None:
        name = f"portal_test_{_RUN}_template"
        run_on_own_loop(_admin, f'CREATE DATABASE "{name}"')
        run_on_own_loop(_migrate, postgres_url(name))
        _template = name
    return _template


def new_postgres_database() -> str:
    """Create an empty, migrated PostgreSQL database; return its name."""
    name = f"portal_test_{_RUN}_{next(_numbers)}"
    run_on_own_loop(_admin, f'CREATE DATABASE "{name}" TEMPLATE "{_ensure_template()}"')
    return name


def new_empty_postgres_database() -> str:
    """Create a PostgreSQL database with no tables at all (for `portal migrate` and copies)."""
    name = f"portal_test_{_RUN}_{next(_numbers)}"
    run_on_own_loop(_admin, f'CREATE DATABASE "{name}"')
    return name


def drop_postgres_database(name: str) -> None:
    # FORCE: a test that failed may have left a connection open.
    run_on_own_loop(_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_template() -> None:
    global _template
    if _template is not None:
        drop_postgres_database(_template)
        _template = None


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'portal.sqlite3'}"


def run_admin(*statements: str) -> None:
    """Run statements on the server's maintenance database (ALTER DATABASE, ...)."""
    run_on_own_loop(_admin, *statements)


def name_of(url: str) -> str:
    return url.rsplit("/", 1)[1]
