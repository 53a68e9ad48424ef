"""A small HTTP/1.1 load generator, used when wrk is not installed.

Keep-alive connections each send one request at a time (like ``wrk -c``),
cycling through the request bodies of a file (one JSON body a line), and
report throughput and latency percentiles as one JSON line. It is slower
than wrk, so when it drives the benchmark the client may be the limit:
the benchmark says which driver it used.

    python -m bench.pyload URL BODIES_FILE --connections 2 --duration 5
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


async def _connection(host: str, port: int, path: str, bodies: list[bytes], start: int,
                      stop_at: float, latencies: list[float], counts: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    heads = [(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(b)}\r\n\r\n").encode() + b for b in bodies]
    i = start
    clock = time.perf_counter
    try:
        while True:
            began = clock()
            if began >= stop_at:
                return
            writer.write(heads[i % len(heads)])
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


async def run(url: str, bodies: list[bytes], connections: int, duration: float) -> dict:
    parts = urlsplit(url)
    latencies: list[float] = []
    counts = {"non2xx": 0}
    began = time.perf_counter()
    stop_at = began + duration
    await asyncio.gather(*(_connection(parts.hostname, parts.port, parts.path or "/", bodies,
                                       k * 7919, stop_at, latencies, counts)
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
    args = parser.parse_args(argv)
    with open(args.bodies, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    print("BENCH " + json.dumps(asyncio.run(run(args.url, bodies, args.connections, args.duration))))


if __name__ == "__main__":
    main()
