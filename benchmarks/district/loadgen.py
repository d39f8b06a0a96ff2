"""A load generator in its own processes: prebuilt HTTP/1.1 requests over kept-alive sockets.

Each connection runs its own list of requests in order (a parent's alternating saves must not
overtake each other); latencies and statuses come back as JSON on stdout. Run as
`python -m benchmarks.district.loadgen SPEC.json`; the spec names host, port, processes and
per-connection request lists, each request [method, path, headers, body].
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time


def encode(host: str, port: int, method: str, path: str, headers: dict, body: str) -> bytes:
    data = body.encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method != "GET" or data:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def _connection(host, port, requests: list[bytes], out: dict, stop_file: str, pace: float):
    """`pace`: seconds between request starts (0: as fast as answers come); `stop_file`: stop
    early once it exists."""
    reader, writer = await asyncio.open_connection(host, port)
    first = time.perf_counter()
    for n, raw in enumerate(requests):
        if stop_file and os.path.exists(stop_file):
            break
        if pace:
            await asyncio.sleep(max(0.0, first + n * pace - time.perf_counter()))
        started = time.perf_counter()
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length, chunked = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        size = await _read_body(reader, length, chunked)
        out["latencies"].append(time.perf_counter() - started)
        out["statuses"][status] = out["statuses"].get(status, 0) + 1
        out["bytes"] += size
        out["sizes"].append(size)
    writer.close()


async def _read_body(reader: asyncio.StreamReader, length: int, chunked: bool) -> int:
    if not chunked:
        await reader.readexactly(length)
        return length
    size = 0
    while True:
        chunk = int((await reader.readuntil(b"\r\n")).strip(), 16)
        await reader.readexactly(chunk + 2)
        size += chunk
        if chunk == 0:
            return size


async def _process_main(host, port, lists: list[list[bytes]], stop_file: str, pace: float) -> dict:
    out = {"latencies": [], "statuses": {}, "bytes": 0, "sizes": [], "start": time.time()}
    await asyncio.gather(*(_connection(host, port, r, out, stop_file, pace) for r in lists))
    out["end"] = time.time()
    return out


def _run_share(args) -> dict:
    return asyncio.run(_process_main(*args))


def run(spec: dict) -> dict:
    host, port = spec["host"], spec["port"]
    lists = [
        [encode(host, port, *request) for request in connection]
        for connection in spec["connections"]
    ]
    processes = max(1, min(spec.get("processes", 1), len(lists)))
    stop_file, pace = spec.get("stop_file", ""), spec.get("pace", 0.0)
    shares = [(host, port, lists[i::processes], stop_file, pace) for i in range(processes)]
    with multiprocessing.Pool(processes) as pool:
        parts = pool.map(_run_share, shares)
    # From the first process's start to the last one's end: the pool's own start-up is not
    # the server's time.
    elapsed = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    for part in parts:
        latencies += part["latencies"]
        for status, n in part["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + n
    return {
        "elapsed": elapsed,
        "count": len(latencies),
        "statuses": statuses,
        "latencies": sorted(latencies),
        "bytes": sum(part["bytes"] for part in parts),
        "largest": max((max(part["sizes"], default=0) for part in parts), default=0),
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as spec_file:
        json.dump(run(json.load(spec_file)), sys.stdout)
