"""Error answers: every bad request gets a 4xx with a JSON body and a code;
an unexpected failure is masked to INTERNAL with a request id that the
server log also holds; no answer carries a stack trace or a file path."""
from __future__ import annotations

import logging
import re

import pytest
from starlette.testclient import TestClient

from graph.app import create_app
from graph.settings import Settings
from tests.conftest import ACCEPT, make_client

SMALL = "{ stats { articles } }"
LEAKS = re.compile(r"Traceback|File \"|\.py\b|/work/|/tmp/|site-packages|line \d+, in ")


def _error_answer(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(("application/json",
                                                        "application/graphql-response+json"))
    body = response.json()
    assert body["errors"] and all(e["extensions"]["code"] for e in body["errors"])
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert not LEAKS.search(response.text), response.text
    return body


BAD_REQUESTS = {
    "broken JSON": ({"content": b'{"query": "{ stats { articles } }"', "headers": {"content-type": "application/json"}},
                    400, "BAD_USER_INPUT"),
    "wrong content type": ({"content": SMALL.encode(), "headers": {"content-type": "text/plain"}}, 415, "BAD_USER_INPUT"),
    "no content type": ({"content": b'{"query": "{ stats { articles } }"}'}, 415, "BAD_USER_INPUT"),
    "form post": ({"data": {"query": SMALL}}, 415, "BAD_USER_INPUT"),
    "empty body": ({"content": b"", "headers": {"content-type": "application/json"}}, 400, "BAD_USER_INPUT"),
    "empty query": ({"json": {"query": ""}}, 400, "BAD_USER_INPUT"),
    "blank query": ({"json": {"query": "  \n "}}, 400, "BAD_USER_INPUT"),
    "no query": ({"json": {}}, 400, "BAD_USER_INPUT"),
    "null query": ({"json": {"query": None}}, 400, "BAD_USER_INPUT"),
    "query not a string": ({"json": {"query": 7}}, 400, "BAD_USER_INPUT"),
    "body is a string": ({"json": "{ stats { articles } }"}, 400, "BAD_USER_INPUT"),
    "empty batch": ({"json": []}, 400, "BAD_USER_INPUT"),
    "batch of non-objects": ({"json": [1, 2]}, 400, "BAD_USER_INPUT"),
    "variables not an object": ({"json": {"query": SMALL, "variables": [1]}}, 400, "BAD_USER_INPUT"),
    "operationName not a string": ({"json": {"query": SMALL, "operationName": 3}}, 400, "BAD_USER_INPUT"),
    "unknown operationName": ({"json": {"query": "query A { stats { articles } }", "operationName": "B"}},
                              400, "BAD_USER_INPUT"),
    "two operations, no name": ({"json": {"query": "query A { stats { articles } } query B { stats { topics } }"}},
                                400, "BAD_USER_INPUT"),
    "syntax error": ({"json": {"query": "{ stats { articles }"}}, 400, "BAD_USER_INPUT"),
    "unknown field": ({"json": {"query": "{ nope }"}}, 400, "BAD_USER_INPUT"),
    "mutation": ({"json": {"query": "mutation { stats { articles } }"}}, 400, "BAD_USER_INPUT"),
    "subscription": ({"json": {"query": "subscription { stats { articles } }"}}, 400, "BAD_USER_INPUT"),
    "wrong variable type": ({"json": {"query": "query($n: Int) { articles(first: $n) { totalCount } }",
                                      "variables": {"n": "ten"}}}, 400, "BAD_USER_INPUT"),
    "missing required variable": ({"json": {"query": "query($id: ID!) { article(id: $id) { id } }"}},
                                  400, "BAD_USER_INPUT"),
    "non-UTF-8 GraphQL body": ({"content": b"{ stats \xff }", "headers": {"content-type": "application/graphql"}},
                               400, "BAD_USER_INPUT"),
    "JSON nested past the parser": ({"content": b'{"query": "{ stats { articles } }", "variables": {"w": '
                                     + b"[" * 5000 + b"]" * 5000 + b"}}",
                                     "headers": {"content-type": "application/json"}}, 400, "BAD_USER_INPUT"),
    "variables nested past the writer": (
        {"content": b'{"query": "query($w: ArticleWhere) { articles(where: $w) { totalCount } }", "variables": {"w": '
         + b'{"NOT": ' * 600 + b'{"published": true}' + b"}" * 600 + b"}}",
         "headers": {"content-type": "application/json"}}, 400, "BAD_USER_INPUT"),
    "bad cursor": ({"json": {"query": '{ articles(after: "not-a-cursor") { totalCount } }'}}, 400, "BAD_USER_INPUT"),
    "bad duration": ({"json": {"query": '{ articles(where: {publishedAt: {within: "soon"}}) { totalCount } }'}},
                     400, "BAD_USER_INPUT"),
    "bad date": ({"json": {"query": '{ articles(where: {publishedAt: {gt: "yesterday"}}) { totalCount } }'}},
                 400, "BAD_USER_INPUT"),
    "int out of range": ({"json": {"query": "{ articles(first: 99999999999) { totalCount } }"}}, 400, "BAD_USER_INPUT"),
    "negative first": ({"json": {"query": "{ articles(first: -1) { totalCount } }"}}, 400, "BAD_USER_INPUT"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_posts_get_a_4xx_with_a_json_body(client, name):
    kwargs, status, code = BAD_REQUESTS[name]
    _error_answer(client.post("/graphql", **kwargs), status, code)
    assert client.post("/graphql", json={"query": SMALL}).status_code == 200


@pytest.mark.parametrize("params, status", [
    ({"query": "mutation { stats { articles } }"}, 400),
    ({"query": "mutation M { x }", "operationName": "M"}, 400),
    ({"query": SMALL, "variables": "{broken"}, 400),
    ({"query": SMALL, "extensions": "[1"}, 400),
    ({}, 400),
    ({"query": ""}, 400),
])
def test_bad_gets_get_a_4xx_with_a_json_body(client, params, status):
    # Not text/html, which would be the explorer (an empty query under
    # application/json is a 200 with errors: tests/test_negotiation.py).
    _error_answer(client.get("/graphql", params=params, headers={"accept": ACCEPT}),
                  status, "BAD_USER_INPUT")


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_get_405_with_a_json_body(client, method):
    response = getattr(client, method)("/graphql")
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"]


def test_unknown_routes_get_404_with_a_json_body(client):
    _error_answer(client.get("/graphql/../etc/passwd"), 404, "NOT_FOUND")
    _error_answer(client.get("/nope"), 404, "NOT_FOUND")


def _boom(*args, **kwargs):
    raise RuntimeError("disk failed at /srv/secret/store.json line 3 in readmodel.py")


def test_a_resolver_failure_is_masked_to_internal_with_a_logged_request_id(client, monkeypatch, caplog):
    import store.facets

    monkeypatch.setattr(store.facets, "count", _boom)
    with caplog.at_level(logging.ERROR, logger="newsgraph"):
        # A filter of its own: facets are memoised per filter.
        response = client.post("/graphql", json={"query": "{ stats { articles } facets(where: {heat: {gt: -1001}}) { total } }"})
    body = _error_answer(response, 500, "INTERNAL")  # facets is non-null: no data at all
    (error,) = body["errors"]
    request_id = error["extensions"]["request_id"]
    assert re.fullmatch(r"[0-9a-f]{8,}", request_id)
    assert request_id in error["message"]
    assert "disk failed" not in response.text and not LEAKS.search(response.text), response.text
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the operator gets the traceback
    assert "disk failed" in caplog.text


def test_a_failure_in_a_nullable_field_keeps_the_rest_of_the_answer(client, monkeypatch):
    import graph.schema

    monkeypatch.setattr(graph.schema, "url_key", _boom)
    query = '{ stats { articles } article(url: "https://example.com/a") { id } }'
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["stats"]["articles"] > 0 and body["data"]["article"] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert not LEAKS.search(response.text)


def test_an_internal_answer_is_never_cached(client, monkeypatch):
    import store.facets

    query = {"query": "{ facets(where: {heat: {gt: -1002}}) { total } }"}
    real = store.facets.count
    monkeypatch.setattr(store.facets, "count", _boom)
    assert client.post("/graphql", json=query).json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    monkeypatch.setattr(store.facets, "count", real)
    assert client.post("/graphql", json=query).json()["data"]["facets"]["total"] > 0


def test_a_failure_outside_graphql_is_masked_too(corpus_holder, monkeypatch, caplog):
    from graph.http import GraphQLHTTP

    # Every POST decodes its body outside GraphQL (a public one without
    # Starlette's request object, graph/http.py): a fault there is ours.
    monkeypatch.setattr(GraphQLHTTP, "_decode_body", _boom)
    app = create_app(Settings(db=corpus_holder.store.path, reload_interval=0), holder=corpus_holder)
    with TestClient(app, raise_server_exceptions=False) as client, \
            caplog.at_level(logging.ERROR, logger="newsgraph"):
        response = client.post("/graphql", json={"query": SMALL})
    body = _error_answer(response, 500, "INTERNAL")
    request_id = body["errors"][0]["extensions"]["request_id"]
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


# --- CORS and secure defaults ----------------------------------------------------------

def test_defaults_are_secure():
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.cors_origins == ()
    assert settings.preview_token is None


def test_no_cors_headers_unless_configured(client):
    response = client.post("/graphql", json={"query": SMALL}, headers={"origin": "https://a.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options("/graphql", headers={"origin": "https://a.example",
                                                    "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_only_the_configured_origins(corpus_holder):
    with make_client(corpus_holder, cors_origins=("https://a.example",)) as client:
        allowed = client.post("/graphql", json={"query": SMALL}, headers={"origin": "https://a.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://a.example"
        other = client.post("/graphql", json={"query": SMALL}, headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = client.options("/graphql", headers={
            "origin": "https://a.example", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://a.example"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        refused = client.options("/graphql", headers={"origin": "https://evil.example",
                                                      "access-control-request-method": "POST"})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
