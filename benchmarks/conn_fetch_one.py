"""Time 10,000 `Conn.fetch_one` calls of a one-row SELECT: the per-query cost of portal/db.

Usage: python -m benchmarks.conn_fetch_one [DATABASE_URL]. Without a URL it uses a fresh SQLite
file in a temporary folder (never :memory:, which the portal refuses).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from portal.db import Database

CALLS = 10_000


async def measure(url: str) -> float:
    db = Database(url)
    await db.connect()
    try:
        async with db.read() as conn:
            await conn.fetch_one(
                "SELECT CAST(:n AS integer) AS n", {"n": 0}
            )  # the connection is open and warm
            started = time.perf_counter()
            for n in range(CALLS):
                await conn.fetch_one("SELECT CAST(:n AS integer) AS n", {"n": n})
            return time.perf_counter() - started
    finally:
        await db.disconnect()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(folder) / 'micro.sqlite3'}"
        seconds = asyncio.run(measure(url))
    print(
        f"{CALLS:,} fetch_one on {url.split(':', 1)[0]}: {seconds:.2f} s, "
        f"{seconds / CALLS * 1e6:.0f} µs each"
    )


if __name__ == "__main__":
    main()
