"""The processes a run starts (server, floor server, sinks, CLI commands) and what it reads of
them: readiness, memory, exit. Every process started here is stopped here, by its own id."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PORTAL = str(Path(sys.executable).with_name("portal"))


class Processes:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], port: int | None = None, env=None):
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            argv, cwd=self.workdir, env={**self.env, **(env or {})}, stdout=log, stderr=log
        )
        process.log = log
        self.running.append(process)
        if port is not None:
            wait_for_port(port, process, self.workdir / f"{name}.log")
        return process

    def python(self, name: str, module: str, *args: str, port: int | None = None, env=None):
        return self.start(name, [sys.executable, "-m", module, *args], port, env)

    def run(self, *argv: str, env=None) -> tuple[float, str]:
        """A portal CLI command to its end: (seconds, output); an error ends the benchmark."""
        started = time.perf_counter()
        done = subprocess.run(
            [PORTAL, *argv],
            cwd=self.workdir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        if done.returncode:
            raise RuntimeError(f"portal {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
        return elapsed, done.stdout

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.log.close()
        self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def free_port(ports: iter) -> int:
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port left in the benchmark's range")


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} ended at start:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{process.args} did not listen on {port}")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak) of a process, in KiB, from /proc."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


class RssWatch:
    """Samples a process's RSS every 20 ms while a step runs: its growth above the start."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._task = pid, 0, None
        self.start = memory_kib(pid)["VmRSS"]

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, memory_kib(self.pid)["VmRSS"])
            await asyncio.sleep(0.02)

    async def __aenter__(self) -> RssWatch:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        self.peak = max(self.peak, memory_kib(self.pid)["VmRSS"])

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 1024


async def create_postgres_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_postgres_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
