"""A server as an operator runs it, as real processes: the metrics of
`--workers 2` scraped over HTTP, SIGTERM under wrk's load, and a start that
fails. (The replicas behind HAProxy: tests/test_replicas.py.)"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from store.db import Store
from store.ingest import load
from tests.live_server import serve
from tests.ops import wrk
from tests.procs import newsgraph, worker_pids
from tests.stores import copy_store

COUNTED = "query Counted { articles(first: 3) { totalCount nodes { id } } }"
# Some milliseconds of work a request, so that SIGTERM finds requests in flight.
SLOW = {"query": "query Slow { facets { total topics { value count } months { value count } } "
                 "articles(first: 50, orderBy: [{field: TITLE, direction: ASC}]) "
                 "{ totalCount nodes { title provider { name } topics { slug } } } }"}


def samples(base_url: str) -> dict:
    text = httpx.get(base_url + "/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


# Two workers each apply a version on their own, within a deadline: beside
# the parallel suite a worker rebuilding for a new site starved past it.
@pytest.mark.serial
def test_metrics_add_up_across_two_workers(tmp_path, corpus_db):
    db = tmp_path / "news.json"
    copy_store(corpus_db, db)
    with serve("--db", str(db), "--workers", "2", "--metrics", "--reload-interval", "0.2") as server:
        # A connection each: the kernel spreads them over both workers. serve()
        # waited for one worker's /readyz; the other may still be loading and
        # answer 503 (not counted as Counted's ok), so ask again until 40 are answered.
        answered, deadline = 0, time.monotonic() + 60
        while answered < 40:
            status = httpx.post(server.url, json={"query": COUNTED}).status_code
            assert status in (200, 503) and time.monotonic() < deadline, (status, answered)
            answered += status == 200
        counts = []
        for _ in range(8):
            scraped = samples(server.base_url)
            counts.append(scraped[("newsgraph_requests_total",
                                   (("operation", "Counted"), ("outcome", "ok")))])
        assert counts == [40] * 8, counts  # whichever worker answered the scrape
        assert len(worker_pids(server.process.pid)) == 2
        # A new version: each worker reloads, and says so.
        old = httpx.get(server.base_url + "/healthz").json()["dataVersion"]
        assert load(Store(db), [_one_more_article(tmp_path)]).ok
        deadline = time.monotonic() + 10
        while httpx.get(server.base_url + "/healthz").json()["dataVersion"] == old:
            assert time.monotonic() < deadline, "the new version never arrived"
            time.sleep(0.1)
        new = httpx.get(server.base_url + "/healthz").json()["dataVersion"]
        # The other worker applies the version on its own, later on a busy machine.
        deadline = time.monotonic() + 30
        while (scraped := samples(server.base_url)).get(("newsgraph_data_version_info", (("version", new),))) != 1:
            assert time.monotonic() < deadline, "the workers never agreed on the new version"
            time.sleep(0.2)
        assert scraped[("newsgraph_reload_duration_seconds_count", ())] >= 1
        # Each worker logs what it did, and why when it built the model whole.
        deadline = time.monotonic() + 30
        while len(re.findall(rf"newsgraph\[\d+\]: data version {old} -> {new}", server.log)) < 2:
            assert time.monotonic() < deadline, server.log[-3000:]
            time.sleep(0.2)


def _one_more_article(tmp_path: Path) -> Path:
    site = tmp_path / "more"
    (site / "_news").mkdir(parents=True)
    (site / "_news" / "2026-12-01-one-more.md").write_text(
        "---\ntitle: One more\npublishedDateTime: 2026-12-01T00:00:00Z\n---\nbody\n", encoding="utf-8")
    return site


@pytest.mark.serial  # counts failed requests under wrk: the machine to itself (Makefile)
def test_sigterm_under_load_loses_no_accepted_request(tmp_path, corpus_db):
    with serve("--db", corpus_db, "--access-log", "json", "--response-cache-mb", "0",
               "--shutdown-timeout", "20", "--log-level", "warning") as server:
        load_run = wrk.start(server.url, SLOW, seconds=8, workdir=tmp_path)
        time.sleep(3)
        answered_before = len(_access_lines(server.log))
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(30)
        counted = wrk.result(load_run, timeout=30)
    lines = [line for line in _access_lines(server.log) if line["path"] == "/graphql"]
    assert code == 0, server.log[-3000:]
    assert answered_before > 50, "too little load to say anything"
    assert counted["non2xx"] == 0, counted
    # Every request the server took, it answered in full before it exited,
    # and wrk received each of those answers: what wrk counts as failed are
    # connections refused or closed once the server stopped accepting.
    assert {line["status"] for line in lines} == {200}, [l for l in lines if l["status"] != 200][:5]
    assert counted["requests"] == len(lines), (counted, len(lines))
    assert "Traceback" not in server.log


def _access_lines(log: str) -> list[dict]:
    return [orjson.loads(line) for line in log.splitlines() if line.startswith('{"time"')]


def test_a_store_that_cannot_be_read_fails_the_start_without_an_address(tmp_path):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"broken', encoding="utf-8")
    done = subprocess.run(newsgraph("serve", "--db", str(corrupt), "--port", "0"), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")})
    assert done.returncode == 5
    assert "cannot be read" in done.stderr and "Traceback" not in done.stderr
    assert "GraphiQL and the API at" not in done.stderr


def test_readyz_says_503_until_the_store_is_read(tmp_path, corpus_db):
    """The server listens before it reads the store: /readyz and the API say
    503 until the model is in, never an answer from no data. Reading this
    store takes a fraction of a second, so a start may be over before the
    first request: then it is tried again, and one of a few must be seen."""
    db = tmp_path / "news.json"
    copy_store(corpus_db, db)
    for _ in range(6):
        seen = _watch_a_start(db)
        assert seen[-1][2] == 200 and seen[-1][0] == 200, seen
        for status, body, _ in seen:
            assert (status == 503 and body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
                    or status == 200 and body["data"]["stats"]["articles"] > 0), (status, body)
        if seen[0][2] == 503:
            return
    raise AssertionError("never saw the server before its store was read")


def _watch_a_start(db: Path) -> list[tuple[int, dict, int]]:
    """(API status, API body, /readyz status) from the moment the server
    listens until /readyz says 200."""
    seen: list[tuple[int, dict, int]] = []
    drain = None
    process = subprocess.Popen(
        newsgraph("serve", "--db", str(db), "--port", "0", "--log-level", "info"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        port = None
        for line in process.stdout:
            if "listening on http://127.0.0.1:" in line:
                port = int(line.split("127.0.0.1:")[1].split(";")[0])
                break
        assert port, "no listening line"
        drain = threading.Thread(target=process.stdout.read, daemon=True)
        drain.start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(base + "/readyz", timeout=5).status_code
                api = httpx.post(base + "/graphql", json={"query": "{ stats { articles } }"}, timeout=5)
            except httpx.TransportError:
                continue
            seen.append((api.status_code, api.json(), ready))
            if ready == 200:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        if drain is not None:
            drain.join(10)
        process.stdout.close()
    assert code == 0
    return seen
