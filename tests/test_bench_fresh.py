"""The benchmark's fresh values (bench/fresh.py, bench/queries.py): each
template reads back as written, draws values inside each field's range,
sends the same values by variables and as inline literals, and its
queries answer real data on the corpus, a different set from one draw to
the next; wrk.lua draws them the same way."""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from bench import fresh
from bench.queries import FRESH, FRESH_NAMES, build_from

ROOT = Path(__file__).resolve().parents[1]


class _Client:
    """bench.queries' client interface over the in-process test client."""

    def __init__(self, client) -> None:
        self.client = client

    def data(self, document: str, variables: dict | None = None) -> dict:
        answer = self.client.post("/graphql", json={"query": document, "variables": variables}).json()
        assert "errors" not in answer, answer
        return answer["data"]


@pytest.fixture(scope="module")
def queries(client):
    return {q.name: q for q in build_from(_Client(client), pool=50, names=FRESH_NAMES)}


def _post(client, body: bytes) -> dict:
    return client.post("/graphql", content=body, headers={"Content-Type": "application/json"}).json()


def test_every_fresh_query_is_built_by_variables_and_inline(queries):
    assert set(queries) == set(FRESH_NAMES)
    for name in FRESH:
        assert queries[name].fresh.body.count('"variables"') == 1
        assert "variables" not in queries[name + "L"].fresh.body
        assert "$" not in queries[name + "L"].fresh.body


def test_a_template_reads_back_as_it_was_written(queries):
    for query in queries.values():
        assert fresh.read(query.fresh.text()) == query.fresh


def test_values_are_drawn_inside_each_fields_range(queries, corpus_model):
    articles = corpus_model.public.articles
    heats = [a.heat for a in articles if a.heat is not None]
    qualities = [a.quality for a in articles if a.quality is not None]
    rng = random.Random(3)
    for _ in range(200):
        variables = orjson.loads(queries["F6"].fresh.expand(rng))["variables"]
        assert min(heats) <= variables["h"] <= max(heats)
        moment = dt.datetime.fromisoformat(variables["d"].replace("Z", "+00:00"))
        assert moment.second == moment.timestamp() % 60  # to the second, in UTC
        variables = orjson.loads(queries["F4"].fresh.expand(rng))["variables"]
        assert min(qualities) <= variables["q"] <= max(qualities)
        assert variables["type"] in {a.type for a in articles}
        assert re.fullmatch(r"PT\d+S", orjson.loads(queries["F11"].fresh.expand(rng))["variables"]["within"])


@pytest.mark.parametrize("name", list(FRESH))
def test_inline_literals_answer_as_variables_do(client, queries, name):
    """The same draws sent both ways get the same answers; and draws select
    different sets (the answers are not all one; on the corpus, whose heat
    is mostly near 50 up to 737, many draws of F3 select nothing)."""
    answers = set()
    for seed in range(40):
        by_variables = _post(client, queries[name].fresh.expand(random.Random(seed)))
        inline = _post(client, queries[name + "L"].fresh.expand(random.Random(seed)))
        assert "errors" not in by_variables, by_variables
        assert inline == by_variables
        answers.add(orjson.dumps(by_variables))
    assert len(answers) > 1


def test_cycled_and_repeated_bodies_are_the_same_in_every_build(client, queries):
    again = {q.name: q for q in build_from(_Client(client), pool=50, names=["F1", "F1L"])}
    assert again["F1"].cycled == queries["F1"].cycled
    assert again["F1"].repeated == queries["F1"].repeated
    assert queries["F1L"].repeated is None  # the response cache answers it as F1
    assert queries["F11"].repeated is None  # `within` reads the clock: never cached


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make wrk)")
def test_wrk_draws_new_values_for_every_request(queries, tmp_path):
    """wrk.lua fills every slot per request, with values of the slot's kind
    and range, and another seed draws other values."""
    template = queries["F6"].fresh
    path = tmp_path / "template.txt"
    template.write(path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen = []
    try:
        for seed in ("1", "2"):
            _Recorder.bodies = []
            subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", str(ROOT / "bench" / "wrk.lua"),
                            f"http://127.0.0.1:{server.server_port}/graphql"], check=True,
                           capture_output=True, timeout=30,
                           env={"BENCH_BODIES": str(path), "BENCH_SEED": seed, "PATH": "/usr/bin:/bin"})
            seen.append(list(_Recorder.bodies))
    finally:
        server.shutdown()
        server.server_close()
    heat, published = template.slots
    for bodies in seen:
        assert len(bodies) > 20
        values = [json.loads(body)["variables"] for body in bodies]
        assert all(heat.low <= v["h"] <= heat.high for v in values)
        stamps = [dt.datetime.strptime(v["d"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
                  for v in values]
        assert all(published.low <= s.timestamp() <= published.high for s in stamps)
        assert len({(v["h"], v["d"]) for v in values}) == len(values)  # no value came back
        assert json.loads(bodies[0])["query"] == orjson.loads(template.expand(random.Random(0)))["query"]
    assert seen[0][:5] != seen[1][:5]


def test_the_bare_app_starts_as_the_benchmark_waits_for_it_and_cycles_answers(tmp_path):
    """The benchmark starts it as it starts newsgraph (waiting for its
    readiness route), then sets the answers newsgraph gave: it answers
    with each in turn."""
    import http.client

    from bench.procs import baseline_server, put_bytes
    bare = baseline_server(tmp_path / "bare.log")
    try:
        put_bytes(bare, b'{"data":{"n":1}}\n{"data":{"n":2}}\n')
        answers = []
        for _ in range(4):
            conn = http.client.HTTPConnection("127.0.0.1", bare.port, timeout=10)
            conn.request("POST", "/graphql", b"{}", {"Content-Type": "application/json"})
            answers.append(conn.getresponse().read())
            conn.close()
    finally:
        bare.stop()
    assert answers == [b'{"data":{"n":1}}', b'{"data":{"n":2}}'] * 2
