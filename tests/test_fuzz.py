"""Generated queries from the live schema (hypothesis-graphql): valid ones
and ones with a schema violation. None may end in a 5xx or INTERNAL, leak a
trace or a path, or show an unpublished article to the public.
scripts/fuzz.py runs the same properties for thousands of examples."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, queries

from graph.schema import sdl
from tests.conftest import TOKEN
from tests.fuzzing import check_answer, custom_scalars

# Repeatable in CI (derandomize, no example database); scripts/fuzz.py explores.
def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
GRAPHQL_SCHEMA = sdl()  # the live schema, as clients see it


def _hidden_ids(model) -> frozenset[str]:
    return frozenset(a.id for a in model.all_articles if not a.visible)


@fuzz_settings(100)
@given(query=queries(GRAPHQL_SCHEMA, custom_scalars=custom_scalars()), preview=st.booleans())
def test_valid_queries_never_fail_on_the_server(client, corpus_model, query, preview):
    headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
    response = client.post("/graphql", json={"query": query}, headers=headers)
    check_answer(query, response.status_code, response.content,
                 hidden=frozenset() if preview else _hidden_ids(corpus_model))


@fuzz_settings(50)
@given(query=queries(GRAPHQL_SCHEMA, custom_scalars=custom_scalars(), mode=Mode.NEGATIVE))
def test_invalid_queries_are_refused_as_user_errors(client, query):
    response = client.post("/graphql", json={"query": query})
    body = check_answer(query, response.status_code, response.content, hidden=frozenset())
    assert response.status_code == 400 and body["errors"], (query, body)


@fuzz_settings(50)
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                         lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.sampled_from(["query", "variables", "operationName",
                                                            "extensions", "x"]), inner, max_size=4),
                         max_leaves=12))
def test_arbitrary_json_bodies_never_fail_on_the_server(client, body):
    # The standard library writes what orjson would refuse (integers past 64 bits).
    response = client.post("/graphql", content=json.dumps(body).encode(),
                           headers={"content-type": "application/json"})
    check_answer(repr(body), response.status_code, response.content, hidden=frozenset())
    assert response.status_code != 200 or isinstance(body, (dict, list))
