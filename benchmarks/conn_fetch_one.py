"""Time 10,000 `Conn.fetch_one` calls of a one-row SELECT: the per-query cost of portal/db.

Usage: python -m benchmarks.conn_fetch_one [DATABASE_URL]. Without a URL it uses a fresh SQLite
file in a temporary folder (never :memory:, which the portal refuses). The floor, measured in
the same run, is the driver alone on the same database: plain sqlite3 on the same thread, or
asyncpg on one connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from portal.db import Database

CALLS = 10_000
QUERY = "SELECT CAST(:n AS integer) AS n"


async def measure(url: str) -> float:
    db = Database(url)
    await db.connect()
    try:
        async with db.read() as conn:
            await conn.fetch_one(QUERY, {"n": 0})  # the connection is open and warm
            started = time.perf_counter()
            for n in range(CALLS):
                await conn.fetch_one(QUERY, {"n": n})
            return time.perf_counter() - started
    finally:
        await db.disconnect()


async def floor(url: str) -> float:
    """The same statement straight on the driver, no pool, thread or placeholder work."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            started = time.perf_counter()
            for n in range(CALLS):
                connection.execute(QUERY, {"n": n}).fetchone()
            return time.perf_counter() - started
        finally:
            connection.close()
    connection = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for n in range(CALLS):
            await connection.fetchrow("SELECT CAST($1 AS integer) AS n", n)
        return time.perf_counter() - started
    finally:
        await connection.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(folder) / 'micro.sqlite3'}"
        seconds = asyncio.run(measure(url))
        bare = asyncio.run(floor(url))
    print(
        f"{CALLS:,} fetch_one on {url.split(':', 1)[0]}: {seconds / CALLS * 1e6:.0f} µs each;"
        f" the driver alone {bare / CALLS * 1e6:.0f} µs each; ratio {bare / seconds:.2f}x"
    )


if __name__ == "__main__":
    main()
