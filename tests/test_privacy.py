"""Unpublished articles reach no public answer.

The strongest check is differential: the corpus is copied with every
unpublished file deleted (found with plain PyYAML, tests/independent.py), and
each public answer on the real corpus must equal the same answer on the
copy. An unpublished article that shaped a count, a facet, a provider's name,
a search score or a cursor would make the two differ. The preview token then
shows the hidden articles are really there (so the checks are not vacuous),
and the HTTP layer is checked for tokens and cache separation.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph.state import DataHolder
from store.db import Store
from store.ingest import load
from tests.conftest import AZURE, POWER_APPS, SEED, TOKEN, GQL, make_client
from tests.independent import front_matter, slug, visible

SITES = (POWER_APPS, AZURE, SEED)
TEXT_SUFFIXES = {".md", ".markdown", ".html", ".txt"}


def _hidden_files(site: Path) -> list[Path]:
    """Front-matter files that say published: false (or removed: true)."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        if not path.read_bytes().lstrip(b"\xef\xbb\xbf").startswith(b"---"):
            continue
        data, _ = front_matter(path)
        if not visible(data):
            found.append(path)
    return found


def _article_id(site: Path, path: Path) -> str:
    rel = path.relative_to(site)
    return f"{rel.parts[0].lstrip('_')}/{Path(*rel.parts[1:]).with_suffix('').as_posix()}"


HIDDEN = {_article_id(site, p): front_matter(p)[0] for site in SITES for p in _hidden_files(site)}


@pytest.fixture(scope="module")
def stripped(tmp_path_factory) -> GQL:
    """The corpus without its unpublished files, served the same way."""
    root = tmp_path_factory.mktemp("stripped")
    copies = []
    for site in SITES:
        copy = root / site.name
        shutil.copytree(site, copy)
        for path in _hidden_files(copy):
            path.unlink()
        copies.append(copy)
    db = root / "stripped.json"
    report = load(Store(db), copies)
    assert report.ok, report.rejected
    with make_client(DataHolder(Store(db))) as client:
        yield GQL(client)


def test_the_corpus_has_unpublished_articles_and_preview_sees_them(gql):
    assert len(HIDDEN) > 50, "the corpus should hold many unpublished articles"
    found = gql("query($ids: [ID!]) { articles(first: 100, where: {id: {in: $ids}}) { totalCount } }",
                {"ids": sorted(HIDDEN)}, preview=True)
    assert found["articles"]["totalCount"] == len(HIDDEN)
    public = gql("query($ids: [ID!]) { articles(first: 100, where: {id: {in: $ids}}) { totalCount } }",
                 {"ids": sorted(HIDDEN)})
    assert public["articles"]["totalCount"] == 0


def test_lookups_by_id_url_and_node_find_nothing(gql):
    query = """query($id: ID!, $url: String!) {
      article(id: $id) { id } node(id: $id) { id } byUrl: article(url: $url) { id } }"""
    checked = 0
    for ident, data in sorted(HIDDEN.items()):
        for key in ("webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl"):
            if not data.get(key):
                continue
            variables = {"id": ident, "url": data[key]}
            assert gql(query, variables) == {"article": None, "node": None, "byUrl": None}, ident
            seen = gql(query, variables, preview=True)
            assert seen["article"]["id"] == seen["node"]["id"] == ident
            assert seen["byUrl"] is not None  # some article answers to that URL in preview
            checked += 1
    assert checked > 50


def _walk(gql: GQL, query: str, variables: dict | None = None, path=("articles",)) -> list[dict]:
    """Every edge of a connection, following endCursor."""
    edges, after = [], None
    while True:
        data = gql(query, {**(variables or {}), "after": after})
        for key in path:
            data = data[key]
        edges.extend(data["edges"])
        if not data["pageInfo"]["hasNextPage"]:
            return edges
        after = data["pageInfo"]["endCursor"]


LISTING = """query($after: String, $order: [ArticleOrder!], $where: ArticleWhere) {
  articles(first: 100, after: $after, orderBy: $order, where: $where) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id title } }
  }
}"""

ORDERS = [None, [{"field": "TITLE", "direction": "ASC"}], [{"field": "HEAT", "direction": "DESC"}],
          [{"field": "QUALITY", "direction": "ASC"}, {"field": "PUBLISHED_AT", "direction": "ASC"}]]


@pytest.mark.parametrize("order", ORDERS, ids=["default", "title", "heat", "quality-date"])
def test_listings_and_cursors_equal_the_corpus_without_unpublished_files(gql, stripped, order):
    full = _walk(gql, LISTING, {"order": order})
    assert full == _walk(stripped, LISTING, {"order": order})
    assert not {e["node"]["id"] for e in full} & HIDDEN.keys()


@pytest.mark.parametrize("where", [{"published": False}, {"NOT": {"published": True}},
                                   {"collection": {"eq": "learning"}},
                                   {"topics": {"some": ["compute", "iot", "devops"]}}])
def test_filters_cannot_reach_unpublished_articles(gql, stripped, where):
    assert _walk(gql, LISTING, {"where": where}) == _walk(stripped, LISTING, {"where": where})


def _preview_cursor(gql: GQL, ident: str, order) -> str:
    data = gql("""query($id: ID!, $order: [ArticleOrder!]) {
      articles(first: 1, orderBy: $order, where: {id: {eq: $id}}) { edges { cursor } } }""",
               {"id": ident, "order": order}, preview=True)
    return data["articles"]["edges"][0]["cursor"]


@pytest.mark.parametrize("order", ORDERS, ids=["default", "title", "heat", "quality-date"])
def test_a_cursor_of_an_unpublished_article_reveals_nothing(gql, stripped, order):
    """A cursor taken from a preview answer (or crafted alike) only marks a
    position: the public answer is the one for a store without the article."""
    query = """query($after: String, $before: String, $order: [ArticleOrder!]) {
      next: articles(first: 3, after: $after, orderBy: $order) { edges { cursor node { id } } pageInfo { hasPreviousPage hasNextPage } }
      prev: articles(last: 3, before: $before, orderBy: $order) { edges { cursor node { id } } pageInfo { hasPreviousPage hasNextPage } }
    }"""
    for ident in sorted(HIDDEN)[::9]:
        cursor = _preview_cursor(gql, ident, order)
        variables = {"after": cursor, "before": cursor, "order": order}
        answer = gql(query, variables)
        assert answer == stripped(query, variables), ident
        assert ident not in str(answer)


def test_search_and_text_filter_equal_the_corpus_without_unpublished_files(gql, stripped):
    query = """query($q: String!, $after: String) {
      search(query: $q, first: 50, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor score node { id } } }
      articles(first: 50, where: {text: $q}) { totalCount nodes { id } }
    }"""
    words = ["power", "azure", "microsoft", "data", "cloud", "teams", "app*"]
    titles = [data["title"] for data in HIDDEN.values() if isinstance(data.get("title"), str)]
    phrases = [f'"{" ".join(t.split()[:4])}"' for t in titles[:10]] + [t.split()[0] for t in titles[:10]]
    hits_in_preview = 0
    for term in words + phrases:
        full, bare = gql(query, {"q": term}), stripped(query, {"q": term})
        assert full == bare, term
        assert not {e["node"]["id"] for e in full["search"]["edges"]} & HIDDEN.keys()
        preview = gql(query, {"q": term}, preview=True)
        hits_in_preview += bool({e["node"]["id"] for e in preview["search"]["edges"]} & HIDDEN.keys())
    assert hits_in_preview >= 10  # the phrases do find the hidden articles with the token


def test_search_cursor_of_an_unpublished_article_reveals_nothing(gql, stripped):
    query = """query($q: String!, $after: String) {
      search(query: $q, first: 5, after: $after) { edges { score node { id } } } }"""
    preview = gql("""{ search(query: "microsoft", first: 100) { edges { cursor node { id } } } }""",
                  preview=True)
    cursors = [e["cursor"] for e in preview["search"]["edges"] if e["node"]["id"] in HIDDEN]
    assert cursors
    for cursor in cursors:
        variables = {"q": "microsoft", "after": cursor}
        assert gql(query, variables) == stripped(query, variables)


COUNTS = """{
  stats { articles providers topics relatedItems collections { value count } sites people events }
  facets { total topics { value label count } providers { value label count }
           types { value count } months { value count } tags { value count } sites { value label count } }
  sites { name articleCount collections { name declared articleCount } }
  all: facets(where: {published: false}) { total }
}"""


def test_counts_and_facets_equal_the_corpus_without_unpublished_files(gql, stripped):
    full = gql(COUNTS)
    assert full == stripped(COUNTS)
    assert full["all"]["total"] == 0
    seen = gql(COUNTS, preview=True)
    assert seen["stats"]["articles"] == full["stats"]["articles"] + len(HIDDEN)


PROVIDERS = """query($after: String) {
  providers(first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges: nodes { id domain name names description images { url } articleCount
                   articles(first: 100) { totalCount nodes { id } } }
  }
}"""
TOPICS = """query($after: String) {
  topics(first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges: nodes { id slug name keywords articleCount articles(first: 100) { totalCount nodes { id } } }
  }
}"""


def test_providers_and_topics_equal_the_corpus_without_unpublished_files(gql, stripped):
    """Names, images and counts: no provider or topic is shaped (or only
    known) through an unpublished article."""
    for query, path in ((PROVIDERS, ("providers",)), (TOPICS, ("topics",))):
        assert _walk(gql, query, path=path) == _walk(stripped, query, path=path)


SIDEBAR = """query($after: String, $order: [ListOrder!]) {
  providers(first: 100, after: $after, where: {hasArticles: true}, orderBy: $order) {
    totalCount pageInfo { hasNextPage endCursor } edges: nodes { key name articleCount } }
}"""
TOPIC_SIDEBAR = SIDEBAR.replace("providers(", "topics(").replace("key name", "slug name")
PEOPLE = """query($after: String) {
  people(first: 2, after: $after, orderBy: [{field: FOLLOWERS}]) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name affiliation { key name names articleCount } followers } } }
}"""
LINKS = """query($after: String) {
  articles(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id items { id } playlists { id } person { id } event { id } } } }
}"""


@pytest.mark.parametrize("order", [None, [{"field": "ARTICLE_COUNT"}], [{"field": "NAME", "direction": "DESC"}]],
                         ids=["key", "count", "name"])
def test_sidebar_lists_equal_the_corpus_without_unpublished_files(gql, stripped, order):
    for query, path in ((SIDEBAR, ("providers",)), (TOPIC_SIDEBAR, ("topics",))):
        full = _walk(gql, query, {"order": order}, path=path)
        assert full and full == _walk(stripped, query, {"order": order}, path=path)


def test_people_and_playlists_equal_the_corpus_without_unpublished_files(gql, stripped):
    assert _walk(gql, PEOPLE, path=("people",)) == _walk(stripped, PEOPLE, path=("people",))
    full = _walk(gql, LINKS)
    assert full == _walk(stripped, LINKS)
    listed = {i["id"] for e in full for i in e["node"]["items"] + e["node"]["playlists"]}
    assert listed and not listed & HIDDEN.keys()
    # The hidden playlists and items are there for the preview.
    seen = _walk(gql, LINKS.replace("articles(", "articles(where: {published: false}, "))
    assert seen == []
    preview = gql('{ articles(first: 100, where: {published: false, type: {eq: "collection"}}) { nodes { items { id } } } }',
                  preview=True)
    assert any(n["items"] for n in preview["articles"]["nodes"])


def test_lookups_of_providers_and_topics_named_by_unpublished_articles(gql, stripped):
    named = sorted({((d.get("provider") or {}).get("domain", "").lower(), (d.get("provider") or {}).get("name"))
                    for d in HIDDEN.values()} - {("", None)}, key=str)
    topics = sorted({t for d in HIDDEN.values() for t in d.get("topics") or ()})
    assert named and topics
    # Every provider of the domain, the one of the name, and the ids either
    # corpus gives: an unpublished article may neither add a provider, nor
    # split a domain into one per name, nor rename one.
    provider = """query($domain: String!, $name: String, $node: ID!) {
      providers(where: {domain: {eq: $domain}}) { nodes { id key name names articleCount } }
      provider(domain: $domain, name: $name) { key name names articleCount }
      byNode: node(id: $node) { id } }"""
    for domain, name in named:
        for node in {f"provider:{domain}", f"provider:{domain}/{slug(name or '')}"}:
            variables = {"domain": domain, "name": name, "node": node}
            assert gql(provider, variables) == stripped(provider, variables), (domain, name)
    topic = "query($name: String!) { topic(name: $name) { slug name articleCount } }"
    for name in topics:
        assert gql(topic, {"name": name}) == stripped(topic, {"name": name}), name


RELATED = """query($after: String) {
  articles(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id related { url article { id } } relatedFrom { id } } }
  }
}"""


def test_related_links_equal_the_corpus_without_unpublished_files(gql, stripped):
    full = _walk(gql, RELATED)
    assert full == _walk(stripped, RELATED)
    # The related items that point at a hidden article are still listed
    # (they are the visible article's content) but lead nowhere.
    hidden_urls = {d["webUrl"] for d in HIDDEN.values() if d.get("webUrl")}
    dangling = [item for edge in full for item in edge["node"]["related"] if item["url"] in hidden_urls]
    assert dangling and all(item["article"] is None for item in dangling)


def test_preview_sees_the_links_to_unpublished_articles(gql):
    hidden_urls = {d["webUrl"] for d in HIDDEN.values() if d.get("webUrl")}
    data = gql("""{ articles(first: 100, where: {hasRelated: true}) {
                    nodes { related { url article { id published } } } } }""", preview=True)
    linked = [item["article"] for node in data["articles"]["nodes"] for item in node["related"]
              if item["url"] in hidden_urls]
    assert linked and all(a is not None and a["published"] is False for a in linked)


def test_healthz_counts_only_published_articles(client, gql):
    assert client.get("/healthz").json()["counts"]["articles"] == gql("{ stats { articles } }")["stats"]["articles"]


# --- the preview token over HTTP ------------------------------------------------

QUERY = '{ articles(first: 100, where: {published: false}) { totalCount nodes { id } } }'


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer ", "Bearer", f"Basic {TOKEN}",
                                    f"Bearer {TOKEN[:-1]}", b"Bearer \xe9t\xe9", "token"])
def test_a_wrong_token_is_refused_not_treated_as_anonymous(client, header):
    response = client.post("/graphql", json={"query": QUERY}, headers={"Authorization": header})
    assert response.status_code == 401
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = client.get("/graphql", params={"query": QUERY}, headers={"Authorization": header})
    assert response.status_code == 401


def test_any_token_is_refused_when_the_server_has_none(corpus_holder):
    with make_client(corpus_holder, preview_token=None) as plain:
        response = plain.post("/graphql", json={"query": QUERY}, headers={"Authorization": "Bearer "})
        assert response.status_code == 401
        assert plain.post("/graphql", json={"query": QUERY}).json()["data"]["articles"]["totalCount"] == 0


def test_the_token_is_compared_in_constant_time(client, monkeypatch):
    import graph.http

    calls = []
    real = graph.http.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(graph.http.hmac, "compare_digest", spy)
    assert client.post("/graphql", json={"query": QUERY},
                       headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.post("/graphql", json={"query": QUERY},
                       headers={"Authorization": "Bearer nope"}).status_code == 401
    assert len(calls) == 2


def _count(response) -> int:
    assert response.status_code == 200, response.text
    return response.json()["data"]["articles"]["totalCount"]


@pytest.mark.parametrize("first", ["preview", "public"])
def test_the_response_cache_never_crosses_audiences(corpus_holder, first):
    """Whichever audience asks first, the other gets its own answer."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with make_client(corpus_holder) as fresh:
        query = {"query": QUERY + f" # {first}"}  # a text of its own: a cold cache
        order = [auth, {}] if first == "preview" else [{}, auth]
        answers = [_count(fresh.post("/graphql", json=query, headers=h)) for h in order * 2]
        public = [a for a, h in zip(answers, order * 2) if not h]
        preview = [a for a, h in zip(answers, order * 2) if h]
        assert public == [0, 0]
        assert preview == [len(HIDDEN)] * 2
        # GET answers are cached (and ETagged) per audience as well.
        get = [fresh.get("/graphql", params=query, headers=h) for h in order]
        assert [_count(r) for r in get] == [preview[0] if h else 0 for h in order]
        tags = {r.headers["etag"] for r in get}
        assert len(tags) == 2
        preview_tag = get[order.index(auth)].headers["etag"]
        assert get[order.index(auth)].headers["cache-control"].startswith("private")
        assert all(r.headers["vary"] == "Authorization, Accept" for r in get)
        # A public request that presents the preview answer's ETag gets the public answer.
        again = fresh.get("/graphql", params=query, headers={"If-None-Match": preview_tag})
        assert again.status_code == 200 and _count(again) == 0


def test_batches_run_each_operation_as_the_same_audience(client):
    batch = [{"query": QUERY}, {"query": "{ stats { articles } }"}]
    public = client.post("/graphql", json=batch).json()
    preview = client.post("/graphql", json=batch, headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert public[0]["data"]["articles"]["totalCount"] == 0
    assert preview[0]["data"]["articles"]["totalCount"] == len(HIDDEN)
    assert preview[1]["data"]["stats"]["articles"] == public[1]["data"]["stats"]["articles"] + len(HIDDEN)


ARTICLE = """---
title: {title}
publishedDateTime: 2021-01-0{day}T00:00:00Z
{published}provider:
  name: {name}
  domain: x.com
{images}topics:
  - {topic}
related:
  - title: Elsewhere
    webUrl: https://y.com/{day}
    provider:
      name: {name} Y
      domain: y.com
---
body
"""


def test_what_only_unpublished_articles_say_about_a_provider_stays_hidden(tmp_path):
    """Two unpublished articles outvote the published one on the provider's
    name, bring its only logo and a topic spelling: none of it may show."""
    site = tmp_path / "site" / "_news"
    site.mkdir(parents=True)
    (site / "2021-01-01-public.md").write_text(ARTICLE.format(
        title="Public", day=1, published="", name="Public Name", images="", topic="Teams"))
    for day in (2, 3):
        (site / f"2021-01-0{day}-hidden.md").write_text(ARTICLE.format(
            title="Hidden", day=day, published="published: false\n", name="Secret Name",
            images="  images:\n    - url: https://secret.example/logo.png\n", topic="TEAMS"))
    query = """{ providers { nodes { domain name names images { url } } }
                 topics { nodes { slug name } } search(query: "secret") { totalCount }
                 articles { nodes { provider { name } related { provider { name } } } } }"""
    answers = []
    for keep_hidden in (True, False):
        if not keep_hidden:
            for path in site.glob("*-hidden.md"):
                path.unlink()
        db = tmp_path / f"store-{keep_hidden}.json"
        assert load(Store(db), [site.parent]).ok
        with make_client(DataHolder(Store(db))) as client:
            answers.append(GQL(client)(query))
            if keep_hidden:
                preview = GQL(client)(query, preview=True)
    assert answers[0] == answers[1]
    assert answers[0]["providers"]["nodes"][0]["name"] == "Public Name"
    assert answers[0]["search"]["totalCount"] == 0
    assert preview["search"]["totalCount"] == 2  # the hidden articles are there for preview
