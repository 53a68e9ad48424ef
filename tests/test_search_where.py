"""A search narrowed by `where` keeps exactly the hits of the search without
it that the read model's own filter keeps (store/planner.py, what `articles`
answers), in the same order, whichever part of the filter the search
engine tests itself (store/searchfilter.py) and whichever part is tested
on each hit. Checked on the corpus and on two small sites with tags."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from store import searchfilter
from tests.sitebuilder import front, served, write_site

SEARCH = """query($q: String!, $where: ArticleWhere, $after: String) {
  search(query: $q, where: $where, first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { score node { id } } } }"""
LIST = """query($where: ArticleWhere, $after: String) {
  articles(where: $where, first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }"""


def hits(gql, q, where=None):
    found, after = [], None
    while True:
        page = gql(SEARCH, {"q": q, "where": where, "after": after})["search"]
        found += [(e["node"]["id"], e["score"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(found)
            return found
        after = page["pageInfo"]["endCursor"]


def listed(gql, where):
    found, after = set(), None
    while True:
        page = gql(LIST, {"where": where, "after": after})["articles"]
        found.update(n["id"] for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def agree(gql, q, where) -> int:
    everything = hits(gql, q)
    keep = listed(gql, where)
    want = [hit for hit in everything if hit[0] in keep]
    assert hits(gql, q, where) == want, where
    return len(want)


CONDITIONS = [
    {"collection": {"eq": "news"}}, {"collection": {"ne": "learning"}},
    {"type": {"in": ["video", "article"]}}, {"type": {"notIn": ["video"]}},
    {"topics": {"some": ["Teams integration", "portals"]}}, {"topics": {"none": ["power-apps"]}},
    {"topics": {"every": ["Power Apps", "AI Builder"]}},
    {"provider": {"domain": {"eq": "Microsoft.com"}}}, {"provider": {"domain": {"notIn": ["youtube.com"]}}},
    {"provider": {"name": {"startsWith": "power"}}}, {"provider": {"key": {"in": ["youtube.com/dhruvin-shah"]}}},
    {"provider": {"domain": {"eq": "youtube.com"}, "key": {"ne": "youtube.com/dhruvin-shah"}}},
    {"quality": {"gte": 80, "lt": 100}}, {"heat": {"ne": 50}}, {"heat": {"lte": 60}},
    {"heat": {"eq": 50}}, {"quality": {"in": [80, 90, 100]}}, {"heat": {"notIn": [50, 60]}},
    {"publishedAt": {"gt": "2021-01-01T00:00:00Z"}}, {"publishedAt": {"within": "P90D"}},
    {"publishedAt": {"eq": "2021-03-21T00:00:00Z"}},
    {"hasImages": False}, {"hasRelated": True}, {"published": True},
    {"title": {"contains": "app"}}, {"excerpt": {"endsWith": "."}},
    {"id": {"in": ["news/2021-02-22-use-edit-in-excel-in-dataverse-for-teams"]}}, {"id": {"notIn": ["news/2021-03-21-microsoft-dataverse-customer-managed-key"]}},
    {"text": '"power apps" -teams'},
]


@pytest.mark.parametrize("q", ["apps", "dataverse OR portal*"])
def test_single_conditions_agree_with_the_read_models_filter(gql, q):
    assert sum(agree(gql, q, c) for c in CONDITIONS) > 0


def test_combined_conditions_agree_with_the_read_models_filter(gql):
    rng = random.Random(17)
    kept = []
    for _ in range(25):
        a, b, c = rng.sample(CONDITIONS, 3)
        where = rng.choice([{**a, **b}, {"OR": [a, b]}, {"NOT": a, **c}, {"AND": [a, {"OR": [b, {"NOT": c}]}]},
                            {"OR": [{"AND": [a, b]}, c]}])
        kept.append(agree(gql, "power", where))
    assert sum(1 for n in kept if n) > 12, "most combinations must keep some hits, or this proves little"


def test_the_engine_tests_what_it_can():
    conditions, rest = searchfilter.split(
        {"collection": {"eq": "news"}, "title": {"contains": "x"}, "tags": {"some": ["US-LA"]},
         "AND": [{"site": {"name": {"eq": "a"}}}, {"provider": {"name": {"eq": "b"}}}],
         "OR": [{"heat": {"gt": 1}}, {"excerpt": {"contains": "y"}}],
         "NOT": {"topics": {"some": ["Tides"]}}}, None)
    assert rest == {"title": {"contains": "x"}, "AND": [{"provider": {"name": {"eq": "b"}}}],
                    "OR": [{"heat": {"gt": 1}}, {"excerpt": {"contains": "y"}}]}
    assert searchfilter.Term("tag", ("us-la",)) in conditions[1].parts
    assert len(conditions) == 4  # collection, tags, site, NOT topics


STORY = """
title: "{title}"
publishedDateTime: 2024-03-0{day}T08:00:00Z
webUrl: https://{host}/{slug}
tags: {tags}
"""


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    root = tmp_path_factory.mktemp("tagged")
    sites = []
    for name, host in (("Harbour Notes", "notes.example.org"), ("Orchard Weekly", "orchard.example.net")):
        files = {"_config.yml": f"title: {name}\nurl: https://{host}\n"}
        for day, (title, tags) in enumerate([("Tide tables for the harbour", '["us-la", "CN"]'),
                                             ("Harbour lights at dusk", '["FR"]'),
                                             ("A harbour without tags", "[]"),
                                             ("Orchard harbour apples", '["US-LA", "uk"]')], 1):
            slug = f"s{day}"
            files[f"_news/2024-03-0{day}-{slug}.md"] = front(STORY.format(title=title, day=day, host=host,
                                                                          slug=slug, tags=tags))
        sites.append(write_site(root / host, files))
    with served(root / "news.json", *sites) as (report, gql):
        assert report.ok, report.rejected
        yield gql


@pytest.mark.parametrize("where", [
    {"tags": {"some": ["us-la"]}}, {"tags": {"every": ["US-LA", "cn"]}}, {"tags": {"none": ["fr", "uk"]}},
    {"site": {"name": {"eq": "orchard-weekly"}}}, {"site": {"name": {"ne": "orchard-weekly"}}},
    {"site": {"title": {"contains": "harbour"}}}, {"site": {"name": {"in": ["harbour-notes"]}}, "tags": {"some": ["fr"]}},
    {"OR": [{"tags": {"some": ["uk"]}}, {"site": {"url": {"endsWith": ".net"}}}]},
])
def test_tags_and_sites_agree_with_the_read_models_filter(tagged, where):
    agree(tagged, "harbour", where)
    assert agree(tagged, "harbour OR tide*", where) > 0


def test_every_condition_kind_is_covered():
    """Each filter field the API has is either tested by the engine or
    listed here as tested on each hit."""
    per_hit = {"title", "excerpt", "hasItems", "locations", "AND", "OR", "NOT"}
    from graph.inputs import ArticleWhere
    fields = {f.python_name for f in ArticleWhere.__strawberry_definition__.fields}
    names = {"published_at": "publishedAt", "has_images": "hasImages", "has_related": "hasRelated",
             "has_items": "hasItems"}
    fields = {names.get(f, f) for f in fields}
    examples = {"id": {"eq": "x"}, "type": {"eq": "x"}, "collection": {"eq": "x"}, "publishedAt": {"gt": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)},
                "quality": {"eq": 1}, "heat": {"eq": 1}, "published": True, "provider": {"domain": {"eq": "x"}},
                "topics": {"some": ["x"]}, "tags": {"some": ["x"]}, "site": {"name": {"eq": "x"}},
                "hasImages": True, "hasRelated": True, "text": "x"}
    assert searchfilter.split({"provider": {"domain": {"eq": "x"}}}, None)[1] is None
    # which provider of a platform an article has is the read model's to say
    assert searchfilter.split({"provider": {"key": {"eq": "x"}}}, None)[1] == {"provider": {"key": {"eq": "x"}}}
    assert fields - per_hit == set(examples), "a new filter field: push it down or list it as per hit"
    for field, spec in examples.items():
        conditions, rest = searchfilter.split({field: spec}, None)
        assert conditions and rest is None, field


def test_one_provider_of_a_platform(gql):
    """A key picks one provider of a platform domain; the index holds only
    the domain, and the rest is tested on each hit."""
    assert agree(gql, "power", {"provider": {"key": {"eq": "youtube.com/dhruvin-shah"}}}) > 0
    assert agree(gql, "power", {"provider": {"domain": {"eq": "youtube.com"}, "key": {"ne": "youtube.com/dhruvin-shah"}}}) > 0
