"""The benchmark's queries (bench/queries.py) stay valid against the schema and
answer real data on the corpus, through the compiled fast path; a schema
change that broke them would otherwise surface only in a long benchmark run."""
from __future__ import annotations

import orjson
import pytest

from bench import queries
from graph.context import Context
from graph.executor import Executor
from graph.schema import schema
from graph.settings import Settings
from tests.conftest import FROZEN_NOW

DOCUMENTS = {name: getattr(queries, name) for name in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")}


@pytest.fixture(scope="module")
def executor() -> Executor:
    return Executor(schema, Settings())


def _variables(name: str, model) -> dict:
    view = model.public
    topic = max(view.topics, key=lambda slug: len(view.by_topic.get(slug, ())))
    return {"Q1": {"after": None}, "Q2": {"id": view.articles[0].id}, "Q3": {"topic": topic},
            "Q4": {"topic": topic}, "Q5": {"q": "power"}, "Q6": {"after": None}}[name]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_benchmark_query_answers_through_the_compiled_path(executor, corpus_model, name):
    prepared = executor.prepare(DOCUMENTS[name])
    assert prepared.errors is None, prepared.errors
    operation = executor.operation(prepared, None)
    context = Context(model=corpus_model, preview=False, settings=executor.settings, now=FROZEN_NOW)
    fast = executor.compiled.run(prepared.document, operation, _variables(name, corpus_model), context)
    assert fast is not None and "errors" not in fast
    data = fast["data"]
    # Real content, not empty lists: each query shows what it is meant to.
    assert len(orjson.dumps(data)) > 200, data
