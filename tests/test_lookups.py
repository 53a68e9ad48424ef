"""Nested fields without N+1: the read model counts the index lookups that
resolvers make (ReadModel.lookups), and a page of 100 articles with nested
fields costs as many as a page of 10."""
from __future__ import annotations

import pytest

from tests.conftest import GQL, make_client
from tests.independent_query import corpus_rows

NESTED = """
query($first: Int!) {
  articles(first: $first, where: {collection: {eq: "news"}}) {
    nodes {
      id
      provider { domain name articleCount }
      topics { slug articleCount parent { slug } }
      images { url }
      related { title article { id provider { domain name } } }
      relatedFrom { id provider { domain } }
    }
  }
}"""


@pytest.fixture(scope="module")
def fresh(corpus_holder):
    """A client without the response cache, so every request executes."""
    with make_client(corpus_holder, response_cache_bytes=0) as client:
        yield GQL(client)


def lookups(gql, holder, query, variables=None, preview=True):
    before = holder.model.lookups
    data = gql(query, variables, preview=preview)
    return holder.model.lookups - before, data


def test_nested_fields_cost_the_same_for_10_and_100_articles(fresh, corpus_holder):
    small, _ = lookups(fresh, corpus_holder, NESTED, {"first": 10})
    large, data = lookups(fresh, corpus_holder, NESTED, {"first": 100})
    nodes = data["articles"]["nodes"]
    # The page really holds what the nested fields fetch...
    assert len(nodes) == 100
    assert sum(1 for n in nodes for r in n["related"] if r["article"]) >= 10
    assert sum(len(n["relatedFrom"]) for n in nodes) >= 10
    assert sum(1 for n in nodes for t in n["topics"] if t["parent"]) >= 10
    # ...and costs no more lookups than a page of 10.
    assert small == large
    assert large <= 5


def test_nested_lookups_are_counted(fresh, corpus_holder):
    """The counter sees a nested resolver's lookup, so a bound on it means
    something: each batched field adds exactly one lookup per request."""
    base = "{ topic(slug: \"teams-integration\") { slug %s } }"
    bare, _ = lookups(fresh, corpus_holder, base % "")
    counted, data = lookups(fresh, corpus_holder, base % "articleCount parent { slug articleCount }")
    assert data["topic"]["parent"]["slug"] == "power-apps"
    assert data["topic"]["articleCount"] > 0
    assert counted == bare + 2  # topic counts once (for both topics) and the topic index once


def test_article_counts_are_per_view(fresh):
    """A batch belongs to one request: the public answer never reuses counts
    made for a preview request."""
    # microsoft.com is a platform here (three names, no organization file):
    # its providers' counts together are the domain's.
    query = '{ providers(where: {domain: {eq: "microsoft.com"}}) { nodes { articleCount } } }'
    public = sum(n["articleCount"] for n in fresh(query)["providers"]["nodes"])
    preview = sum(n["articleCount"] for n in fresh(query, preview=True)["providers"]["nodes"])
    rows = [r for r in corpus_rows() if r.domain == "microsoft.com"]
    assert public == sum(r.visible for r in rows)
    assert preview == len(rows) > public
