"""A provider is who published: one per name on a platform domain (several
names, no organization file), one per organization otherwise; and the
providers and topics lists as a sidebar wants them (having articles,
ordered by count or name). The real corpus is compared with an independent
reading of its files; small sites written here pin the rules."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.independent import slug
from tests.independent_query import corpus_rows
from tests.sitebuilder import front, served, write_site

# --- the real corpus ---------------------------------------------------------------


def _public_counts(key):
    return Counter(key(r) for r in corpus_rows() if r.visible and key(r))


def test_every_youtube_channel_is_its_own_provider(gql):
    rows = [r for r in corpus_rows() if r.visible and r.domain == "youtube.com"]
    by_name = Counter(r.provider_name for r in rows)
    assert len(by_name) == 3 and sum(by_name.values()) == len(rows) > 50
    got = gql("""{ providers(where: {domain: {eq: "youtube.com"}}) {
                     nodes { id key domain name names articleCount articles(first: 0) { totalCount } } } }""")
    nodes = got["providers"]["nodes"]
    assert [(n["name"], n["articleCount"]) for n in nodes] == sorted(by_name.items(), key=lambda kv: slug(kv[0]))
    for node in nodes:
        assert node["domain"] == "youtube.com"
        assert node["key"] == f"youtube.com/{slug(node['name'])}" and node["id"] == f"provider:{node['key']}"
        assert node["names"] == [node["name"]] and node["articles"]["totalCount"] == node["articleCount"]
    # Each article answers with its own channel, and the facets count them apart.
    video = next(r for r in rows if r.provider_name == "Henry Ouang")
    article = gql('query($id: ID!) { article(id: $id) { provider { key name } providerName } }',
                  {"id": video.id})["article"]
    assert article == {"provider": {"key": "youtube.com/henry-ouang", "name": "Henry Ouang"},
                       "providerName": "Henry Ouang"}
    facets = gql('{ facets(where: {provider: {domain: {eq: "youtube.com"}}}) { providers { value label count } } }')
    assert sorted((f["value"], f["label"], f["count"]) for f in facets["facets"]["providers"]) == \
        sorted((f"youtube.com/{slug(n)}", n, c) for n, c in by_name.items())


def test_a_platform_provider_is_found_by_domain_and_name_or_id(gql):
    one = gql('{ provider(domain: "YouTube.com", name: "reza DORRNI") { key } node(id: "provider:youtube.com/reza-dorrni") { id } }')
    assert one == {"provider": {"key": "youtube.com/reza-dorrni"}, "node": {"id": "provider:youtube.com/reza-dorrni"}}
    assert gql('{ provider(domain: "youtube.com", name: "Nobody") { key } }') == {"provider": None}
    # An organization answers to every name its articles give it, and to none other.
    assert gql('{ provider(domain: "powerapps911.com", name: "PowerApps911") { key } }') == \
        {"provider": {"key": "powerapps911.com"}}
    assert gql('{ provider(domain: "powerapps911.com", name: "Somebody else") { key } }') == {"provider": None}
    body = gql.raw('{ provider(domain: "youtube.com") { key } }')
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "youtube.com hosts 3 providers" in error["message"] and "name" in error["message"]


@pytest.mark.parametrize("where, keys", [
    ({"key": {"eq": "YouTube.com/dhruvin-shah"}}, {"youtube.com/dhruvin-shah"}),
    ({"key": {"in": ["youtube.com/henry-ouang", "aprildunnam.com"]}}, {"youtube.com/henry-ouang", "aprildunnam.com"}),
    ({"id": {"eq": "provider:youtube.com/reza-dorrni"}}, {"youtube.com/reza-dorrni"}),
    ({"domain": {"eq": "youtube.com"}, "name": {"eq": "Henry Ouang"}}, {"youtube.com/henry-ouang"}),
])
def test_articles_filter_by_provider_key_and_id(gql, where, keys):
    got = gql("query($w: ArticleWhere) { articles(first: 100, where: $w) { totalCount nodes { provider { key id } } } }",
              {"w": {"provider": where}})["articles"]
    counts = _public_counts(lambda r: r.provider_key)
    assert got["totalCount"] == len(got["nodes"]) == sum(counts[k] for k in keys) > 0
    assert {n["provider"]["key"] for n in got["nodes"]} == keys


# --- the sidebar lists -------------------------------------------------------------

def _walk(gql, field: str, args: str, fields: str = "key name articleCount", page: int = 7):
    query = f"""query($after: String) {{ {field}(first: {page}, after: $after{args}) {{
                totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }}"""
    nodes, after = [], None
    for _ in range(200):
        got = gql(query, {"after": after})[field]
        nodes += got["nodes"]
        if not got["pageInfo"]["hasNextPage"]:
            assert got["totalCount"] == len(nodes)
            return nodes
        after = got["pageInfo"]["endCursor"]
    raise AssertionError("paging did not end")


def test_providers_with_articles_by_count(gql):
    counts = _public_counts(lambda r: r.provider_key)
    got = _walk(gql, "providers", ", where: {hasArticles: true}, orderBy: [{field: ARTICLE_COUNT}]")
    assert [(n["key"], n["articleCount"]) for n in got] == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    everyone = _walk(gql, "providers", "")
    without = _walk(gql, "providers", ", where: {hasArticles: false}")
    assert len(without) == len(everyone) - len(got) > 0
    assert all(n["articleCount"] == 0 for n in without)


def test_providers_by_name_either_way(gql):
    up = _walk(gql, "providers", ", where: {hasArticles: true}, orderBy: [{field: NAME}]")
    assert [(n["name"].casefold(), n["key"]) for n in up] == sorted((n["name"].casefold(), n["key"]) for n in up)
    down = _walk(gql, "providers", ", where: {hasArticles: true}, orderBy: [{field: NAME, direction: DESC}]")
    by_name = sorted(up, key=lambda n: n["key"])
    by_name = sorted(by_name, key=lambda n: n["name"].casefold(), reverse=True)
    assert down == by_name


def test_topics_with_articles_by_count_then_name(gql):
    counts = Counter(s for r in corpus_rows() if r.visible for s in r.topic_slugs)
    got = _walk(gql, "topics", ", where: {hasArticles: true}, orderBy: [{field: ARTICLE_COUNT}, {field: NAME}]",
                fields="slug name articleCount", page=3)
    assert {n["slug"]: n["articleCount"] for n in got} == dict(counts)
    assert [n["articleCount"] for n in got] == sorted((n["articleCount"] for n in got), reverse=True)
    for a, b in zip(got, got[1:]):
        if a["articleCount"] == b["articleCount"]:
            assert (a["name"].casefold(), a["slug"]) < (b["name"].casefold(), b["slug"])
    every = _walk(gql, "topics", "", fields="slug name")
    named = gql('{ topics(first: 100, where: {name: {contains: "APPS"}, slug: {ne: "power-apps"}}) { nodes { slug } } }')
    want = [t["slug"] for t in every if "apps" in t["name"].lower() and t["slug"] != "power-apps"]
    assert want and [n["slug"] for n in named["topics"]["nodes"]] == want


def test_a_cursor_belongs_to_its_order(gql):
    first = gql('{ providers(first: 2, orderBy: [{field: NAME}]) { pageInfo { endCursor } } }')
    cursor = first["providers"]["pageInfo"]["endCursor"]
    body = gql.raw('query($c: String) { providers(first: 2, after: $c, orderBy: [{field: ARTICLE_COUNT}]) { totalCount } }',
                   {"c": cursor})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = gql.raw('query($c: String) { providers(first: 2, after: $c) { totalCount } }', {"c": cursor})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- the rules on small sites ------------------------------------------------------------

def _video(name: str, domain: str, *, published: bool = True, related: str = "") -> str:
    return front(f"""
        title: A video by {name}
        type: video
        publishedDateTime: 2024-05-01T10:00:00Z
        published: {str(published).lower()}
        provider:
          name: {name}
          domain: {domain}
          images:
            - url: https://img.example/{slug(name)}.png
        {related}
        """)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("platform")
    related = """related:
          - title: Elsewhere
            webUrl: https://tube.example/watch?v=9
            provider:
              name: Third Channel
              domain: tube.example"""
    site = write_site(root / "site", {
        "_news/a1.md": _video("First Channel", "tube.example", related=related),
        "_news/a2.md": _video("first channel", "tube.example"),
        "_news/a3.md": _video("Second Channel", "tube.example"),
        # An organization file: one provider whatever the names.
        "_news/b1.md": _video("Harbour Radio", "harbour.example"),
        "_news/b2.md": _video("Harbour Radio Podcasts", "harbour.example"),
        "_data/organizations/harbour.example.md": front("name: Harbour Media\ndomain: harbour.example"),
        # One published name and an unpublished other: not a platform.
        "_news/c1.md": _video("Quay Daily", "quay.example"),
        "_news/c2.md": _video("Quay Secret Channel", "quay.example", published=False),
        # Only unpublished names: the preview sees a platform, the public nothing.
        "_news/d1.md": _video("Hidden One", "hidden.example", published=False),
        "_news/d2.md": _video("Hidden Two", "hidden.example", published=False),
    })
    with served(root / "db.json", site) as (report, gql):
        assert report.ok, report.rejected
        yield gql


PROVIDERS = "{ providers { nodes { key name names articleCount images { url } } } }"


def test_platform_names_organizations_and_privacy(platform):
    public = {n["key"]: n for n in platform(PROVIDERS)["providers"]["nodes"]}
    assert public == {
        "harbour.example": {"key": "harbour.example", "name": "Harbour Media", "articleCount": 2,
                            "names": ["Harbour Radio", "Harbour Radio Podcasts"],
                            "images": [{"url": "https://img.example/harbour-radio.png"}]},
        "quay.example": {"key": "quay.example", "name": "Quay Daily", "names": ["Quay Daily"], "articleCount": 1,
                         "images": [{"url": "https://img.example/quay-daily.png"}]},
        # Names differing in case only are one provider, named as most articles name it.
        "tube.example/first-channel": {"key": "tube.example/first-channel", "name": "First Channel",
                                       "names": ["First Channel", "first channel"], "articleCount": 2,
                                       "images": [{"url": "https://img.example/first-channel.png"}]},
        "tube.example/second-channel": {"key": "tube.example/second-channel", "name": "Second Channel",
                                        "names": ["Second Channel"], "articleCount": 1,
                                        "images": [{"url": "https://img.example/second-channel.png"}]},
        # Named by a related item only: a provider too, with no article.
        "tube.example/third-channel": {"key": "tube.example/third-channel", "name": "Third Channel",
                                       "names": ["Third Channel"], "articleCount": 0, "images": []},
    }
    preview = {n["key"]: n["articleCount"] for n in platform(PROVIDERS, preview=True)["providers"]["nodes"]}
    assert preview["quay.example"] == 2  # the unpublished name joins the one provider
    assert preview["hidden.example/hidden-one"] == preview["hidden.example/hidden-two"] == 1
    related = platform('{ article(id: "news/a1") { related { provider { key } providerName } } }')
    assert related["article"]["related"] == [{"provider": {"key": "tube.example/third-channel"},
                                              "providerName": "Third Channel"}]


@pytest.mark.parametrize("field", ["providers", "topics"])
@pytest.mark.parametrize("args", ["first: 101", "first: -1", 'after: "not a cursor"'])
def test_sidebar_lists_keep_the_page_limits_of_articles(gql, field, args):
    want = gql.raw(f"{{ articles({args}) {{ totalCount }} }}")["errors"][0]
    (error,) = gql.raw(f"{{ {field}({args}) {{ totalCount }} }}")["errors"]
    assert error["extensions"]["code"] == want["extensions"]["code"] == "BAD_USER_INPUT"
    assert ("100" in error["message"]) == ("100" in want["message"])


@pytest.mark.parametrize("field, args", [
    ("providers", ""),
    ("providers", ", where: {hasArticles: true}, orderBy: [{field: ARTICLE_COUNT}]"),
    ("topics", ", orderBy: [{field: NAME, direction: DESC}]"),
])
def test_sidebar_lists_page_backwards_with_edges(gql, field, args):
    key = "key" if field == "providers" else "slug"
    forwards = _walk(gql, field, args, fields=key)
    query = f"""query($before: String) {{ {field}(last: 4, before: $before{args}) {{
                totalCount pageInfo {{ hasPreviousPage startCursor }} edges {{ cursor node {{ {key} }} }} }} }}"""
    backwards, before = [], None
    for _ in range(200):
        got = gql(query, {"before": before})[field]
        assert got["totalCount"] == len(forwards)
        backwards = [e["node"] for e in got["edges"]] + backwards
        if not got["pageInfo"]["hasPreviousPage"]:
            break
        before = got["pageInfo"]["startCursor"]
        assert before == got["edges"][0]["cursor"]
    assert backwards == forwards and len(forwards) > 4
