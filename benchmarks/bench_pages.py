"""Benchmark: account pages and consent writes, as ratios against floors measured in this run.

Floors: a bare Starlette page through the same in-process client (what the framework alone
costs), and plain sqlite3 durable transactions on the same disk (what SQLite alone costs).
Run: .venv/bin/python benchmarks/bench_pages.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from portal.app import create_app
from portal.consent import commands, rules
from portal.messaging import twilio
from portal.people import demo
from portal.settings import Settings


async def _rate(
    client: httpx.AsyncClient, method: str, path: str, n: int, concurrency: int, data_for=None
) -> float:
    queue = list(range(n))

    async def worker():
        while queue:
            i = queue.pop()
            if method == "GET":
                response = await client.get(path)
            else:
                response = await client.post(path, data=data_for(i))
            assert response.status_code < 400, (path, response.status_code)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def bare_floor(n: int, concurrency: int) -> float:
    page = "<!doctype html><title>x</title><p>" + "hello " * 200
    bare = Starlette(routes=[Route("/", lambda request: HTMLResponse(page))])
    transport = httpx.ASGITransport(app=bare)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        return await _rate(client, "GET", "/", n, concurrency)


async def portal_pages(db_dir: Path, n: int, concurrency: int) -> dict[str, float]:
    settings = Settings.from_mapping(
        {
            "DATABASE_URL": f"sqlite:///{db_dir / 'bench.sqlite3'}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "9",
            "SMTP_TLS": "none",
        }
    )
    app = create_app(settings, start_dispatcher=False)
    results = {}
    async with app.router.lifespan_context(app):
        await demo.load(app.state.ctx)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            page = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            await client.post(
                "/login",
                data={
                    "email": demo.PARENT_EMAIL,
                    "password": demo.PARENT_PASSWORD,
                    "csrf_token": token,
                },
            )
            page = await client.get("/account/settings")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            results["GET /account/settings"] = await _rate(
                client, "GET", "/account/settings", n, concurrency
            )
            results["GET /account/students"] = await _rate(
                client, "GET", "/account/students", n, concurrency
            )
            async with app.state.ctx.db.read() as conn:
                avery = await conn.fetch_val("SELECT id FROM people WHERE first_name = 'Avery'")

            def toggle(i):  # alternate off and on: every save is a real consent change
                form = {
                    "csrf_token": token,
                    "first_name": "Avery",
                    "last_name": "Parker",
                    "cell_phone": "+12015550103",
                }
                if i % 2:
                    form["allow_texting"] = "on"
                return form

            # Sequential: consecutive toggles must alternate, and one parent saves one at a time.
            results["POST student edit (consent change)"] = await _rate(
                client, "POST", f"/account/students/{avery}/edit", max(n // 5, 20), 1, toggle
            )
            results.update(await _consent_link_and_webhook(app, transport, n, concurrency))
        results["consent.set_texting, 200 concurrent"] = await _concurrent_writes(app, avery)
    return results


async def _consent_link_and_webhook(app, transport, n: int, concurrency: int) -> dict:
    """The emailed consent page (anonymous, as from a mail client) and signed STOP/START."""
    ctx = app.state.ctx
    async with ctx.db.write() as conn:
        jordan = await conn.fetch_val("SELECT id FROM people WHERE first_name = 'Jordan'")
        link = await ctx.consent_links.issue(
            conn, person_id=jordan, phone="+12015550102", consent_version=0
        )
    results = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as anonymous:
        results["GET /text-consent/<token>"] = await _rate(
            anonymous, "GET", f"/text-consent/{link.token}", n, concurrency
        )
        path = "/webhooks/twilio/sms"

        def signed(i):
            params = {
                "MessageSid": f"SM{i:032d}",
                "From": "+12015550111",
                "To": "+12015550100",
                "Body": "START" if i % 2 else "STOP",
            }
            return params

        async def post_signed(i):
            params = signed(i)
            sig = twilio.signature(
                ctx.twilio_auth_token, ctx.settings.public_url + path, params.items()
            )
            response = await anonymous.post(path, data=params, headers={"X-Twilio-Signature": sig})
            assert response.status_code == 200, response.status_code

        count = max(n // 5, 20)
        start = time.perf_counter()
        for i in range(count):  # sequential: STOP and START must alternate for one number
            await post_signed(i)
        results["POST /webhooks/twilio/sms (STOP/START)"] = count / (time.perf_counter() - start)
    return results


async def _concurrent_writes(app, person_id: int) -> float:
    ctx = app.state.ctx
    actor = rules.Actor(kind="staff", label="bench")

    async def one(i):
        async with ctx.db.write() as conn:
            await commands.set_texting(
                conn,
                ctx,
                person_id=person_id,
                allow=bool(i % 2),
                channel=rules.Channel.STAFF,
                actor=actor,
                evidence={"note": "bench"},
            )

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(200)))
    return 200 / (time.perf_counter() - start)


def sqlite_floor(db_dir: Path, n: int = 2000) -> float:
    conn = sqlite3.connect(db_dir / "floor.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    conn.execute("INSERT INTO t VALUES (1, 0)")
    start = time.perf_counter()
    for _ in range(n):
        conn.execute("BEGIN IMMEDIATE")
        value = conn.execute("SELECT v FROM t WHERE id = 1").fetchone()[0]
        conn.execute("UPDATE t SET v = ? WHERE id = 1", (value + 1,))
        conn.execute("COMMIT")
    conn.close()
    return n / (time.perf_counter() - start)


async def main(n: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        floor_pages = await bare_floor(n, concurrency)
        floor_writes = sqlite_floor(tmp_path)
        results = await portal_pages(tmp_path, n, concurrency)
    print(f"floor: bare Starlette page        {floor_pages:8.0f} req/s")
    print(f"floor: plain sqlite3 durable tx   {floor_writes:8.0f} tx/s")
    for name, rate in results.items():
        floor = floor_writes if "set_texting" in name or "POST" in name else floor_pages
        print(f"{name:40s} {rate:8.0f} /s   {rate / floor:6.3f} x floor")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
