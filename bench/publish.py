"""``python -m bench publish``: from a saved file to a live answer.

For each size it serves the store (``newsgraph serve`` as a user runs it:
woken by each publish, checking every second besides) and measures:

- **fresh load**: the seconds from saving one changed article file until
  the server answers with the new ``dataVersion`` and the changed title,
  when a new ``newsgraph load SITE --db STORE`` process is started on the
  save (process start included);
- **watch**: the same with ``newsgraph load SITE --db STORE --watch``
  running already;
- **watch, added and removed**: with the watcher running, the seconds from
  saving a new article file (a copy of one, at its own URL) until the
  server answers it, and from deleting it until the server answers that
  there is no such article;
- **throughput under publishes**: requests per second (``article(id:)``
  and a page of the newest articles, alternating, two connections) for
  ``--stream-seconds`` while the watcher publishes one change a second,
  against the same for the same time without publishes, alternating; and
  every request that failed;
- **the server's patches**: from its log, the time of each new version it
  patched in (median, 90th percentile, most) and the versions it built whole.

Figures are medians of ``--edits`` saves. Hold the bench lock.
"""
from __future__ import annotations

import http.client
import json
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from store.db import Store

from .loading import timed_load
from .procs import BIN, ROOT, newsgraph_server

POLL_SECONDS = 0.01
# Front-matter keys of an article's own addresses (a copy gets its own).
URL_KEYS = ("url", "webUrl", "originalUrl", "sourceUrl", "ampUrl", "cdnAmpUrl")
QUERY = "query($id: ID!) { stats { dataVersion } article(id: $id) { title } }"
PAGE = "{ articles(first: 20) { nodes { id title url publishedAt provider { name } } } }"


def _post(conn: http.client.HTTPConnection, query: str, variables: dict | None = None) -> dict:
    conn.request("POST", "/graphql", json.dumps({"query": query, "variables": variables or {}}),
                 {"Content-Type": "application/json"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
    answer = json.loads(body)
    if answer.get("errors"):
        raise RuntimeError(f"errors: {answer['errors']}")
    return answer["data"]


class Article:
    """One published article file of the site, edited in place and put back."""

    def __init__(self, site: Path) -> None:
        for path in sorted((site / "_news").rglob("*.md")):
            text = path.read_text(encoding="utf-8")
            if "\npublished: true" in text:
                self.path, self.original = path, text
                inner = path.relative_to(site / "_news").with_suffix("")
                self.id = f"news/{inner.as_posix()}"
                return
        raise RuntimeError(f"no published article in {site}")

    def edit(self, marker: str) -> str:
        title = f"Edited {marker}"
        lines = self.original.split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
        lines[at] = f"title: {json.dumps(title)}"
        self.path.write_text("\n".join(lines), encoding="utf-8")
        return title

    def restore(self) -> None:
        self.path.write_text(self.original, encoding="utf-8")

    def copy(self, marker: str) -> tuple[Path, str, str]:
        """A new article file beside this one, at its own URLs: its path,
        id and title."""
        title = f"Added {marker}"
        name = f"added-{marker.replace(' ', '-')}"
        lines = []
        for line in self.original.split("\n"):
            key = line.split(":", 1)[0]
            if key == "title":
                line = f"title: {json.dumps(title)}"
            elif key in URL_KEYS:
                url = json.loads(line.split(":", 1)[1].strip()) if '"' in line else line.split(":", 1)[1].strip()
                line = f"{key}: {json.dumps(url.rstrip('/') + '/' + name)}"
            lines.append(line)
        path = self.path.with_name(f"{name}.md")
        path.write_text("\n".join(lines), encoding="utf-8")
        return path, self.id.rsplit("/", 1)[0] + "/" + name, title


def _until_answered(port: int, article: Article | str, title: str | None, saved: float,
                    timeout: float = 600) -> float:
    """Seconds from ``saved`` until the server answers ``title`` for the
    article (its id), or no article for None."""
    ident = article if isinstance(article, str) else article.id
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        while time.perf_counter() - saved < timeout:
            data = _post(conn, QUERY, {"id": ident})
            if (data["article"] or {}).get("title") == title:
                return time.perf_counter() - saved
            time.sleep(POLL_SECONDS)
    finally:
        conn.close()
    raise RuntimeError(f"the server did not answer the change in {timeout} s")


def fresh_load(site: Path, db: Path, port: int, article: Article, edits: int) -> list[float]:
    seconds = []
    for n in range(edits):
        title = article.edit(f"fresh {n} {time.time()}")
        saved = time.perf_counter()
        process = subprocess.Popen([str(BIN / "newsgraph"), "load", str(site), "--db", str(db), "-q"],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(_until_answered(port, article, title, saved))
        process.wait()
        _settled(db)
    return seconds


def _settled(db: Path) -> None:
    """Wait for a compaction a load left running."""
    store = Store(db)
    with store.lock(timeout=3600):
        pass
    while store.compacting():
        time.sleep(0.05)


class Watcher:
    def __init__(self, site: Path, db: Path) -> None:
        # --prune: a deleted file's article goes (the removals measured).
        self.process = subprocess.Popen([str(BIN / "newsgraph"), "load", str(site), "--db", str(db), "-q",
                                         "--watch", "--prune"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()  # "watching ..." once the watcher is live
        if "watching" not in line:
            raise RuntimeError(f"load --watch did not start: {line}")

    def stop(self) -> None:
        # SIGTERM, not SIGINT: a process started in the background of a
        # shell without job control ignores SIGINT. A load killed anywhere
        # leaves the store whole (tests/test_kill.py).
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=600)


def watch(port: int, article: Article, edits: int, watcher: Watcher) -> list[float]:
    seconds = []
    for n in range(edits):
        title = article.edit(f"watch {n} {time.time()}")
        saved = time.perf_counter()
        seconds.append(_until_answered(port, article, title, saved))
        time.sleep(1.0)  # past the watcher's debounce, so each save is its own load
    return seconds


def watch_added(port: int, article: Article, edits: int) -> tuple[list[float], list[float]]:
    """Seconds from saving a new article file until the server answers it,
    and from deleting it until the server answers there is none."""
    added, removed = [], []
    for n in range(edits):
        path, ident, title = article.copy(f"watch {n} {time.time_ns()}")
        saved = time.perf_counter()
        added.append(_until_answered(port, ident, title, saved))
        time.sleep(1.0)
        path.unlink()
        saved = time.perf_counter()
        removed.append(_until_answered(port, ident, None, saved))
        time.sleep(1.0)
    return added, removed


def _drive(port: int, article: Article, seconds: float, connections: int = 2) -> tuple[int, list[str]]:
    """(requests answered, failures) in ``seconds``."""
    done = [0] * connections
    failures: list[str] = []
    stop = time.perf_counter() + seconds

    def loop(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        turn = 0
        while time.perf_counter() < stop:
            try:
                if turn % 2:
                    _post(conn, PAGE)
                else:
                    _post(conn, QUERY, {"id": article.id})
                done[slot] += 1
            except Exception as exc:  # every failure counts, whatever it is
                failures.append(repr(exc)[:200])
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            turn += 1
        conn.close()

    threads = [threading.Thread(target=loop, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), failures


def under_publishes(port: int, article: Article, seconds: float, rounds: int) -> dict:
    """Steady and publishing request rates, alternating, ``rounds`` each."""
    steady, publishing, failures, published = [], [], [], 0
    for round_ in range(rounds):
        count, failed = _drive(port, article, seconds)
        steady.append(count / seconds)
        failures += failed
        stop = threading.Event()

        def publisher() -> None:
            nonlocal published
            n = 0
            while not stop.is_set():
                article.edit(f"stream {round_} {n} {time.time()}")
                published += 1
                n += 1
                stop.wait(1.0)

        thread = threading.Thread(target=publisher)
        thread.start()
        count, failed = _drive(port, article, seconds)
        stop.set()
        thread.join()
        publishing.append(count / seconds)
        failures += failed
        time.sleep(2.0)  # the last change lands before the next steady round
    ratios = [p / s for p, s in zip(publishing, steady)]
    return {"steady_rps": statistics.median(steady), "publishing_rps": statistics.median(publishing),
            "ratio": statistics.median(ratios), "failures": failures, "saves": published}


def bench_size(label: str, site: Path, db: Path, work: Path, args) -> dict:
    if not Store(db).exists():
        print(f"{label}: loading {site} into {db}", file=sys.stderr)
        timed_load(site, db)
    _settled(db)
    article = Article(site)
    out: dict = {"size": label, "store_mb": Store(db).size_on_disk() / 1e6}
    server = newsgraph_server(db, work / f"publish-{label}.log", response_cache_mb=0, reload_interval=1.0)
    try:
        fresh_edits = args.edits if args.fresh_edits is None else args.fresh_edits
        out["fresh_s"] = fresh_load(site, db, server.port, article, fresh_edits)
        print(f"{label}: fresh load to answer {out['fresh_s']}", file=sys.stderr)
        watcher = Watcher(site, db)
        try:
            out["watch_s"] = watch(server.port, article, args.edits, watcher)
            print(f"{label}: watch to answer {out['watch_s']}", file=sys.stderr)
            out["added_s"], out["removed_s"] = watch_added(server.port, article, args.edits)
            print(f"{label}: watch, added to answer {out['added_s']}, removed {out['removed_s']}", file=sys.stderr)
            if args.stream_seconds:
                out["stream"] = under_publishes(server.port, article, args.stream_seconds, args.rounds)
                print(f"{label}: under publishes {out['stream']}", file=sys.stderr)
        finally:
            watcher.stop()
        out["server_rss_mb"] = server.rss_mb()
    finally:
        server.stop()
        article.restore()
    out["patches"] = server_patches(work / f"publish-{label}.log")
    print(f"{label}: the server's patches {out['patches']}", file=sys.stderr)
    return out


def server_patches(log: Path) -> dict:
    """What the server's log says of the versions it applied: each patch's
    seconds (median, 90th percentile, most, in ms), and how many it built
    whole instead, by reason."""
    text = log.read_text(encoding="utf-8", errors="replace")
    took = sorted(float(s) * 1000 for s in re.findall(r"patched the model in ([0-9.]+) s", text))
    whole = Counter(re.findall(r"building the model whole: (.*)", text))
    if not took:
        return {"count": 0, "whole": dict(whole)}
    return {"count": len(took), "median_ms": statistics.median(took),
            "p90_ms": took[min(len(took) - 1, int(0.9 * len(took)))], "max_ms": took[-1], "whole": dict(whole)}


def table(results: list[dict]) -> str:
    rows = ["| N | store MB | fresh load to answer, s (median; all) | watch to answer, s (median; all) | "
            "watch, added / removed to answer, s (median; all) | "
            "req/s steady / under 1 publish/s | ratio (>= 0.8) | failed requests | "
            "server's patch, ms (median / p90 / max; patches; built whole) |",
            "|---|---:|---|---|---|---|---:|---:|---|"]
    for r in results:
        stream = r.get("stream")
        rows.append(
            f"| {r['size']} | {r['store_mb']:,.0f} "
            + (f"| {statistics.median(r['fresh_s']):.2f}; {', '.join(f'{s:.2f}' for s in r['fresh_s'])} "
               if r["fresh_s"] else "| not run ")
            + f"| {statistics.median(r['watch_s']):.2f}; {', '.join(f'{s:.2f}' for s in r['watch_s'])} "
            f"| {statistics.median(r['added_s']):.2f} / {statistics.median(r['removed_s']):.2f}; "
            f"{', '.join(f'{s:.2f}' for s in r['added_s'])} / {', '.join(f'{s:.2f}' for s in r['removed_s'])} "
            + (f"| {stream['steady_rps']:,.0f} / {stream['publishing_rps']:,.0f} | {stream['ratio']:.2f} "
               f"| {len(stream['failures'])} " if stream else "| not run | | ")
            + (f"| {p['median_ms']:.0f} / {p['p90_ms']:.0f} / {p['max_ms']:.0f}; {p['count']}; "
               f"{sum(p['whole'].values())} |" if (p := r["patches"])["count"] else "| none |"))
    return "\n".join(rows)


def add_parser(sub) -> None:
    parser = sub.add_parser("publish", help="seconds from a saved file to a live answer, and "
                                            "throughput under one publish a second")
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsgraph-bench"))
    parser.add_argument("--edits", type=int, default=5, help="saves measured per way of loading")
    parser.add_argument("--fresh-edits", type=int, default=None,
                        help="saves measured with a fresh load (default: --edits; 0 skips them: at 1M "
                             "each reads the whole store)")
    parser.add_argument("--stream-seconds", type=float, default=60.0,
                        help="seconds of one publish a second (0: skip)")
    parser.add_argument("--rounds", type=int, default=1, help="steady/publishing pairs")


def run(args, sizes: dict[str, int], site_of) -> int:
    results = []
    args.work.mkdir(parents=True, exist_ok=True)
    for label in args.sizes.split(","):
        site = site_of(args.work, label, sizes[label])
        results.append(bench_size(label, site, args.work / f"store-{label}.json", args.work, args))
    print(table(results))
    return 0

