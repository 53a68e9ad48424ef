"""ArticleWhere, orderBy and the connections that take them, checked against
the suite's own reading of the corpus (tests/independent_query.py)."""
from __future__ import annotations

import pytest
import yaml

from tests.conftest import AZURE, FROZEN_NOW, POWER_APPS
from tests.independent import front_matter, slug
from tests.independent_query import corpus_rows, select

ARTICLES = """
query($where: ArticleWhere, $order: [ArticleOrder!], $after: String) {
  articles(where: $where, orderBy: $order, first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id }
  }
}"""


def order_input(order):
    """[(field, direction)] to ArticleOrder inputs; a None direction is left out."""
    if not order:
        return None
    return [{"field": f, **({"direction": d} if d else {})} for f, d in order]


def walk(gql, where=None, order=None, query=ARTICLES, path=("articles",), **variables):
    """Every id of a connection, following endCursor, and its totalCount."""
    ids, after, totals = [], None, set()
    for _ in range(len(corpus_rows()) // 100 + 2):  # a cursor that loops must not hang the suite
        data = gql(query, {"where": where, "order": order_input(order), "after": after, **variables})
        for key in path:
            data = data[key]
        totals.add(data["totalCount"])
        ids += [n["id"] for n in data["nodes"]]
        if not data["pageInfo"]["hasNextPage"]:
            assert len(totals) == 1, totals
            return ids, totals.pop()
        after = data["pageInfo"]["endCursor"]
    raise AssertionError(f"paging did not end; {len(ids)} ids so far")


def expected(where=None, order=None):
    return select(list(corpus_rows()), where, order, FROZEN_NOW)


SOME_IDS = ["news/2021-06-02-table-permissions-in-portals-studio",
            "news/000_1f4803c7cbeba583", "news/no-such-article"]
LEARNING = {"collection": {"eq": "learning"}}
VIDEO = {"type": {"eq": "video"}}

CASES = [
    pytest.param(None, None, id="everything"),
    pytest.param(VIDEO, None, id="type-eq"),
    pytest.param({"type": {"ne": "video"}}, None, id="type-ne"),
    pytest.param({"type": {"in": ["course", "collection"]}}, [("TITLE", "ASC")], id="type-in"),
    pytest.param({"type": {"notIn": ["video", "article"]}}, None, id="type-notIn"),
    pytest.param({"collection": {"eq": "news"}}, None, id="collection-news"),
    pytest.param({"collection": {"in": ["people", "communities"]}}, [("TITLE", "DESC")],
                 id="collection-in"),
    pytest.param({"title": {"contains": "PORTALS"}}, None, id="title-contains-ignores-case"),
    pytest.param({"title": {"startsWith": "power apps"}}, None, id="title-startsWith"),
    pytest.param({"title": {"endsWith": "PREVIEW"}}, None, id="title-endsWith"),
    pytest.param({"excerpt": {"contains": "dataverse"}}, [("HEAT", "DESC")], id="excerpt-contains"),
    pytest.param({"excerpt": {"eq": ""}}, None, id="excerpt-empty"),
    pytest.param({"id": {"in": SOME_IDS}}, None, id="id-in"),
    pytest.param({"id": {"notIn": SOME_IDS}, "collection": {"eq": "news"}}, None, id="id-notIn"),
    pytest.param({"quality": {"gte": 80}}, [("QUALITY", "DESC")], id="quality-gte"),
    pytest.param({"quality": {"lt": 72}}, None, id="quality-lt"),
    pytest.param({"heat": {"gt": 50, "lte": 72}}, [("HEAT", "ASC")], id="heat-range"),
    pytest.param({"heat": {"in": [50, 51]}}, None, id="heat-in"),
    pytest.param({"heat": {"ne": 50}}, None, id="heat-ne-keeps-missing"),
    pytest.param({"publishedAt": {"gte": "2021-01-01T00:00:00Z", "lt": "2021-03-01T00:00:00Z"}},
                 None, id="date-range"),
    pytest.param({"publishedAt": {"eq": "2021-06-02T16:12:27Z"}}, None, id="date-eq"),
    pytest.param({"publishedAt": {"lte": "2020-06-01T02:00:00+02:00"}}, [("PUBLISHED_AT", "ASC")],
                 id="date-offset"),
    pytest.param({"publishedAt": {"within": "P30D"}}, None, id="within-30-days"),
    pytest.param({"publishedAt": {"within": "P120D"}, "type": {"eq": "article"}}, None,
                 id="within-and-type"),
    pytest.param({"publishedAt": {"within": "P365D", "gte": "2021-03-01T00:00:00Z"}}, None,
                 id="within-and-gte"),
    pytest.param({"NOT": {"publishedAt": {"gte": "2020-01-01T00:00:00Z"}}}, None,
                 id="not-date-includes-undated"),
    pytest.param({"provider": {"domain": {"eq": "microsoft.com"}}}, None, id="provider-domain"),
    pytest.param({"provider": {"domain": {"in": ["youtube.com", "powerapps911.com"]}}},
                 [("TITLE", "ASC")], id="provider-domain-in"),
    pytest.param({"provider": {"name": {"eq": "Microsoft Learn"}}}, None, id="provider-own-name"),
    pytest.param({"provider": {"name": {"eq": "Microsoft"}}}, None, id="provider-canonical-name"),
    pytest.param({"provider": {"domain": {"endsWith": ".COM"}, "name": {"contains": "works"}}},
                 None, id="provider-domain-and-name"),
    pytest.param({"provider": {"name": {"ne": "Microsoft"}}}, None, id="provider-name-ne"),
    pytest.param({"topics": {"some": ["Portals", "ai-builder"]}}, None, id="topics-some-name-or-slug"),
    pytest.param({"topics": {"every": ["Power Apps", "teams-integration"]}}, None, id="topics-every"),
    pytest.param({"topics": {"none": ["power-apps"]}}, None, id="topics-none"),
    pytest.param({"topics": {"some": ["Azure"], "none": ["Storage", "Security"]}}, None,
                 id="topics-some-and-none"),
    pytest.param({"hasImages": False}, None, id="without-images"),
    pytest.param({"hasRelated": True}, None, id="with-related"),
    pytest.param({"published": True}, [("HEAT", "DESC"), ("TITLE", "ASC")], id="published"),
    pytest.param({"AND": [VIDEO, {"provider": {"domain": {"eq": "youtube.com"}}}]}, None, id="and"),
    pytest.param({"OR": [{"collection": {"eq": "samples"}}, {"heat": {"gte": 90}}]},
                 [("HEAT", "DESC")], id="or"),
    pytest.param({"NOT": LEARNING}, None, id="not"),
    pytest.param({"OR": [{"AND": [VIDEO, {"NOT": {"provider": {"domain": {"eq": "youtube.com"}}}}]},
                         {"NOT": {"OR": [LEARNING, {"collection": {"eq": "samples"}}]},
                          "topics": {"some": ["portals"]}}]},
                 [("QUALITY", "ASC"), ("PUBLISHED_AT", "DESC")], id="nested-and-or-not"),
    pytest.param({"NOT": {"NOT": {"AND": [{"OR": [{"heat": {"lt": 51}}, {"quality": {"gt": 100}}]},
                                          {"NOT": {"hasImages": False}}]}}},
                 [("PUBLISHED_AT", "ASC"), ("HEAT", "ASC")], id="deeply-nested"),
    pytest.param({"text": "dataverse teams"}, None, id="text-words"),
    pytest.param({"text": "DATAVERSÉ", "collection": {"eq": "news"}}, None, id="text-accents"),
]


@pytest.mark.parametrize("where, order", CASES)
def test_filters_match_an_independent_reading(gql, where, order):
    ids, total = walk(gql, where, order)
    want = expected(where, order)
    assert want, "each case must select something, or it proves nothing"
    assert ids == want
    assert total == len(want)


ORDERS = [[(field, direction)] for field in ("PUBLISHED_AT", "HEAT", "QUALITY", "TITLE")
          for direction in ("ASC", "DESC")]


@pytest.mark.parametrize("order", ORDERS + [[("HEAT", "DESC"), ("QUALITY", "ASC"), ("TITLE", "DESC")]],
                         ids=lambda o: ",".join(f"{f}-{d}" for f, d in o))
def test_every_sort_key_in_both_directions(gql, order):
    ids, _ = walk(gql, None, order)
    assert ids == expected(None, order)
    field, _ = order[0]
    # Missing values (no date, heat or quality) sit at the end either way.
    rows = {r.id: r for r in corpus_rows()}
    value = {"PUBLISHED_AT": "published_at", "HEAT": "heat", "QUALITY": "quality",
             "TITLE": "title"}[field]
    present = [getattr(rows[i], value) is not None for i in ids]
    assert present == sorted(present, reverse=True)


def test_title_order_ignores_case(gql):
    data = gql("""{ articles(orderBy: [{field: TITLE, direction: ASC}], first: 100,
                   where: {collection: {eq: "learning"}}) { nodes { title } } }""")
    titles = [n["title"] for n in data["articles"]["nodes"]]
    assert titles == sorted(titles, key=str.lower)
    assert titles != sorted(titles), "the corpus should mix cases, or this proves nothing"


def test_direction_defaults_to_desc(gql):
    ids, _ = walk(gql, None, [("HEAT", None), ("TITLE", None)])
    assert ids == expected(None, [("HEAT", "DESC"), ("TITLE", "DESC")])


def test_unpublished_articles_are_filtered_out_even_when_asked_for(gql):
    assert walk(gql, {"published": False})[0] == []
    hidden = [r for r in corpus_rows() if not r.visible]
    assert hidden, "the corpus has unpublished articles"
    assert walk(gql, {"id": {"in": [r.id for r in hidden]}})[0] == []


def test_preview_sees_unpublished_articles(gql):
    hidden = {r.id for r in corpus_rows() if not r.visible}
    data = gql('{ articles(where: {published: false}, first: 100) { totalCount } }', preview=True)
    assert data["articles"]["totalCount"] == len(hidden)


# --- Provider.articles, Topic.articles, providers, topics ---------------------------

PROVIDER_ARTICLES = """
query($domain: String!, $name: String, $where: ArticleWhere, $order: [ArticleOrder!], $after: String) {
  provider(domain: $domain, name: $name) {
    articleCount
    articles(where: $where, orderBy: $order, first: 100, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { id }
    }
  }
}"""
TOPIC_ARTICLES = PROVIDER_ARTICLES.replace("$domain: String!, $name: String", "$slug: String!") \
    .replace("provider(domain: $domain, name: $name)", "topic(slug: $slug)")


@pytest.mark.parametrize("domain, name, key, where, order", [
    # Platforms (several names, no organization file): each name is a provider.
    ("youtube.com", "Dhruvin Shah", "youtube.com/dhruvin-shah", None, None),
    ("microsoft.com", "microsoft learn", "microsoft.com/microsoft-learn", {"type": {"eq": "course"}},
     [("TITLE", "ASC")]),
    ("powerapps911.com", None, "powerapps911.com",
     {"OR": [{"heat": {"gt": 60}}, {"publishedAt": {"within": "P365D"}}]}, [("HEAT", "DESC")]),
])
def test_provider_articles(gql, domain, name, key, where, order):
    ids, total = walk(gql, where, order, query=PROVIDER_ARTICLES, path=("provider", "articles"),
                      domain=domain, name=name)
    want = expected({"AND": [{"provider": {"key": {"eq": key}}}, where or {}]}, order)
    assert want and ids == want and total == len(want)
    count = gql(PROVIDER_ARTICLES, {"domain": domain, "name": name})["provider"]["articleCount"]
    assert count == len(expected({"provider": {"key": {"eq": key}}}))
    assert len(expected({"provider": {"domain": {"eq": domain}}})) >= count


@pytest.mark.parametrize("name, where, order", [
    ("Teams integration", None, None),
    ("Portals", {"NOT": {"collection": {"eq": "news"}}}, [("TITLE", "DESC")]),
    ("Azure", {"hasRelated": True}, [("PUBLISHED_AT", "ASC")]),
])
def test_topic_articles(gql, name, where, order):
    ids, total = walk(gql, where, order, query=TOPIC_ARTICLES, path=("topic", "articles"),
                      slug=slug(name))
    want = expected({"AND": [{"topics": {"some": [name]}}, where or {}]}, order)
    assert want and ids == want and total == len(want)


def test_topic_articles_page_backwards(gql):
    query = """query($before: String) { topic(name: "Canvas apps") { articles(last: 7, before: $before) {
               pageInfo { hasPreviousPage startCursor } nodes { id } } } }"""
    ids, before = [], None
    for _ in range(20):
        page = gql(query, {"before": before})["topic"]["articles"]
        ids = [n["id"] for n in page["nodes"]] + ids
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    else:
        raise AssertionError("paging backwards did not end")
    assert ids == expected({"topics": {"some": ["canvas-apps"]}})


def _walk_keyed(gql, field, key, extra=""):
    query = f"""query($after: String) {{ {field}(first: 7, after: $after{extra}) {{
                totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {key} }} }} }}"""
    values, after = [], None
    for _ in range(100):
        page = gql(query, {"after": after})[field]
        values += [n[key] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return values, page["totalCount"]
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"paging {field} did not end")


def test_topics_connection_walks_every_topic(gql):
    declared = {slug(yaml.safe_load(p.read_text())["name"])
                for site in (POWER_APPS, AZURE) for p in (site / "_data" / "topics").glob("*.yaml")}
    used = {s for r in corpus_rows() if r.visible for s in r.topic_slugs}
    slugs, total = _walk_keyed(gql, "topics", "slug")
    assert slugs == sorted(declared | used)
    assert total == len(slugs)


def test_providers_connection_and_its_filter(gql):
    """Providers come from organization files, articles and their related
    items; an unpublished article contributes none."""
    keys, total = _walk_keyed(gql, "providers", "key")
    declared = {front_matter(p)[0]["domain"].lower()
                for site in (POWER_APPS, AZURE) for p in (site / "_data" / "organizations").glob("*.md")}
    visible = [r for r in corpus_rows() if r.visible]
    used = {r.provider_key for r in visible if r.provider_key} | {k for r in visible for k in r.related_keys}
    assert keys == sorted(declared | used)
    assert total == len(keys)
    youtube, total = _walk_keyed(gql, "providers", "key", ', where: {domain: {endsWith: "TUBE.com"}}')
    assert youtube == ["youtube.com/dhruvin-shah", "youtube.com/henry-ouang", "youtube.com/reza-dorrni"]
    assert total == 3


# --- defaults, limits and bad input ---------------------------------------------------

def test_page_size_defaults_to_20(gql):
    data = gql("{ articles { nodes { id } pageInfo { hasNextPage } } }")
    assert [n["id"] for n in data["articles"]["nodes"]] == expected()[:20]


@pytest.mark.parametrize("args, name", [("first: 101", "first"), ("last: 500", "last"),
                                        ("first: -1", "first")])
def test_page_size_over_the_limit_is_bad_input(gql, args, name):
    body = gql.raw(f"{{ articles({args}) {{ totalCount }} }}")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert name in error["message"] and "100" in error["message"]


def test_nested_connection_limit_names_it_too(gql):
    body = gql.raw('{ topic(slug: "portals") { articles(first: 250) { totalCount } } }')
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "100" in error["message"]


@pytest.mark.parametrize("where", [
    {"topics": {"some": ["no-such-topic"]}},
    {"topics": {"every": ["Power Apps", "No such topic"]}},
    {"provider": {"domain": {"eq": "no-such-provider.example"}}},
    {"provider": {"name": {"eq": "Nobody"}}},
    {"id": {"eq": "news/no-such-article"}},
    {"id": {"in": ["nothing/here"]}},
])
def test_unknown_names_give_an_empty_answer(gql, where):
    ids, total = walk(gql, where)
    assert ids == [] and total == 0


def test_unknown_provider_and_topic_lookups_are_null(gql):
    data = gql('{ provider(domain: "nope.example") { domain } topic(slug: "nope") { slug } '
               'article(id: "news/nope") { id } }')
    assert data == {"provider": None, "topic": None, "article": None}


@pytest.mark.parametrize("date", ["2021-13-01", "yesterday", "2021-06-02T25:00:00Z"])
def test_malformed_date_is_bad_input_naming_it(gql, date):
    for body in (gql.raw(f'{{ articles(where: {{publishedAt: {{gte: "{date}"}}}}) {{ totalCount }} }}'),
                 gql.raw("query($w: ArticleWhere) { articles(where: $w) { totalCount } }",
                         {"w": {"publishedAt": {"lt": date}}})):
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert date in error["message"]


@pytest.mark.parametrize("duration", ["7 days", "P", "PT", "P1DT", "-P7D", "7D"])
def test_malformed_duration_is_bad_input_naming_it(gql, duration):
    body = gql.raw("query($w: ArticleWhere) { articles(where: $w) { totalCount } }",
                   {"w": {"NOT": {"publishedAt": {"within": duration}}}})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert repr(duration) in error["message"]


@pytest.mark.parametrize("duration, days", [("P5W", 35), ("PT1440H", 60), ("P2M", 60), ("p60d", 60)])
def test_duration_forms(gql, duration, days):
    ids, _ = walk(gql, {"publishedAt": {"within": duration}})
    assert ids == expected({"publishedAt": {"within": f"P{days}D"}})
    assert ids, "the frozen clock should leave something within each duration"


def test_provider_domain_filters_ignore_case(gql):
    # A domain is an identity in lower case: `provider(domain:)` and the
    # filter agree whatever case the client writes.
    query = 'query($w: ArticleWhere) { articles(where: $w, first: 0) { totalCount } }'
    lower = gql(query, {"w": {"provider": {"domain": {"eq": "microsoft.com"}}}})["articles"]["totalCount"]
    mixed = gql(query, {"w": {"provider": {"domain": {"eq": "Microsoft.COM"}}}})["articles"]["totalCount"]
    listed = gql(query, {"w": {"provider": {"domain": {"in": ["MICROSOFT.com"]}}}})["articles"]["totalCount"]
    assert lower == mixed == listed > 0


def test_providers_list_domain_filter_ignores_case_too(gql):
    query = 'query($w: ProviderWhere) { providers(where: $w) { nodes { domain } } }'
    lower = gql(query, {"w": {"domain": {"eq": "microsoft.com"}}})["providers"]["nodes"]
    mixed = gql(query, {"w": {"domain": {"eq": "Microsoft.COM"}}})["providers"]["nodes"]
    # microsoft.com has no organization file and three names: three providers.
    assert lower == mixed == [{"domain": "microsoft.com"}] * 3
