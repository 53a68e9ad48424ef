"""Property: for random where trees and orderings, walking every page
forwards (first/after) or backwards (last/before) gives exactly the
independently filtered and sorted list, and totalCount is its length."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FROZEN_NOW
from tests.independent_query import corpus_rows, select

FORWARD = """
query($where: ArticleWhere, $order: [ArticleOrder!], $first: Int, $after: String) {
  articles(where: $where, orderBy: $order, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } }
  }
}"""
BACKWARD = """
query($where: ArticleWhere, $order: [ArticleOrder!], $last: Int, $before: String) {
  articles(where: $where, orderBy: $order, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor } edges { cursor node { id } }
  }
}"""

TYPES = ["article", "video", "course", "collection", "download", "profile", "forum"]
COLLECTIONS = ["news", "learning", "samples", "newsletters", "people", "communities"]
DOMAINS = ["microsoft.com", "youtube.com", "powerapps911.com", "pragmaticworks.com",
           "aprildunnam.com", "techcrunch.com", "no-such.example"]
TOPICS = ["Power Apps", "portals", "Canvas apps", "ai-builder", "Teams integration", "Azure",
          "Storage", "No such topic"]
DATES = ["2019-11-06T00:00:00Z", "2020-06-01T12:00:00Z", "2020-10-31T23:59:59+01:00",
         "2021-02-01T00:00:00Z", "2021-06-02T16:12:27Z"]
WORDS = ["power", "APPS", "portal", "Dataverse", "teams", "azure", "é"]

string_ops = st.sampled_from(["contains", "startsWith", "endsWith"])
small_ints = st.integers(min_value=40, max_value=110)

leaves = st.one_of(
    st.builds(lambda v: {"type": {"eq": v}}, st.sampled_from(TYPES)),
    st.builds(lambda vs: {"type": {"in": vs}}, st.lists(st.sampled_from(TYPES), max_size=3)),
    st.builds(lambda v: {"type": {"ne": v}}, st.sampled_from(TYPES)),
    st.builds(lambda v: {"collection": {"eq": v}}, st.sampled_from(COLLECTIONS)),
    st.builds(lambda vs: {"collection": {"notIn": vs}}, st.lists(st.sampled_from(COLLECTIONS), max_size=3)),
    st.builds(lambda op, w: {"title": {op: w}}, string_ops, st.sampled_from(WORDS)),
    st.builds(lambda w: {"excerpt": {"contains": w}}, st.sampled_from(WORDS)),
    st.builds(lambda op, v: {"heat": {op: v}}, st.sampled_from(["gt", "gte", "lt", "lte", "eq", "ne"]),
              small_ints),
    st.builds(lambda op, v: {"quality": {op: v}}, st.sampled_from(["gt", "lte", "ne"]), small_ints),
    st.builds(lambda op, d: {"publishedAt": {op: d}}, st.sampled_from(["gt", "gte", "lt", "lte"]),
              st.sampled_from(DATES)),
    st.builds(lambda n: {"publishedAt": {"within": f"P{n}D"}}, st.sampled_from([30, 90, 400, 1000])),
    st.builds(lambda d: {"provider": {"domain": {"eq": d}}}, st.sampled_from(DOMAINS)),
    st.builds(lambda ds: {"provider": {"domain": {"in": ds}}}, st.lists(st.sampled_from(DOMAINS), max_size=3)),
    st.builds(lambda op, w: {"provider": {"name": {op: w}}}, string_ops,
              st.sampled_from(["microsoft", "Learn", "shah", "911", "works"])),
    st.builds(lambda op, ts: {"topics": {op: ts}}, st.sampled_from(["some", "every", "none"]),
              st.lists(st.sampled_from(TOPICS), min_size=1, max_size=3)),
    st.builds(lambda b: {"hasImages": b}, st.booleans()),
    st.builds(lambda b: {"hasRelated": b}, st.booleans()),
    st.builds(lambda w: {"text": w}, st.sampled_from(["dataverse", "Teams", "portal", "dataversé apps"])),
)


def _merge(parts: list[dict]) -> dict:
    """Several conditions side by side in one object (implicitly AND-ed),
    unless they name the same field."""
    merged: dict = {}
    for part in parts:
        for key, value in part.items():
            merged.setdefault(key, value)
    return merged


wheres = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda ws: {"AND": ws}, st.lists(inner, max_size=3)),
        st.builds(lambda ws: {"OR": ws}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda w: {"NOT": w}, inner),
        st.builds(_merge, st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=6,
)
orders = st.lists(st.tuples(st.sampled_from(["PUBLISHED_AT", "HEAT", "QUALITY", "TITLE"]),
                            st.sampled_from(["ASC", "DESC"])),
                  max_size=3, unique_by=lambda pair: pair[0])


def _order(order):
    return [{"field": f, "direction": d} for f, d in order] or None


def walk_forward(gql, where, order, size):
    ids, after, pages = [], None, 0
    while pages <= len(corpus_rows()) // size + 1:
        page = gql(FORWARD, {"where": where, "order": _order(order), "first": size, "after": after})
        page = page["articles"]
        pages += 1
        ids += [e["node"]["id"] for e in page["edges"]]
        assert len(page["edges"]) <= size
        if after is None:
            assert not page["pageInfo"]["hasPreviousPage"]
        if not page["pageInfo"]["hasNextPage"]:
            return ids, page["totalCount"]
        assert len(page["edges"]) == size
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("forward paging did not end")


def walk_backward(gql, where, order, size):
    ids, before, pages = [], None, 0
    while pages <= len(corpus_rows()) // size + 1:
        page = gql(BACKWARD, {"where": where, "order": _order(order), "last": size, "before": before})
        page = page["articles"]
        pages += 1
        ids = [e["node"]["id"] for e in page["edges"]] + ids
        if before is None:
            assert not page["pageInfo"]["hasNextPage"]
        if not page["pageInfo"]["hasPreviousPage"]:
            return ids, page["totalCount"]
        assert len(page["edges"]) == size
        before = page["pageInfo"]["startCursor"]
    raise AssertionError("backward paging did not end")


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(where=wheres, order=orders, size=st.integers(min_value=9, max_value=100))
def test_walking_pages_gives_the_independent_answer(gql, where, order, size):
    want = select(list(corpus_rows()), where, order, FROZEN_NOW)
    forward, total = walk_forward(gql, where, order, size)
    assert forward == want
    assert total == len(want)
    backward, total = walk_backward(gql, where, order, size)
    assert backward == want
    assert total == len(want)
