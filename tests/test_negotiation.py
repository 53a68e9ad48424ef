"""Content negotiation per the GraphQL-over-HTTP spec: which media type an
answer is written in, and the status a refused request gets under each
(tests/test_http_audit.py runs the spec's own audit against a server)."""
from __future__ import annotations

import hashlib
import json

import pytest

from graph.negotiation import GRAPHQL_RESPONSE, JSON, negotiate
from tests.conftest import make_client

SMALL = "{ stats { articles } }"
REFUSED = {  # a well-formed request that fails before execution
    "parse": {"query": "{ stats { articles }"},
    "validation": {"query": "{ stats { nope } }"},
    "variables": {"query": "query Q($n: Int) { articles(first: $n) { totalCount } }",
                  "variables": {"n": "five"}},
    "limit": {"query": "{ articles(first: 500) { totalCount } }"},
    "operation": {"query": SMALL, "operationName": "Missing"},
}
MALFORMED = {  # not a GraphQL-over-HTTP request at all: 400 whatever is accepted
    "extensions string": {"query": SMALL, "extensions": "string"},
    "extensions number": {"query": SMALL, "extensions": 0},
    "extensions boolean": {"query": SMALL, "extensions": False},
    "extensions array": {"query": SMALL, "extensions": ["array"]},
    "variables array": {"query": SMALL, "variables": [1]},
    "operationName number": {"query": SMALL, "operationName": 1},
    "no query": {"qeury": SMALL},
}


@pytest.fixture(scope="module")
def http(corpus_holder):
    with make_client(corpus_holder) as client:
        del client.headers["accept"]  # each test says what it accepts, or sends no Accept at all
        yield client


@pytest.mark.parametrize("accept, media", [
    (None, JSON),
    ("", JSON),
    ("*/*", JSON),
    ("application/*", JSON),
    ("application/json", JSON),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
    ("application/json, application/graphql-response+json", JSON),  # the first of equals
    ("application/json;q=0.5, application/graphql-response+json;q=0.8", GRAPHQL_RESPONSE),
    ("application/graphql-response+json;q=0, application/json", JSON),
    ("text/html", JSON),  # nothing served is acceptable: JSON all the same, not a 406
    ("TEXT/HTML, Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
    ("application/graphql-response+json;q=oops, */*;q=0.1", JSON),
])
def test_negotiate(accept, media):
    assert negotiate(accept) == media


def _post(http, body, accept):
    headers = {"accept": accept} if accept is not None else {}
    return http.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json", "*/*", None])
def test_a_good_answer_is_a_200_in_the_media_type_accepted(http, accept):
    response = _post(http, {"query": SMALL}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == (GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else JSON)
    assert response.json()["data"]["stats"]["articles"] > 0
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("failure", sorted(REFUSED))
@pytest.mark.parametrize("accept, status", [(GRAPHQL_RESPONSE, 400), ("application/json", 200),
                                            ("*/*", 200), (None, 200)])
def test_a_request_refused_before_execution(http, failure, accept, status):
    # Twice: the second answer comes from the response cache, negotiated alike.
    for _ in range(2):
        response = _post(http, REFUSED[failure], accept)
        assert response.status_code == status, response.text
        body = response.json()
        assert "data" not in body and body["errors"][0]["extensions"]["code"]


@pytest.mark.parametrize("failure", sorted(REFUSED))
def test_a_get_refused_before_execution(http, failure):
    params = {k: v if isinstance(v, str) else json.dumps(v)
              for k, v in REFUSED[failure].items()}
    strict = http.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
    legacy = http.get("/graphql", params=params, headers={"accept": "application/json"})
    assert (strict.status_code, legacy.status_code) == (400, 200)
    assert strict.content == legacy.content
    assert "etag" not in strict.headers and "etag" not in legacy.headers


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
def test_a_malformed_request_is_a_400_whatever_is_accepted(http, case, accept):
    response = _post(http, MALFORMED[case], accept)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert response.headers["content-type"] == (GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else JSON)


def test_a_malformed_operation_in_a_batch_fails_alone(http):
    batch = [{"query": SMALL}, MALFORMED["extensions string"], REFUSED["parse"]]
    response = _post(http, batch, GRAPHQL_RESPONSE)
    assert response.status_code == 200
    good, malformed, refused = response.json()
    assert good["data"]["stats"]["articles"] > 0
    assert "extensions must be a JSON object" in malformed["errors"][0]["message"]
    assert "Syntax Error" in refused["errors"][0]["message"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
def test_an_apq_miss_stays_a_200_for_apollos_link(http, accept):
    # Apollo's persisted-query link turns persisted queries off for good on a 400.
    digest = hashlib.sha256(b"{ stats { topics } } # negotiation").hexdigest()
    response = _post(http, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
                     accept)
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_each_media_type_has_its_own_etag(http):
    params = {"query": "{ stats { providers } }"}
    strict = http.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
    legacy = http.get("/graphql", params=params, headers={"accept": "application/json"})
    assert strict.content == legacy.content
    assert strict.headers["content-type"] == GRAPHQL_RESPONSE and legacy.headers["content-type"] == JSON
    assert strict.headers["etag"] != legacy.headers["etag"]
    again = http.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE,
                                                         "if-none-match": strict.headers["etag"]})
    assert again.status_code == 304
    crossed = http.get("/graphql", params=params, headers={"accept": "application/json",
                                                           "if-none-match": strict.headers["etag"]})
    assert crossed.status_code == 200
