"""A small HTTP/1.1 load generator, used when wrk is not installed.

Keep-alive connections each send one request at a time (like ``wrk -c``),
cycling through the request bodies of a file (one JSON body a line) or
drawing each body from the file's template (bench/fresh.py), and report
throughput and latency percentiles as one JSON line. It is slower than
wrk, so when it drives the benchmark the client may be the limit: the
benchmark says which driver it used.

    python -m bench.pyload URL BODIES_FILE --connections 2 --duration 5 [--seed S]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from urllib.parse import urlsplit

from .fresh import Template, read


async def _connection(host: str, port: int, path: str, bodies: list[bytes] | Template, start: int,
                      stop_at: float, latencies: list[float], counts: dict, rng: random.Random) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"

    def request(body: bytes) -> bytes:
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body

    heads = [request(b) for b in bodies] if isinstance(bodies, list) else None
    i = start
    clock = time.perf_counter
    try:
        while True:
            began = clock()
            if began >= stop_at:
                return
            writer.write(heads[i % len(heads)] if heads else request(bodies.expand(rng)))
            i += 1
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(clock() - began)
            if status_line[9:10] != b"2":
                counts["non2xx"] += 1
    finally:
        writer.close()


async def run(url: str, bodies: list[bytes] | Template, connections: int, duration: float,
              seed: int | None = None) -> dict:
    parts = urlsplit(url)
    latencies: list[float] = []
    counts = {"non2xx": 0}
    rng = random.Random(seed)
    began = time.perf_counter()
    stop_at = began + duration
    await asyncio.gather(*(_connection(parts.hostname, parts.port, parts.path or "/", bodies,
                                       k * 7919, stop_at, latencies, counts, rng)
                           for k in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> int:
        if not latencies:
            return 0
        return int(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e6)

    return {"requests": len(latencies), "duration_us": int(elapsed * 1e6), "p50_us": pct(50),
            "p99_us": pct(99), "non2xx": counts["non2xx"], "socket_errors": 0}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("bodies")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=None, help="for the values a template draws")
    args = parser.parse_args(argv)
    with open(args.bodies, "rb") as handle:
        text = handle.read()
    bodies = read(text.decode()) or [line for line in text.split(b"\n") if line.strip()]
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    print("BENCH " + json.dumps(asyncio.run(run(args.url, bodies, args.connections, args.duration, args.seed))))


if __name__ == "__main__":
    main()
