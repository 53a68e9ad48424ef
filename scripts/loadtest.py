"""Load a real `newsgraph serve --workers 2` for a minute and watch its memory.

    .venv/bin/python scripts/loadtest.py [--duration 60] [--connections 32] [--workers 2]
                                         [--warmup 10] [--driver auto|wrk|python]
                                         [--no-response-cache]

The real corpus is loaded into a temporary store and served on a free
loopback port. The load is a mix of ~1,500 distinct POST bodies (every
article by id with nested fields, listing pages by cursor, searches, facets,
topics and providers with their articles), driven by wrk with bench/wrk.lua
(`apt-get install -y wrk`) or, without wrk, bench/pyload.py. A warm-up at
the same load fills the caches first; the worker processes' summed RSS
(/proc/PID/status) is then sampled every second of the measured run.

Passes (exit 0) with 0 non-2xx answers, 0 socket errors and RSS growth under
10% from the end of the warm-up to the end of the run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from store.db import Store  # noqa: E402
from store.ingest import load  # noqa: E402
from tests.conftest import AZURE, POWER_APPS, SEED  # noqa: E402
from tests.procs import ROOT, newsgraph, rss_bytes, worker_pids  # noqa: E402

ARTICLE = """query($id: ID!) { article(id: $id) { id title excerpt url publishedAt heat
  provider { name domain articleCount } topics { slug name articleCount }
  images { url width height } related(first: 10) { title url article { id title } }
  relatedFrom(first: 10) { id title } } }"""
LISTING = """query($after: String, $where: ArticleWhere) { articles(first: 20, after: $after, where: $where) {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title publishedAt
  provider { name } topics { slug } image { url } } } } }"""
SEARCH = """query($q: String!) { search(query: $q, first: 10) { totalCount edges { score node { id title } } } }"""
FACETS = """query($where: ArticleWhere) { facets(where: $where) { total topics { value count }
  providers { value count } types { value count } months { value count } } }"""
TOPIC = """query($slug: String!) { topic(slug: $slug) { name articleCount articles(first: 10) { nodes { id title } } } }"""
PROVIDER = """query($domain: String!) { provider(domain: $domain) { name articleCount
  articles(first: 10) { nodes { id title } } } }"""
WORDS = ["power", "apps", "azure", "teams", "data", "cloud", "security", "flow", "portal", "ai",
         "microsoft", "dataverse", "automate", "virtual", "agent", "app*", "secur*", '"power apps"']


def bodies(url: str) -> list[bytes]:
    """Requests built from what the server itself lists."""
    out: list[dict] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        def ask(query: str, variables: dict | None = None) -> dict:
            response = client.post("/graphql", json={"query": query, "variables": variables})
            response.raise_for_status()
            return response.json()["data"]

        for where in (None, {"collection": {"eq": "news"}}, {"type": {"eq": "video"}}):
            after = None
            while True:
                out.append({"query": LISTING, "variables": {"after": after, "where": where}})
                page = ask(LISTING, {"after": after, "where": where})["articles"]
                for edge in page["edges"]:
                    out.append({"query": ARTICLE, "variables": {"id": edge["node"]["id"]}})
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
        topics = ask("{ topics(first: 100) { nodes { slug } } }")["topics"]["nodes"]
        providers = ask("{ providers(first: 100) { nodes { domain } } }")["providers"]["nodes"]
    out += [{"query": SEARCH, "variables": {"q": w}} for w in WORDS]
    out += [{"query": TOPIC, "variables": {"slug": t["slug"]}} for t in topics]
    out += [{"query": FACETS, "variables": {"where": {"topics": {"some": [t["slug"]]}}}} for t in topics]
    out += [{"query": PROVIDER, "variables": {"domain": p["domain"]}} for p in providers]
    out += [{"query": FACETS, "variables": {}}, {"query": "{ stats { articles providers topics dataVersion } }"}]
    return [json.dumps(b, separators=(",", ":")).encode() for b in out]


@contextlib.contextmanager
def server(db: Path, workdir: Path, *args: str):
    """`newsgraph serve` on a free loopback port, logging only warnings (an
    access log line per request would load the machine); yields its URL
    and process, stops it by its id."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(workdir / "server.log", "w+")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    process = subprocess.Popen(newsgraph("serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
                                         "--log-level", "warning", *args),
                               env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"newsgraph serve did not start:\n{(workdir / 'server.log').read_text()}")
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def drive(driver: str, url: str, bodies_file: Path, connections: int, duration: float) -> dict:
    if driver == "wrk":
        result = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
             "-s", str(ROOT / "bench" / "wrk.lua"), url],
            env={**os.environ, "BENCH_BODIES": str(bodies_file)}, capture_output=True, text=True,
            timeout=duration + 60, check=True)
        line = next(l for l in result.stdout.splitlines() if l.startswith("BENCH "))
        return json.loads(line[len("BENCH "):])
    from bench.pyload import run

    payloads = [line for line in bodies_file.read_bytes().split(b"\n") if line]
    return asyncio.run(run(url, payloads, connections, duration))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--driver", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-response-cache", action="store_true",
                        help="serve with --response-cache-mb 0, so every request executes")
    args = parser.parse_args(argv)
    driver = args.driver if args.driver != "auto" else ("wrk" if shutil.which("wrk") else "python")

    with tempfile.TemporaryDirectory(prefix="newsgraph-load-") as workdir:
        db = Path(workdir) / "corpus.json"
        assert load(Store(db), [POWER_APPS, AZURE, SEED]).ok
        cache = ["--response-cache-mb", "0"] if args.no_response_cache else []
        with server(db, Path(workdir), "--workers", str(args.workers), *cache) as (base_url, process):
            deadline = time.monotonic() + 30
            while len(workers := worker_pids(process.pid)) < args.workers and time.monotonic() < deadline:
                time.sleep(0.1)  # readyz answered from the first worker up; wait for the rest
            assert len(workers) == args.workers, f"expected {args.workers} workers, found {workers}"
            bodies_file = Path(workdir) / "bodies.ndjson"
            bodies_file.write_bytes(b"\n".join(bodies(base_url)) + b"\n")
            url = base_url + "/graphql"
            print(f"server pid {process.pid}, workers {workers}, driver {driver}, "
                  f"{len(bodies_file.read_bytes().splitlines())} distinct request bodies")

            rss_boot = sum(rss_bytes(p) for p in workers)
            warm = drive(driver, url, bodies_file, args.connections, args.warmup)
            rss_start = sum(rss_bytes(p) for p in workers)
            samples: list[int] = []
            done = threading.Event()

            def sample() -> None:
                while not done.wait(1.0):
                    samples.append(sum(rss_bytes(p) for p in workers))

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                run = drive(driver, url, bodies_file, args.connections, args.duration)
            finally:
                done.set()
                sampler.join()
            rss_end = sum(rss_bytes(p) for p in workers)
            alive = httpx.get(base_url + "/healthz", timeout=10).status_code == 200
            log = (Path(workdir) / "server.log").read_text()

    mb = 1024 * 1024
    growth = rss_end / rss_start - 1
    seconds = run["duration_us"] / 1e6
    print(f"warm-up {args.warmup:g} s: {warm['requests']} requests, {warm['non2xx']} non-2xx, "
          f"{warm['socket_errors']} socket errors")
    print(f"run {seconds:.1f} s at {args.connections} connections: {run['requests']} requests "
          f"({run['requests'] / seconds:.0f}/s), p50 {run['p50_us'] / 1000:.1f} ms, "
          f"p99 {run['p99_us'] / 1000:.1f} ms, {run['non2xx']} non-2xx, {run['socket_errors']} socket errors")
    print(f"worker RSS (sum of {len(workers)}): {rss_boot / mb:.1f} MB before the warm-up, "
          f"{rss_start / mb:.1f} MB after it, "
          f"peak {max(samples + [rss_end]) / mb:.1f} MB, {rss_end / mb:.1f} MB at the end: "
          f"growth {growth * 100:+.1f}%")
    errors = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line]
    print(f"server still answering: {alive}; error lines in its log: {len(errors)}")
    ok = (alive and not errors and warm["non2xx"] == run["non2xx"] == 0
          and warm["socket_errors"] == run["socket_errors"] == 0 and growth < 0.10)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
