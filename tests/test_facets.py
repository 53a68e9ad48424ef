"""facets(where:): counts by topic, provider, type and month under the same
filter as articles, compared with counts made from the corpus files."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import FROZEN_NOW
from tests.independent import slug
from tests.independent_query import corpus_rows, matches

FACETS = """
query($where: ArticleWhere) {
  facets(where: $where) {
    total
    topics { value label count }
    providers { value label count }
    types { value label count }
    months { value count }
    collections { value label count }
  }
  articles(where: $where) { totalCount }
}"""


def ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def independent_facets(where):
    rows = [r for r in corpus_rows() if r.visible and matches(r, where, FROZEN_NOW)]
    return {
        "total": len(rows),
        "topics": ranked(Counter(s for r in rows for s in r.topic_slugs)),
        "providers": ranked(Counter(r.provider_key for r in rows if r.provider_key)),
        "types": ranked(Counter(r.type for r in rows)),
        # Months by date, newest first.
        "months": sorted(Counter(r.month for r in rows if r.month).items(), reverse=True),
        "collections": ranked(Counter(r.collection for r in rows)),
    }


@pytest.mark.parametrize("where", [
    None,
    {"collection": {"eq": "news"}},
    {"topics": {"some": ["Portals"]}, "NOT": {"type": {"eq": "video"}}},
    {"OR": [{"provider": {"domain": {"eq": "youtube.com"}}}, {"heat": {"gte": 72}}]},
    {"publishedAt": {"within": "P180D"}},
    {"title": {"contains": "dataverse"}},
], ids=["all", "news", "portals-not-video", "or", "within", "title"])
def test_facets_equal_independent_counts(gql, where):
    data = gql(FACETS, {"where": where})
    facets = data["facets"]
    want = independent_facets(where)
    assert want["total"] > 0
    assert facets["total"] == want["total"] == data["articles"]["totalCount"]
    for name in ("topics", "providers", "types", "months", "collections"):
        assert [(f["value"], f["count"]) for f in facets[name]] == want[name], name
    assert sum(f["count"] for f in facets["types"]) == facets["total"]
    assert sum(f["count"] for f in facets["collections"]) == facets["total"]


def test_facet_labels_are_display_names(gql):
    facets = gql(FACETS, {"where": {"collection": {"eq": "news"}}})["facets"]
    rows = [r for r in corpus_rows() if r.visible and r.collection == "news"]
    names = {slug(t): t for r in rows for t in r.topics}
    assert {f["value"]: f["label"].lower() for f in facets["topics"]} == \
        {s: n.lower() for s, n in names.items()}
    providers = {r.provider_key: r.canonical_name for r in rows if r.provider_key}
    assert {f["value"]: f["label"] for f in facets["providers"]} == providers


def test_facets_of_nothing(gql):
    facets = gql(FACETS, {"where": {"topics": {"some": ["no-such-topic"]}}})["facets"]
    assert facets == {"total": 0, "topics": [], "providers": [], "types": [], "months": [], "collections": []}


def test_facets_never_count_unpublished_articles(gql):
    hidden = [r.id for r in corpus_rows() if not r.visible]
    facets = gql(FACETS, {"where": {"id": {"in": hidden}}})["facets"]
    assert facets["total"] == 0
    preview = gql(FACETS, {"where": {"id": {"in": hidden}}}, preview=True)["facets"]
    assert preview["total"] == len(hidden)
