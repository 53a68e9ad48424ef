"""Time a server's start-up on a loaded store, as a user starts it.

`bench run` times start-up only as part of a whole query run; a start-up
target (issue 18: at most 2 s at 100k) and the 1M figure want it alone,
several times over, beside the store's size and the resident set it
starts with. Each run spawns `newsgraph serve` (pinned to the benchmark's
server core) and reports the seconds from spawn to the first good
`/readyz` (the store read, the model in memory) with the server's CPU
seconds until then, to the first answer of a page of articles, and to the
first answer of a search; then the server's resident set. Runs are sequential, each a new process.

    flock /tmp/newsgraph-bench.lock .venv/bin/python scripts/startup.py STORE [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.procs import newsgraph_server  # noqa: E402
from bench.queries import Client  # noqa: E402
from store.db import Store  # noqa: E402

PAGE = "{ articles(first: 20) { edges { node { id title publishedAt provider { name } } } } }"
SEARCH = '{ search(query: "the", first: 1) { totalCount } }'


def one_run(store: Path, log: Path) -> dict:
    """One server from spawn to its first answers; the server is stopped after."""
    began = time.perf_counter()
    server = newsgraph_server(store, log, response_cache_mb=0)
    try:
        ready = time.perf_counter() - began
        # The machine is shared: the CPU the server spent until ready is the
        # steadier figure when other work takes its core.
        ready_cpu = server.cpu_seconds()
        client = Client(server.port)
        try:
            client.data(PAGE)
            answered = time.perf_counter() - began
            client.data(SEARCH)
            searched = time.perf_counter() - began
        finally:
            client.close()
        return {"ready_s": ready, "ready_cpu_s": ready_cpu, "first_answer_s": answered,
                "first_search_s": searched, "rss_mb": server.rss_mb()}
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not Store(args.store).exists():
        parser.error(f"no store at {args.store}")
    runs = []
    with tempfile.TemporaryDirectory() as work:
        for number in range(args.runs):
            run = one_run(args.store, Path(work) / f"server-{number}.log")
            runs.append(run)
            print(json.dumps({key: round(value, 3) for key, value in run.items()}), flush=True)
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(f"{args.store}: store {Store(args.store).size_on_disk() / 2**20:,.0f} MiB on disk; median of "
          f"{len(runs)}: ready {medians['ready_s']:.2f} s ({medians['ready_cpu_s']:.2f} s of CPU), "
          f"first answer {medians['first_answer_s']:.2f} s, first search {medians['first_search_s']:.2f} s, "
          f"RSS {medians['rss_mb']:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
