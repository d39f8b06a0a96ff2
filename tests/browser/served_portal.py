"""The portal as the README runs it: `portal demo`, then `portal serve` on a loopback port of
this folder's range, each server with its own SQLite file, its mail catcher and fake phone."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from process_steps import free_port

from portal.settings import SETTINGS

# The ports the browser tests' servers listen on (loopback only).
PORTS = range(19000, 19100)


def _environment(database: Path) -> dict[str, str]:
    """A development portal's environment: no portal setting from outside but the database."""
    names = {s.name for s in SETTINGS}
    outside = {k: v for k, v in os.environ.items() if k not in names}
    return outside | {
        "DATABASE_URL": f"sqlite:///{database}",
        "SPOOL_DIR": str(database.parent / "spool"),
        # Staff texts are never held for the morning, whatever the hour the suite runs at.
        "SENDING_HOURS": "00:00-23:59",
    }


def portal_command(database: Path, *args: str) -> str:
    """Run one `portal` command on `database` and return what it printed; fail if it failed."""
    done = subprocess.run(  # noqa: S603 (our own command, no shell)
        [sys.executable, "-m", "portal.cli", *args],
        cwd=database.parent,
        env=_environment(database),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"portal {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def demo_database(folder: Path) -> Path:
    """A database holding the demo organization, loaded by `portal demo` as the README says."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "demo.sqlite3"
    portal_command(database, "demo")
    return database


def copy_database(source: Path, folder: Path) -> Path:
    """A copy of `source` for one server, through SQLite's backup API (consistent, WAL or not)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "portal.sqlite3"
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    return target


class ServedPortal:
    """One `portal serve` process; `url` is where a browser finds it."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.log_path = database.parent / "serve.log"
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> ServedPortal:
        for _ in range(3):
            port = free_port(PORTS)
            with self.log_path.open("w") as log:
                self.process = subprocess.Popen(  # noqa: S603 (our own command, no shell)
                    [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
                    cwd=self.database.parent,
                    env=_environment(self.database),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            self.url = f"http://127.0.0.1:{port}"
            if self._answers(port):
                return self
            self.stop()  # another process took the port between the probe and the bind
        raise AssertionError(f"portal serve did not start:\n{self.log_path.read_text()}")

    def _answers(self, port: int) -> bool:
        # Readiness, not a timing assertion: our own process must say it listens on the port.
        listening = f"Uvicorn running on http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            if listening in self.log_path.read_text():
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                        return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
