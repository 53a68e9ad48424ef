"""The JSON access log and the Prometheus metrics (graph/observe.py,
graph/metrics.py), in-process; tests/test_operations.py scrapes real
servers, --workers 2 included."""
from __future__ import annotations

import hashlib
import logging

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from graph.settings import Limits
from tests.conftest import TOKEN, make_client

SECRET = "a-reader-typed-this-7f3a"  # a variable's value: never in a log


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(record.getMessage()))


@pytest.fixture()
def access_lines():
    logger = logging.getLogger("newsgraph.access")
    handler = Lines()
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def scrape(client) -> dict[tuple, float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_access_log_says_what_each_request_did_and_keeps_no_secret(corpus_holder, access_lines):
    query = "query Tagged($q: String) { articles(first: 1, where: {title: {contains: $q}}) { totalCount } }"
    with make_client(corpus_holder, access_log="json") as client:
        client.post("/graphql", json={"query": query, "variables": {"q": SECRET}})
        client.post("/graphql", json={"query": query, "variables": {"q": SECRET}})  # a cache hit
        client.post("/graphql", json={"query": "{ nope }"}, headers={"Authorization": f"Bearer {TOKEN}"})
        client.post("/graphql", json={"query": "{ stats { articles } }"},
                    headers={"Authorization": "Bearer wrong-token-9c1e"})
        client.get("/healthz")
    first, hit, refused, unauthorised, health = access_lines
    assert first["operation"] == "Tagged" and first["status"] == 200 and first["outcome"] == "ok"
    assert first["cache_hit"] is False and hit["cache_hit"] is True
    assert first["method"] == "POST" and first["path"] == "/graphql"
    assert first["bytes"] > 0 and first["duration_ms"] >= 0 and first["client"]
    assert first["time"].endswith("Z")
    assert refused["outcome"] == "refused" and refused["codes"] == ["BAD_USER_INPUT"]
    assert refused["status"] == 400 and refused["operation"] is None
    assert unauthorised["status"] == 401 and unauthorised["codes"] == ["UNAUTHENTICATED"]
    assert health["path"] == "/healthz" and "operation" not in health
    text = str(access_lines)
    assert SECRET not in text and TOKEN not in text and "wrong-token" not in text
    assert "query" not in {key for line in access_lines for key in line}


def test_metrics_count_requests_errors_caches_and_persisted_queries(corpus_holder, corpus_model):
    query = "query Latest { articles(first: 2) { nodes { id } } }"
    apq_query = "query Persisted { stats { topics } }"
    digest = hashlib.sha256(apq_query.encode()).hexdigest()
    apq = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    with make_client(corpus_holder, metrics=True) as client:
        for _ in range(3):
            client.post("/graphql", json={"query": query})
        client.post("/graphql", json={"query": "{ nope }"})
        client.post("/graphql", json={"extensions": apq})                      # miss
        client.post("/graphql", json={"query": apq_query, "extensions": apq})  # registered
        client.get("/graphql", params={"extensions": orjson.dumps(apq).decode()})  # hit
        client.post("/graphql", json=[{"query": query}, {"query": "{ nope }"}])
        samples = scrape(client)
    assert value(samples, "newsgraph_requests_total", operation="Latest", outcome="ok") == 3
    assert value(samples, "newsgraph_request_duration_seconds_count", operation="Latest", outcome="ok") == 3
    # `{ nope }` and the persisted-query miss
    assert value(samples, "newsgraph_requests_total", operation="(anonymous)", outcome="refused") == 2
    assert value(samples, "newsgraph_requests_total", operation="(batch)", outcome="refused") == 1
    assert value(samples, "newsgraph_errors_total", code="BAD_USER_INPUT") == 2
    assert value(samples, "newsgraph_errors_total", code="PERSISTED_QUERY_NOT_FOUND") == 1
    assert value(samples, "newsgraph_response_cache_total", result="hit") >= 2
    assert value(samples, "newsgraph_response_cache_total", result="miss") >= 1
    for result in ("miss", "registered", "hit"):
        assert value(samples, "newsgraph_persisted_queries_total", result=result) == 1, result
    assert value(samples, "newsgraph_data_version_info", version=corpus_model.data_version) == 1
    public = value(samples, "newsgraph_articles", audience="public")
    preview = value(samples, "newsgraph_articles", audience="preview")
    assert public == len(corpus_model.view(False).articles) and preview > public
    assert value(samples, "newsgraph_data_age_seconds") > 0


LIMITED = Limits(max_depth=4, max_aliases=1, max_tokens=40, max_cost=30, max_conditions=2,
                 max_page=10, max_body_bytes=2048, max_batch=2)
REFUSALS = {
    "depth": {"query": "{ articles { nodes { provider { articles { nodes { id } } } } } }"},
    "aliases": {"query": "{ a: stats { articles } b: stats { topics } }"},
    "tokens": {"query": "{ stats { " + "articles " * 40 + "} }"},
    "cost": {"query": "{ articles(first: 10) { nodes { relatedFrom(first: 10) { id } } } }"},
    "conditions": {"query": '{ articles(where: {title: {eq: "a"}, type: {eq: "b"}, heat: {gt: 1}}) '
                            "{ totalCount } }"},
    "page_size": {"query": "{ articles(first: 50) { totalCount } }"},
    "body_size": {"query": "{ stats { articles } }" + " " * 3000},
    "batch_size": [{"query": "{ stats { articles } }"}] * 3,
}


def test_each_limit_that_refuses_a_request_is_named(corpus_holder):
    with make_client(corpus_holder, metrics=True, limits=LIMITED) as client:
        for limit, body in REFUSALS.items():
            response = client.post("/graphql", json=body)
            assert response.status_code in (400, 413), (limit, response.text)
        samples = scrape(client)
    with make_client(corpus_holder, metrics=True, limits=Limits(timeout_seconds=0.0)) as slow:
        slow.post("/graphql", json={"query": "{ articles(first: 3) { nodes { id } } }"})
        timed_out = scrape(slow)
    for limit in REFUSALS:
        assert value(samples, "newsgraph_rejected_requests_total", limit=limit) == 1, limit
    assert value(timed_out, "newsgraph_rejected_requests_total", limit="timeout") == 1


def test_operation_names_get_a_bounded_number_of_series(corpus_holder):
    with make_client(corpus_holder, metrics=True) as client:
        for n in range(105):
            client.post("/graphql", json={"query": f"query Name{n} {{ stats {{ articles }} }}"})
        client.post("/graphql", json={"query": "{ stats { articles } }", "operationName": "x" * 500})
        samples = scrape(client)
    names = {dict(labels)["operation"] for (name, labels) in samples
             if name == "newsgraph_requests_total"}
    assert len(names) <= 102  # 100 names, (other), (anonymous)
    assert value(samples, "newsgraph_requests_total", operation="(other)", outcome="ok") == 5
    assert "x" * 500 not in names


def test_no_metrics_route_unless_asked(client):
    assert client.get("/metrics").status_code == 404


def test_readyz_is_ready_while_serving_and_not_once_stopping(corpus_holder):
    with make_client(corpus_holder) as client:
        assert client.get("/readyz").json() == {"status": "ready",
                                                "dataVersion": corpus_holder.model.data_version}
        client.app.state.lifecycle.stopping = True  # what SIGTERM sets (tests/test_operations.py)
        answer = client.get("/readyz")
        assert answer.status_code == 503 and answer.json()["status"] == "stopping"
        assert client.get("/healthz").status_code == 200  # liveness is another question


def test_serve_turns_the_operations_options_and_variables_into_settings(corpus_db, monkeypatch):
    from click.testing import CliRunner

    import graph.server
    from newsgraph.cli import main

    seen = []
    monkeypatch.setattr(graph.server, "run", lambda settings, **_: seen.append(settings))
    args = ["serve", "--db", corpus_db, "--metrics", "--access-log", "json", "--shutdown-timeout", "5"]
    assert CliRunner().invoke(main, args, catch_exceptions=False).exit_code == 0
    env = {"NEWSGRAPH_METRICS": "1", "NEWSGRAPH_ACCESS_LOG": "off", "NEWSGRAPH_SHUTDOWN_TIMEOUT": "2.5"}
    assert CliRunner().invoke(main, ["serve", "--db", corpus_db], env=env,
                              catch_exceptions=False).exit_code == 0
    assert CliRunner().invoke(main, ["serve", "--db", corpus_db], catch_exceptions=False).exit_code == 0
    given, from_env, default = seen
    assert (given.metrics, given.access_log, given.shutdown_timeout) == (True, "json", 5.0)
    assert (from_env.metrics, from_env.access_log, from_env.shutdown_timeout) == (True, "off", 2.5)
    assert (default.metrics, default.access_log, default.shutdown_timeout) == (False, "text", 30.0)
