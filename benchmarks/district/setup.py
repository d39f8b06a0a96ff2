"""A run's stage: the database, the processes a user would run, logins and the numbers
every step shares."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx

from benchmarks.district import processes
from benchmarks.district.processes import Processes, free_port

TWILIO_TOKEN = "bench-twilio-auth-token"
ORG_NUMBER = "+12015550100"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclasses.dataclass
class Sizes:
    import_rows: int
    saves_per_connection: int
    stop_burst: int
    outbox_emails: int
    export_events: int
    search_events: int
    page_seconds: int
    latency_requests: int


FULL = Sizes(50_000, 20, 2_000, 5_000, 200_000, 300_000, 10, 200)
QUICK = Sizes(2_000, 4, 300, 500, 20_000, 30_000, 3, 40)


def twilio_signature(url: str, params: dict[str, str]) -> str:
    """As Twilio documents it: HMAC-SHA1 of the URL and the sorted fields, base64."""
    data = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class Stage:
    """Everything one run starts, in its own folder; `close()` stops and removes it all."""

    def __init__(self, workdir: Path, database: str, ports: range) -> None:
        self.workdir, self.database = workdir, database
        self._ports = iter(ports)
        self.port = free_port(self._ports)
        self.public_url = f"http://127.0.0.1:{self.port}"
        self.smtp_port, self.twilio_port = free_port(self._ports), free_port(self._ports)
        self.floor_port = free_port(self._ports)
        self.pg_name = f"portal_bench_{secrets.token_hex(4)}" if database == "postgresql" else ""
        if self.pg_name:
            self.database_url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + self.pg_name
        else:
            self.database_url = f"sqlite:///{workdir / 'portal.sqlite3'}"
        self.env = {
            "ENVIRONMENT": "production",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "bench-" + "k" * 40,
            "PUBLIC_URL": self.public_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMTP_TLS": "none",
            "TWILIO_ACCOUNT_SID": "ACbench",
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM_NUMBER": ORG_NUMBER,
            "TWILIO_API_URL": f"http://127.0.0.1:{self.twilio_port}",
            "SPOOL_DIR": str(workdir / "spool"),
        }
        self.procs = Processes(workdir, self.env)
        self.server: subprocess.Popen | None = None
        self.floor: subprocess.Popen | None = None
        self.db = None

    async def open(self) -> None:
        if self.pg_name:
            await processes.create_postgres_database(POSTGRES_ADMIN, self.pg_name)
        self.procs.run("migrate")
        self.procs.run("demo")
        self.procs.python(
            "smtp", "benchmarks.district.sinks", "smtp", str(self.smtp_port), port=self.smtp_port
        )
        self.procs.python(
            "twilio",
            "benchmarks.district.sinks",
            "twilio",
            str(self.twilio_port),
            port=self.twilio_port,
        )
        self.server = self.procs.start(
            "server", [processes.PORTAL, "serve", "--port", str(self.port)], port=self.port
        )
        from portal.db import Database

        self.db = Database(self.database_url)
        await self.db.connect()

    def start_floor(self, page: dict) -> None:
        page_file = self.workdir / "floor-page.json"
        page_file.write_text(json.dumps(page, default=str))
        self.floor = self.procs.python(
            "floor",
            "benchmarks.district.floor_app",
            str(self.floor_port),
            port=self.floor_port,
            env={"BENCH_FLOOR_PAGE": str(page_file)},
        )

    async def close(self) -> None:
        if self.db is not None:
            await self.db.disconnect()
        self.procs.stop_all()
        if self.pg_name:
            await processes.drop_postgres_database(POSTGRES_ADMIN, self.pg_name)

    # --- talking to the portal as its users do -------------------------------------------

    async def login(self, email: str, password: str) -> tuple[httpx.AsyncClient, str]:
        """A logged-in browser: (client holding the session cookie, a CSRF token for POSTs)."""
        client = httpx.AsyncClient(
            base_url=self.public_url, headers={"Origin": self.public_url}, timeout=120
        )
        page = await client.get("/login")
        token = CSRF.search(page.text).group(1)
        answer = await client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert answer.status_code in (200, 303), (email, answer.status_code)
        page = await client.get("/account/password")
        return client, CSRF.search(page.text).group(1)

    @staticmethod
    def cookie_header(client: httpx.AsyncClient) -> str:
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())

    def signed_text(self, sid: str, from_phone: str, body: str) -> tuple[dict, str]:
        params = {
            "MessageSid": sid,
            "AccountSid": "ACbench",
            "From": from_phone,
            "To": ORG_NUMBER,
            "Body": body,
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(
                self.public_url + "/webhooks/twilio/sms", params
            ),
        }
        return headers, urllib.parse.urlencode(params)

    def load(self, port: int, connections: list[list], **options) -> dict:
        """Run the load generator in its own processes against `port`; its JSON answer."""
        spec = {"host": "127.0.0.1", "port": port, "connections": connections, **options}
        spec_file = self.workdir / "load.json"
        spec_file.write_text(json.dumps(spec))
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.district.loadgen", str(spec_file)],
            cwd=self.workdir,
            env=self.procs.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"load generator failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout)

    def wrk(self, url: str, seconds: int, headers: dict[str, str] | None = None) -> dict:
        """wrk, 2 threads, 32 connections: requests a second and how many were not 2xx/3xx."""
        if shutil.which("wrk") is None:
            raise RuntimeError("wrk is not installed: apt-get install wrk")
        argv = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
        for name, value in (headers or {}).items():
            argv += ["-H", f"{name}: {value}"]
        out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        errors = re.search(r"Socket errors:.*", out)
        return {
            "rate": rate,
            "bad": int(bad.group(1)) if bad else 0,
            "errors": errors.group(0) if errors else "",
            "raw": out,
        }

    async def wait_until(self, check, timeout: float, every: float = 0.05) -> float:
        """Seconds until `check()` (async, on a read connection) is true."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            async with self.db.read() as conn:
                if await check(conn):
                    return time.perf_counter() - started
            await asyncio.sleep(every)
        raise TimeoutError(f"not done after {timeout} s")
