"""A fake Twilio REST API on loopback: real HTTP, recorded requests, programmed answers."""

from __future__ import annotations

import base64
import collections
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeTwilio:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        # Each answer: (status, json body, seconds to wait first, headers). Default: 201 queued.
        self.answers: collections.deque[tuple[int, dict, float, dict]] = collections.deque()
        self._count = 0
        # hold(n): the next n requests wait, received but unanswered, until release().
        self._lock = threading.Condition()
        self._to_hold = 0
        self.held = 0
        self._released = threading.Event()
        self._released.set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API answers

            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                auth = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
                with fake._lock:
                    fake.requests.append(
                        {"path": self.path, "form": form, "auth": auth, "peer": self.client_address}
                    )
                    status, body, delay, headers = fake._next_answer()
                    holding = fake._to_hold > 0
                    if holding:
                        fake._to_hold -= 1
                        fake.held += 1
                        fake._lock.notify_all()
                if holding:
                    fake._released.wait(timeout=30)
                time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll interval: shutdown() waits for one, and every test stops a server.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _next_answer(self) -> tuple[int, dict, float, dict]:
        self._count += 1
        if self.answers:
            return self.answers.popleft()
        return 201, {"sid": f"SM{self._count:032d}", "status": "queued"}, 0.0, {}

    def answer(
        self,
        status: int,
        body: dict | None = None,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.answers.append((status, body or {}, delay, headers or {}))

    def hold(self, count: int) -> None:
        """Keep the next `count` requests waiting for an answer until release(): a sender is
        then caught in the middle of its work, at a point the test chose."""
        with self._lock:
            self._released.clear()
            self._to_hold, self.held = count, 0

    def wait_held(self, count: int, timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self.held >= count, timeout)

    def release(self) -> None:
        self._released.set()

    def texts_to(self, number: str) -> list[str]:
        return [r["form"]["Body"] for r in self.requests if r["form"].get("To") == number]

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
