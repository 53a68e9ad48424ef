"""Several sites in one store: each article keeps its site, ids never
collide, image URLs relative to a site are made absolute against its
address, tags are typed and filterable, and `url` falls back to the
original's address. Fixtures are small sites written here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from loaders import normalize
from store.db import Store
from store.ingest import load
from tests.sitebuilder import front, served, write_site

CONFIG_A = """
title: Harbour Notes
url: https://notes.example.org
baseurl: "/harbour"
collections:
  news:
    output: true
    title: Dispatches
  guides:
    output: false
"""

CONFIG_B = """
title: Orchard Weekly
url: https://orchard.example.net/
collections: [news, people]
"""

STORY = """
title: "{title}"
publishedDateTime: {date}
webUrl: {url}
provider:
  name: Pier Press
  domain: pier.example
  images:
    - url: /assets/img/pier-50x50.png
      width: 50
      height: 50
topics:
  - Tides
tags: {tags}
images:
  - url: /assets/img/{slug}.jpg
    width: 800
    height: 400
  - url: https://cdn.example.com/{slug}.jpg
  - url: //cdn.example.com/protocol-relative.jpg
related:
  - title: Elsewhere
    webUrl: https://elsewhere.example/a
    images:
      - url: /assets/img/related.jpg
"""


def story(title: str, date: str, url: str, slug: str, tags: str = "[]") -> str:
    return front(STORY.format(title=title, date=date, url=url, slug=slug, tags=tags))


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sites")
    a = write_site(root / "site-a", {
        "_config.yml": CONFIG_A,
        "_news/2024-03-01-low-tide.md": story("Low tide", "2024-03-01T08:00:00Z",
                                              "https://notes.example.org/low-tide", "low-tide",
                                              '["us-la", "CN", "uk", "Coastal", "us-la"]'),
        "_news/2024-03-02-shared-name.md": story("Harbour side", "2024-03-02T08:00:00Z",
                                                 "https://notes.example.org/shared", "shared-a", '["FR"]'),
        "_guides/mooring.md": front("""
            title: Mooring
            originalUrl: https://video.example/watch?v=abc
            type: video
            """),
        "_data/topics/tides.yaml": """
            name: Tides
            images:
              - /assets/img/topics/tides.png
            """,
        "_data/organizations/pier.example.md": front("""
            name: Pier Press
            domain: pier.example
            images:
              - url: /assets/img/organizations/pier.png
            """),
        "api/news/page/1/index.json": json.dumps({"page": 1, "nextPage": None, "value": [{
            "path": "_news/2024-03-05-api-only.md", "title": "Only in the API",
            "publishedDateTime": "2024-03-05T08:00:00Z", "webUrl": "https://notes.example.org/api-only",
            "tags": ["US-TX"], "images": [{"url": "/assets/img/api-only.jpg"}]}]}),
    })
    b = write_site(root / "site-b", {
        "_config.yml": CONFIG_B,
        # The same file name as site-a's: two articles, never a clash.
        "_news/2024-03-02-shared-name.md": story("Orchard side", "2024-03-02T09:00:00Z",
                                                 "https://orchard.example.net/shared", "shared-b",
                                                 '["CN"]'),
        "_news/2024-03-03-hidden.md": front("""
            title: Not yet
            published: false
            """),
        # The same organisation and topic as site a's: described together.
        "_data/organizations/pier.example.md": front("""
            name: Pier Press
            domain: pier.example
            description: A press on the pier.
            """),
        "_data/topics/tides.yaml": """
            name: Tides
            keywords: [tide, ebb]
            """,
    })
    return a, b


@pytest.fixture(scope="module")
def both(two_sites, tmp_path_factory):
    a, b = two_sites
    # The API-only item names a markdown file the site does not hold: a
    # stale item, served only when asked (tests/test_site_shapes.py).
    with served(tmp_path_factory.mktemp("db") / "news.json", a, b, keep_stale=True) as (report, gql):
        assert report.ok, report.rejected
        yield gql


ARTICLE = """query($id: ID!) { article(id: $id) {
  id url tags site { name title url baseUrl address }
  images { url path } provider { images { url path } }
  related { images { url path } } } }"""


def test_each_article_keeps_its_site_and_ids_never_collide(both):
    a = both(ARTICLE, {"id": "news/2024-03-02-shared-name"})["article"]
    b = both(ARTICLE, {"id": "orchard-weekly:news/2024-03-02-shared-name"})["article"]
    assert a["site"] == {"name": "harbour", "title": "Harbour Notes", "url": "https://notes.example.org",
                         "baseUrl": "/harbour", "address": "https://notes.example.org/harbour"}
    # Site b has no baseurl: its name comes from its title.
    assert b["site"] == {"name": "orchard-weekly", "title": "Orchard Weekly",
                         "url": "https://orchard.example.net/", "baseUrl": "",
                         "address": "https://orchard.example.net"}
    assert a["url"] == "https://notes.example.org/shared"
    assert b["url"] == "https://orchard.example.net/shared"


def test_image_urls_relative_to_the_site_are_made_absolute(both):
    got = both(ARTICLE, {"id": "news/2024-03-01-low-tide"})["article"]
    assert got["images"] == [
        {"url": "https://notes.example.org/harbour/assets/img/low-tide.jpg", "path": "/assets/img/low-tide.jpg"},
        {"url": "https://cdn.example.com/low-tide.jpg", "path": "https://cdn.example.com/low-tide.jpg"},
        {"url": "//cdn.example.com/protocol-relative.jpg", "path": "//cdn.example.com/protocol-relative.jpg"},
    ]
    # The organization file's image, its own site's address before it.
    assert got["provider"]["images"] == [{"url": "https://notes.example.org/harbour/assets/img/organizations/pier.png",
                                          "path": "/assets/img/organizations/pier.png"}]
    assert got["related"][0]["images"] == [{"url": "https://notes.example.org/harbour/assets/img/related.jpg",
                                            "path": "/assets/img/related.jpg"}]
    topic = both('{ topic(name: "Tides") { images { url path } } }')["topic"]
    assert topic["images"] == [{"url": "https://notes.example.org/harbour/assets/img/topics/tides.png",
                                "path": "/assets/img/topics/tides.png"}]
    api = both(ARTICLE, {"id": "news/2024-03-05-api-only"})["article"]
    assert api["images"] == [{"url": "https://notes.example.org/harbour/assets/img/api-only.jpg",
                              "path": "/assets/img/api-only.jpg"}]
    # Site b's copy of the same image path resolves against site b.
    b = both(ARTICLE, {"id": "orchard-weekly:news/2024-03-02-shared-name"})["article"]
    assert b["images"][0]["url"] == "https://orchard.example.net/assets/img/shared-b.jpg"


def test_url_falls_back_to_the_original(both):
    got = both('{ article(id: "guides/mooring") { url originalUrl } }')["article"]
    assert got == {"url": "https://video.example/watch?v=abc", "originalUrl": "https://video.example/watch?v=abc"}
    found = both('{ article(url: "https://video.example/watch?v=abc") { id } }')["article"]
    assert found == {"id": "guides/mooring"}


def test_tags_are_typed_region_codes_in_upper_case(both):
    got = both(ARTICLE, {"id": "news/2024-03-01-low-tide"})["article"]
    assert got["tags"] == ["US-LA", "CN", "UK", "Coastal"]
    assert both(ARTICLE, {"id": "news/2024-03-05-api-only"})["article"]["tags"] == ["US-TX"]


@pytest.mark.parametrize("tags, ids", [
    ({"some": ["cn"]}, ["orchard-weekly:news/2024-03-02-shared-name", "news/2024-03-01-low-tide"]),
    ({"some": ["FR", "US-TX"]}, ["news/2024-03-05-api-only", "news/2024-03-02-shared-name"]),
    ({"every": ["CN", "uk"]}, ["news/2024-03-01-low-tide"]),
    ({"every": ["coastal"], "none": ["FR"]}, ["news/2024-03-01-low-tide"]),
    ({"none": ["CN", "FR", "US-TX"]}, ["guides/mooring"]),
])
def test_tags_filter(both, tags, ids):
    got = both("query($w: ArticleWhere) { articles(where: $w) { nodes { id } } }", {"w": {"tags": tags}})
    assert [n["id"] for n in got["articles"]["nodes"]] == ids


@pytest.mark.parametrize("site, ids", [
    ({"name": {"eq": "orchard-weekly"}}, ["orchard-weekly:news/2024-03-02-shared-name"]),
    ({"title": {"contains": "harbour"}}, ["news/2024-03-05-api-only", "news/2024-03-02-shared-name",
                                          "news/2024-03-01-low-tide", "guides/mooring"]),
    ({"url": {"startsWith": "https://orchard."}}, ["orchard-weekly:news/2024-03-02-shared-name"]),
    ({"name": {"eq": "nowhere"}}, []),
])
def test_site_filter(both, site, ids):
    got = both("query($w: ArticleWhere) { articles(where: $w) { nodes { id } } }", {"w": {"site": site}})
    assert [n["id"] for n in got["articles"]["nodes"]] == ids


def test_sites_their_collections_and_facets(both):
    got = both("""{ sites { id name title articleCount
                      collections { name title output articleCount } }
                    site(name: "harbour") { articles(first: 2) { nodes { id } } }
                    stats { sites collections { value label count } }
                    facets { tags { value count } sites { value label count } collections { value label count } }
                    news: facets(where: {site: {name: {eq: "orchard-weekly"}}}) { collections { value label count } } }""")
    harbour, orchard = got["sites"]
    assert (harbour["id"], harbour["name"], harbour["articleCount"]) == ("site:harbour", "harbour", 4)
    assert harbour["collections"] == [
        {"name": "news", "title": "Dispatches", "output": True, "articleCount": 3},
        {"name": "guides", "title": None, "output": False, "articleCount": 1}]
    # The hidden article is not counted, nor any collection it fills.
    assert orchard["articleCount"] == 1
    assert orchard["collections"] == [{"name": "news", "title": None, "output": None, "articleCount": 1},
                                      {"name": "people", "title": None, "output": None, "articleCount": 0}]
    assert [n["id"] for n in got["site"]["articles"]["nodes"]] == ["news/2024-03-05-api-only",
                                                                   "news/2024-03-02-shared-name"]
    assert got["stats"]["sites"] == 2
    # Collections are labelled with the title a site's _config.yml gives
    # them: site a calls its news "Dispatches", and site b's news too.
    assert got["facets"]["collections"] == got["stats"]["collections"] == [
        {"value": "news", "label": "Dispatches", "count": 4}, {"value": "guides", "label": None, "count": 1}]
    assert got["news"]["collections"] == [{"value": "news", "label": "Dispatches", "count": 1}]
    assert got["facets"]["tags"] == [{"value": "CN", "count": 2}, {"value": "Coastal", "count": 1},
                                     {"value": "FR", "count": 1}, {"value": "UK", "count": 1},
                                     {"value": "US-LA", "count": 1}, {"value": "US-TX", "count": 1}]
    assert got["facets"]["sites"] == [{"value": "harbour", "label": "Harbour Notes", "count": 4},
                                      {"value": "orchard-weekly", "label": "Orchard Weekly", "count": 1}]
    node = both('{ node(id: "site:orchard-weekly") { ... on Site { title } } }')["node"]
    assert node == {"title": "Orchard Weekly"}


def test_a_site_with_only_unpublished_articles_is_not_shown(tmp_path):
    site = write_site(tmp_path / "quiet", {
        "_config.yml": "title: Quiet\nurl: https://quiet.example\n",
        "_news/a.md": front("title: Draft\npublished: false"),
    })
    with served(tmp_path / "db.json", site) as (report, gql):
        assert report.ok
        assert gql("{ sites { name } stats { sites } }") == {"sites": [], "stats": {"sites": 0}}
        assert gql("{ sites { name } }", preview=True) == {"sites": [{"name": "quiet"}]}


def test_a_site_keeps_its_ids_whatever_is_loaded_after_it(two_sites, tmp_path):
    a, b = two_sites
    db = tmp_path / "news.json"
    load(Store(db), [a])
    first = sorted(Store(db).read().articles)
    load(Store(db), [b])
    ids = sorted(Store(db).read().articles)
    assert set(first) <= set(ids)
    assert "orchard-weekly:news/2024-03-02-shared-name" in ids
    # Loading both again, in the other order, changes nobody's id.
    report = load(Store(db), [b, a])
    assert report.ok and sorted(Store(db).read().articles) == ids
    assert not any(report.added.values()) and not any(report.updated.values())
    # A store of site b alone gives it bare ids.
    alone = tmp_path / "alone.json"
    load(Store(alone), [b])
    assert sorted(Store(alone).read().articles) == ["news/2024-03-02-shared-name", "news/2024-03-03-hidden"]


def test_a_changed_configuration_is_a_new_data_version(tmp_path):
    site = write_site(tmp_path / "s", {"_config.yml": "title: Before\nurl: https://s.example\n",
                                       "_news/a.md": front("title: A\nimages:\n  - url: /i.png")})
    db = tmp_path / "db.json"
    first = load(Store(db), [site])
    (site / "_config.yml").write_text("title: After\nurl: https://t.example\n")
    second = load(Store(db), [site])
    assert second.written and second.data_version != first.data_version
    with served(db, site) as (_, gql):
        got = gql('{ article(id: "news/a") { site { title } images { url } } }')["article"]
    assert got == {"site": {"title": "After"}, "images": [{"url": "https://t.example/i.png"}]}


def test_a_broken_configuration_is_named_and_the_rest_loads(tmp_path):
    site = write_site(tmp_path / "s", {"_config.yml": "title: [unclosed\nurl: x\n",
                                       "_news/a.md": front("title: A")})
    report = load(Store(tmp_path / "db.json"), [site])
    (error,) = report.rejected
    assert error.path == "_config.yml" and error.line is not None and "invalid YAML" in error.reason
    assert list(Store(tmp_path / "db.json").read().articles) == ["news/a"]


def test_the_real_site_and_a_folder_without_configuration(gql):
    got = gql("""{ a: article(id: "news/2021-06-02-table-permissions-in-portals-studio") {
                     site { name title url baseUrl address webUrl topic
                            collections { name declared } } }
                   b: articles(first: 1, where: {site: {name: {eq: "microsoft-power-apps"}}, NOT: {collection: {in: ["news", "learning", "samples", "communities", "people", "newsletters"]}}}) { totalCount }
                   c: articles(where: {collection: {eq: "news"}, NOT: {site: {name: {eq: "microsoft-power-apps"}}}}) { totalCount nodes { site { name } } } }""")
    site = got["a"]["site"]
    assert site["name"] == "microsoft-power-apps" and site["title"] == "Power Apps Smartable"
    assert (site["url"], site["baseUrl"]) == ("https://smartableai.github.io", "/microsoft-power-apps")
    assert site["address"] == "https://smartableai.github.io/microsoft-power-apps"
    assert site["webUrl"] == "https://smartable.ai/apps/powerapps" and site["topic"] == "Power Apps"
    # Declared first, then the collections articles fill that _config.yml does not name.
    assert [(c["name"], c["declared"]) for c in site["collections"]] == [
        ("terms", True), ("sponsorships", True), ("posts", True), ("people", True), ("events", True),
        ("customers", True), ("newsletters", True),
        ("communities", False), ("learning", False), ("news", False), ("samples", False)]
    assert got["b"]["totalCount"] == 0
    # azure-sample and seed have no _config.yml: their articles have no site.
    assert got["c"]["totalCount"] > 0 and {n["site"] for n in got["c"]["nodes"]} == {None}


def test_tags_of_the_wrong_shape_are_named_with_their_line(tmp_path):
    site = write_site(tmp_path / "s", {"_news/a.md": front("title: A\ntags:\n  region: CN")})
    report = load(Store(tmp_path / "db.json"), [site])
    (error,) = report.rejected
    assert (error.path, error.line) == ("_news/a.md", 3) and "tags must be a list" in error.reason


def test_a_store_written_before_sites_were_kept_keeps_its_ids(two_sites, tmp_path, monkeypatch):
    a, b = two_sites
    db = tmp_path / "old.json"
    from store import sites
    with monkeypatch.context() as patch:  # the store as earlier versions wrote it: no sites
        patch.setattr(sites, "register", lambda known, configs: {})
        load(Store(db), [a])
    before = sorted(Store(db).read().articles)
    assert "sites" not in Store(db).read().meta and "news/2024-03-01-low-tide" in before
    # Site b comes first now, yet site a, already held, keeps its bare ids.
    report = load(Store(db), [b, a])
    assert report.ok, report.rejected
    ids = sorted(Store(db).read().articles)
    assert set(before) <= set(ids) and "orchard-weekly:news/2024-03-02-shared-name" in ids
    assert {n: e["prefix"] for n, e in ((e["name"], e) for e in Store(db).read().meta["sites"].values())} \
        == {"harbour": "", "orchard-weekly": "orchard-weekly:"}


def test_folders_without_configuration_do_not_take_a_sites_bare_ids(two_sites, tmp_path):
    a, _ = two_sites
    plain = write_site(tmp_path / "plain", {"_news/elsewhere.md": front("title: Elsewhere")})
    db = tmp_path / "db.json"
    load(Store(db), [plain])
    load(Store(db), [a])
    ids = sorted(Store(db).read().articles)
    assert "news/elsewhere" in ids and "news/2024-03-01-low-tide" in ids


def test_sites_describe_shared_organisations_and_topics_together(both):
    got = both("""{ providers(where: {domain: {eq: "pier.example"}}) { nodes { name description images { path } articleCount } }
                    topics(where: {slug: {eq: "tides"}}) { nodes { name keywords images { path } articleCount } } }""")
    assert got["providers"]["nodes"] == [{"name": "Pier Press", "description": "A press on the pier.",
                                          "images": [{"path": "/assets/img/organizations/pier.png"}],
                                          "articleCount": 3}]
    assert got["topics"]["nodes"] == [{"name": "Tides", "keywords": ["tide", "ebb"],
                                       "images": [{"path": "/assets/img/topics/tides.png"}], "articleCount": 3}]


def test_one_folder_describing_an_organisation_twice_is_still_named(tmp_path):
    site = write_site(tmp_path / "s", {
        "_data/organizations/a.md": front("name: A\ndomain: same.example"),
        "_data/organizations/b.md": front("name: B\ndomain: same.example"),
    })
    report = load(Store(tmp_path / "db.json"), [site])
    (error,) = report.rejected
    assert error.path == "_data/organizations/b.md" and "duplicate provider id 'same.example'" in error.reason


@pytest.mark.parametrize("kind", ["event", "person", "provider", "topic", "site"])
def test_a_site_named_like_a_kind_of_id_keeps_its_articles_reachable(tmp_path, kind):
    # node(id:) reads "event:...", "person:..." as those kinds: a site whose
    # name would be such a prefix takes another.
    first = write_site(tmp_path / "first", {"_config.yml": "title: First\nurl: https://first.example\n",
                                            "_news/a.md": front("title: A")})
    second = write_site(tmp_path / "second", {"_config.yml": f"title: {kind.title()}\nurl: https://second.example\n",
                                              "_news/a.md": front("title: B")})
    with served(tmp_path / "db.json", first, second) as (report, gql):
        assert report.ok, report.rejected
        got = gql('{ sites { name } articles { nodes { id title } } }')
        assert sorted(s["name"] for s in got["sites"]) == sorted(["first", f"{kind}-2"])
        ids = {n["title"]: n["id"] for n in got["articles"]["nodes"]}
        assert ids == {"A": "news/a", "B": f"{kind}-2:news/a"}
        for title, ident in ids.items():
            assert gql('query($id: ID!) { node(id: $id) { ... on Article { title } } }', {"id": ident}) \
                == {"node": {"title": title}}


@pytest.mark.parametrize("written, kept", [
    (["us-la", "Cn", "uk", "xk"], ["US-LA", "CN", "UK", "XK"]),
    # two letters that no region has are words, and keep their case
    (["go", "ux", "db", "ab-cd", "Coastal"], ["go", "ux", "db", "ab-cd", "Coastal"]),
    (["fr", "FR", "Fr"], ["FR"]),
])
def test_only_assigned_region_codes_are_upper_cased(written, kept):
    assert normalize.tags("tags", written) == kept
