"""Steps for tests that run the portal as real processes: `portal serve` and `portal worker` on
one database, signed webhooks and logins over real HTTP, and that database read directly."""

from __future__ import annotations

import contextlib
import os
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import PUBLIC_URL
from database_backends import run_on_own_loop
from twilio_steps import ORG_NUMBER, TOKEN, twilio_signature

from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel
from portal.context import PortalContext
from portal.db import Row, migrate
from portal.db import people as people_rows
from portal.people import demo
from portal.settings import SETTINGS, Settings

# The ports this folder's servers listen on (loopback only).
PORTS = range(18300, 18400)
SECRET_KEY = "test-secret-key-for-the-portal-tests-0123456789"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port(ports: range = PORTS) -> int:
    # From a random place in the range: two runs on one machine rarely probe the same port.
    start = random.randrange(len(ports))
    for port in [*ports[start:], *ports[:start]]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {ports.start}-{ports.stop - 1}")


class Deployment:
    """One database, the settings every process of it shares, and the processes started."""

    def __init__(self, database_url: str, smtp_server, twilio, tmp_path: Path):
        self.database_url = database_url
        self.twilio = twilio
        self.mailbox = smtp_server
        self.tmp_path = tmp_path
        self.processes: list[tuple[subprocess.Popen, object]] = []
        if database_url.startswith("postgresql"):
            # Each process's pool opens its connections as needed, not ten at start: several
            # processes (and test runs) share the server's max_connections.
            database_url += "?min_size=1"
        self.settings = {
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "PUBLIC_URL": PUBLIC_URL,  # behind one load balancer: one public address for all
            "SECRET_KEY": SECRET_KEY,
            "SMTP_HOST": smtp_server.host,
            "SMTP_PORT": str(smtp_server.port),
            "SMTP_TLS": "none",
            "ORGANIZATION_NAME": "Riverside Dance Academy",
            "ORGANIZATION_EMAIL": "office@riverside.example",
            "ORGANIZATION_PHONE": ORG_NUMBER,
            "TWILIO_ACCOUNT_SID": "ACtest",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": ORG_NUMBER,
            "TWILIO_API_URL": twilio.url,
            "SPOOL_DIR": str(tmp_path / "spool"),
            "SMS_PER_SECOND": "50",
            # Sending hours never hold a text in these tests, whatever the time of day.
            "SENDING_HOURS": "00:00-23:59",
            # No dispatcher in `serve` unless a test asks: rows stay in the outbox to count.
            "RUN_DISPATCHER": "false",
        }

    def env(self, **changes: str) -> dict[str, str]:
        """A portal process's environment: ours, without any portal setting from outside."""
        names = {s.name for s in SETTINGS}
        return {k: v for k, v in os.environ.items() if k not in names} | self.settings | changes

    def _start(self, args: list[str], name: str, **changes: str) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 (our own command, no shell)
            [sys.executable, "-m", "portal.cli", *args],
            cwd=self.tmp_path,
            env=self.env(**changes),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append((process, log))
        return process

    def serve(self, name: str = "serve", **changes: str) -> str:
        """Start `portal serve` on a free port; its base URL once it listens and answers."""
        for _ in range(3):
            port = free_port()
            process = self._start(
                ["serve", "--host", "127.0.0.1", "--port", str(port)], name, **changes
            )
            listening = f"Uvicorn running on http://127.0.0.1:{port}"
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 15
            # Readiness, not a timing assertion. Our own process must say it listens: another
            # run on this machine may have taken the port between the probe and the bind.
            while time.monotonic() < deadline and process.poll() is None:
                if listening in self.log(name):
                    with contextlib.suppress(httpx.TransportError):
                        if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                            return base
                time.sleep(0.05)
            if process.poll() is None:
                break  # alive but never ready: say so below, with its log
        raise AssertionError(f"{name} never answered:\n{self.log(name)}")

    def worker(self, name: str = "worker", **changes: str) -> subprocess.Popen:
        return self._start(["worker"], name, **changes)

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def stop(self) -> None:
        for process, log in self.processes:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()

    # --- the database, read and written directly --------------------------------------------

    def context(self) -> PortalContext:
        from starlette.routing import Router

        from portal.web.routes import routes

        settings = Settings.from_mapping(self.settings)
        ctx = PortalContext.build(settings)
        ctx.router = Router(routes=routes(settings))
        return ctx

    def call(self, work):
        """Run `await work(ctx)` with a context of its own on this deployment's database."""

        async def run():
            ctx = self.context()
            await ctx.db.connect()
            try:
                return await work(ctx)
            finally:
                await ctx.db.disconnect()

        return run_on_own_loop(run, timeout=30)

    def load_demo(self) -> None:
        """Migrate (a fresh SQLite file is empty) and load the demo organization."""

        async def load(ctx):
            await migrate.apply(ctx.db)
            await ctx.ensure_organization()
            await demo.load(ctx)

        self.call(load)

    def rows(self, sql: str, values: dict | None = None) -> list[Row]:
        async def query(ctx):
            async with ctx.db.read() as conn:
                return await conn.fetch_all(sql, values or {})

        return self.call(query)


def signed_text(body: str, from_number: str, sid: str) -> tuple[dict, dict]:
    """An inbound text's form and headers as Twilio would POST them to PUBLIC_URL."""
    params = {
        "MessageSid": sid,
        "AccountSid": "ACtest",
        "From": from_number,
        "To": ORG_NUMBER,
        "Body": body,
    }
    signature = twilio_signature(PUBLIC_URL + "/webhooks/twilio/sms", params)
    return params, {"X-Twilio-Signature": signature}


async def text_in(client: httpx.AsyncClient, body: str, from_number: str, sid: str) -> int:
    params, headers = signed_text(body, from_number, sid)
    response = await client.post("/webhooks/twilio/sms", data=params, headers=headers)
    return response.status_code


def login(base: str, email: str = demo.PARENT_EMAIL, password: str = demo.PARENT_PASSWORD):
    """A logged-in browser on `base`: its cookies and a CSRF token for its forms."""
    with httpx.Client(base_url=base, timeout=10) as browser:
        token = CSRF_RE.search(browser.get("/login").text).group(1)
        answer = browser.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text
        page = browser.get("/account/settings/edit")
        return dict(browser.cookies), CSRF_RE.search(page.text).group(1)


def wait_until(condition, seconds: float = 10.0, message: str = "never happened") -> None:
    """Poll real processes until they get there (a bound, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(message)


def count(deployment: Deployment, sql: str, values: dict | None = None) -> int:
    return deployment.rows(sql, values)[0].n


def add_texting_people(deployment: Deployment, phones: list[str]) -> dict[str, int]:
    """A student of the Parker family for each number, opted in with evidence; ids by number."""

    async def add(ctx):
        ids = {}
        async with ctx.db.write() as conn:
            family_id = await conn.fetch_val("SELECT id FROM families WHERE name = 'Parker'")
            for n, phone in enumerate(phones):
                ids[phone] = await people_rows.create(
                    conn,
                    family_id=family_id,
                    kind="student",
                    first_name=f"Student{n}",
                    last_name="Parker",
                    email=None,
                    cell_phone=phone,
                    now=to_db(ctx.now()),
                )
                await commands.set_texting(
                    conn,
                    ctx,
                    person_id=ids[phone],
                    allow=True,
                    channel=Channel.IMPORT,
                    actor=Actor(kind="system", label="test"),
                    evidence={"note": "registration form"},
                    confirm_by_text=False,
                )
        return ids

    return deployment.call(add)
