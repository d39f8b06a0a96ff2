"""What the portal talks to, each in its own process: an aiosmtpd server and a fake Twilio.

Run: python -m benchmarks.district.sinks smtp PORT | twilio PORT. Both accept everything and
keep nothing: the benchmark reads what was delivered from the portal's own outbox.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Accept:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        return "250 OK"


def smtp(port: int) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    threading.Event().wait()


def twilio(port: int) -> None:
    """Twilio's Messages.json at HTTP level: every text accepted as queued (201)."""
    counter = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payload = json.dumps({"sid": f"SM{next(counter):032d}", "status": "queued"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    # The benchmark stops its processes with SIGINT: no traceback for that.
    with contextlib.suppress(KeyboardInterrupt):
        {"smtp": smtp, "twilio": twilio}[sys.argv[1]](int(sys.argv[2]))
