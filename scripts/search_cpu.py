"""CPU per request of the benchmark's fresh-value searches (F7, F10), with
the app called in this process through ASGI: no HTTP, no load driver, so
that what a change to search costs shows without the noise of a busy
machine's network stack and scheduler. A profile of the same requests
with --profile.

    .venv/bin/python scripts/search_cpu.py STORE [--requests N] [--queries F7,F10] [--profile]

STORE is a loaded store (e.g. the benchmark's store-10k.json). The bodies
are bench/queries.py's, each value drawn anew per request; the server's
index is the one its load wrote, or made in memory. The throughput ratios
to bare Starlette are `bench run`'s (bench/README.md).
"""
import argparse
import asyncio
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import queries  # noqa: E402
from graph.app import create_app  # noqa: E402
from graph.settings import Settings  # noqa: E402
from graph.state import DataHolder  # noqa: E402
from store.db import Store  # noqa: E402
from store.search import index_for  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("store")
parser.add_argument("--requests", type=int, default=2000)
parser.add_argument("--queries", default="F7,F10")
parser.add_argument("--profile", action="store_true")
args = parser.parse_args()

store = Store(args.store)
holder = DataHolder(store)
index_for(holder.model)
app = create_app(Settings(db=store.path, reload_interval=0, access_log="off"), holder=holder)
loop = asyncio.new_event_loop()


async def _post(body: bytes) -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "headers": [(b"content-type", b"application/json"), (b"accept", b"application/json"),
                         (b"host", b"localhost")]}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list = []

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # no disconnect while the answer is made

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def post(body: bytes) -> bytes:
    status, answer = loop.run_until_complete(_post(body))
    if status != 200 or b'"errors"' in answer:
        raise RuntimeError(f"query failed ({status}): {answer[:300]!r}")
    return answer


class Client:
    def data(self, document: str, variables: dict | None = None) -> dict:
        return orjson.loads(post(orjson.dumps({"query": document, "variables": variables})))["data"]


rng = random.Random(1)
for query in queries.build_from(Client(), names=args.queries.split(",")):
    def run(bodies: list[bytes]) -> None:
        for body in bodies:
            post(body)

    run(query.sample("fresh", 200, rng))  # compiled, and the index's files in the page cache
    bodies = query.sample("fresh", args.requests, rng)
    started = time.process_time()
    run(bodies)
    print(f"{query.name} fresh: {(time.process_time() - started) / args.requests * 1e6:.0f} us CPU a request",
          flush=True)
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(run, query.sample("fresh", args.requests, rng))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
