"""A POSTed JSON list of operations gets a list of answers, in order."""
from __future__ import annotations

from tests.independent_query import corpus_rows

COUNT = "query($t: String!) { articles(where: {type: {eq: $t}}) { totalCount } }"


def test_a_batch_answers_each_operation_in_order(client):
    batch = [
        {"query": COUNT, "variables": {"t": "video"}},
        {"query": "{ article(id: \"news/000_1f4803c7cbeba583\") { title } }"},
        {"query": "{ articles(first: 1000) { totalCount } }"},
        {"query": COUNT, "variables": {"t": "course"}},
    ]
    response = client.post("/graphql", json=batch)
    assert response.status_code == 200
    answers = response.json()
    assert isinstance(answers, list) and len(answers) == len(batch)

    visible = [r for r in corpus_rows() if r.visible]
    assert answers[0] == {"data": {"articles": {"totalCount": sum(r.type == "video" for r in visible)}}}
    seed = next(r for r in visible if r.id == "news/000_1f4803c7cbeba583")
    assert answers[1] == {"data": {"article": {"title": seed.title}}}
    # One failing operation does not spoil the others.
    assert answers[2]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert answers[3] == {"data": {"articles": {"totalCount": sum(r.type == "course" for r in visible)}}}
    # Each answer is what the operation gets on its own.
    for operation, answer in zip(batch, answers):
        assert client.post("/graphql", json=operation).json() == answer
