"""Every shape a site of the family may hold, on a site written here: each
file is read as the family means it, field by field, and what the files
say is what the API answers. Site source that is not news data is skipped
and counted, never rejected."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.state import DataHolder
from store.db import Store
from store.ingest import load
from tests.conftest import GQL, make_client

OLD_POST = """---
category: news
title: "Harbor cranes go electric"
abstract: "A port swaps diesel cranes for battery ones."
publishedDateTime: 2019-07-09T08:30:00Z
sourceUrl: https://quayside.example/cranes
ampUrl: https://quayside.example/cranes?amp=1
cdnAmpUrl: https://quayside-example.cdn.example/c/s/quayside.example/cranes?amp=1
type: article
quality: 41
score: 41
published: true

provider:
  name: Quayside Weekly
  id: quayside.example

topics:
  - Electric Ports
---
"""

ARCHIVED = """---
category: news
title: "Tidal mills return"
abstract: ""
publishedDateTime: 2013-07-04T16:36:00Z
sourceUrl: https://millrace.example/tidal
type: article
score: 12
published: false

provider:
  name: Millrace
  id: millrace
---
"""

NEW_NEWS = """---
category: news
title: "Ferries learn to dock themselves"
excerpt: "Autonomous docking trials on a short crossing."
publishedDateTime: 2021-03-01T10:00:00Z
webUrl: "https://quayside.example/ferries"
originalUrl: "https://quayside.example/ferries?src=feed"
ampWebUrl: "https://quayside.example/ferries/amp"
type: article
heat: 70
tags:
  - NO
  - UK
provider:
  name: Quayside Weekly
  domain: quayside.example
topics:
  - Electric Ports
related:
%s
---
Body of the ferry story.
"""

VIDEO = """---
title: "Walking a container yard"
excerpt: ""
originalUrl: https://youtube.com/watch?v=yardwalk01
type: video
publishedDateTime: 2020-02-25T06:13:10-08:00
provider:
  name: Yard Cam
  domain: youtube.com
topics:
  - Electric Ports
---
"""

REMOVED = """---
title: "Withdrawn: crane strike"
excerpt: "Pulled by the editors."
webUrl: https://quayside.example/strike
publishedDateTime: 2021-01-02T00:00:00Z
removed: true
---
"""

TOPIC_TERM = """---
taxonomy: topic
_id: electric-ports
name: Electric Ports
parent: Shipping
keywords:
  - shore power
images:
  - https://harbor-notes.example/assets/images/electric-ports.jpg
services:
  news: https://harbor-notes.example/api/news/electric-ports/
---
"""

PROVIDER_TERM = """---
taxonomy: provider
_id: quayside.example
name: Quayside Weekly
images:
  - url: https://harbor-notes.example/logos/quayside.png
    width: 50
    height: 50
---
"""

ORGANIZATION_TERM = """---
taxonomy: organization
_id: millrace
name: Millrace
domain: millrace
description: A newsletter about water power.
---
"""


def _related(count: int) -> str:
    items = []
    for n in range(count):
        items.append(f"""  - title: "Related story {n}"
    excerpt: "Item {n} of a long list.{' One more sentence of it.' * 24}"
    publishedDateTime: 2020-01-01T00:00:{n % 60:02d}Z
    webUrl: https://elsewhere.example/story-{n}
    type: article
    provider:
      name: Elsewhere
      domain: elsewhere.example""")
    return "\n".join(items)


def _api_item(path: str, title: str, url: str, **more) -> dict:
    return {"path": path, "title": title, "excerpt": "From the API.", "heat": None, "tags": None,
            "type": "article", "webUrl": url, "ampWebUrl": None, "cdnAmpWebUrl": None,
            "publishedDateTime": "2021-03-01T10:00:00Z", "updatedDateTime": None,
            "provider": {"name": "Quayside Weekly", "domain": "quayside.example", "images": None,
                         "publishers": None, "authors": None},
            "images": None, "locale": "en-us", "categories": ["news"], "topics": ["Electric Ports"],
            **more}


def write_site(root: Path) -> Path:
    files = {
        "_config.yml": "title: Harbor Notes\nurl: https://harbor-notes.example\nbaseurl: \"\"\n",
        "_posts/2019-07-09-harbor-cranes-go-electric.md": OLD_POST,
        "_posts/_archive/2013-07-04-tidal-mills-return.md": ARCHIVED,
        "_news/2021-03-01-ferries-dock-themselves.md": NEW_NEWS % _related(180),
        "_news/2021-01-02-crane-strike.md": REMOVED,
        "_news/.keep": "",
        "_videos/yard-walk.md": VIDEO,
        "_terms/topics/electric-ports.md": TOPIC_TERM,
        "_terms/providers/quayside.example.md": PROVIDER_TERM,
        "_terms/organizations/millrace.md": ORGANIZATION_TERM,
        "_data/navigation.csv": "\ufefftitle,url\nHome,/\n",
        "_data/menu.yml": "- title: Home\n  url: /\n",
        "_data/topics/empty.yaml": "",
        "about.md": "---\nlayout: page\ntitle: About\n---\nAbout this site.\n",
        "index.html": "---\nlayout: home\n---\n{% for post in site.posts %}{{ post.title }}{% endfor %}\n",
        # The static API: a page, one article per file, the COVID-19 news shape.
        "api/news/page/1/index.json": json.dumps({"page": 1, "nextPage": None, "value": [
            _api_item("_news/2021-03-01-ferries-dock-themselves.md", "Ferries dock (API title)",
                      "https://quayside.example/ferries", heat=55),
            _api_item("_news/2020-12-01-gone-from-the-site.md", "An article whose file is gone",
                      "https://quayside.example/gone"),
        ]}, indent=2),
        "api/news/2021-03-01-ferries-dock-themselves/index.json": json.dumps(_api_item(
            "_news/2021-03-01-ferries-dock-themselves.md", "Ferries dock (API title)",
            "https://quayside.example/ferries",
            sourceUrl="https://harbor-notes.example/api/news/2021-03-01-ferries-dock-themselves/index.json",
            content="<p>From the API.</p>"), separators=(",", ":")),
        "api/covid/us-wa/index.json": json.dumps({
            "location": {"long": -120.5, "lat": 47.4, "isoCode": "US-WA", "countryOrRegion": "United States",
                         "provinceOrState": "Washington", "county": None},
            "updatedDateTime": "2020-05-12T09:45:10.1234567Z",
            "news": [{"path": "_news/2021-03-01-ferries-dock-themselves.md",
                      "title": "Ferries dock (COVID API title)", "excerpt": "", "heat": None,
                      "tags": ["US-WA"], "type": "article", "webUrl": "https://quayside.example/ferries",
                      "ampWebUrl": None, "cdnAmpWebUrl": None,
                      "publishedDateTime": "2021-03-01T10:00:00Z",
                      "updatedDateTime": "2021-03-02T11:00:00.1234567Z",
                      "provider": {"name": "Quayside Weekly", "domain": "quayside.example",
                                   "images": None, "publishers": None, "authors": None},
                      "images": None, "locale": "en-us", "categories": None, "topics": None}]}),
        "api/covid/us-ak/index.json": json.dumps({"location": {"isoCode": "US-AK"},
                                                  "updatedDateTime": "2020-05-12T09:45:10.1234567Z",
                                                  "news": []}),
        "api/fragments/hero/index.json": json.dumps({"path": "_includes/hero.html",
                                                     "content": "<section>Hero</section>"}),
        "api/sponsorships/today/index.json": "---\nlayout: none\n---\n{\"value\": [{% for s in site.sponsorships %}{{ s | jsonify }}{% endfor %}]}\n",
        "api/topics/index.json": "{\"value\": [{% for t in site.terms %}{{ t.name | jsonify }}{% endfor %}]}\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return write_site(tmp_path_factory.mktemp("shapes") / "harbor-notes")


@pytest.fixture(scope="module")
def loaded(site, tmp_path_factory):
    db = tmp_path_factory.mktemp("shapes-db") / "news.json"
    report = load(Store(db), [site])
    with make_client(DataHolder(Store(db))) as client:
        yield report, GQL(client), db


ARTICLE = """query($id: ID!) { article(id: $id) {
  id collection title excerpt url originalUrl ampUrl cdnAmpUrl publishedAt quality heat published type tags
  provider { domain name } topics { slug name } related { title url } body } }"""


def test_nothing_is_rejected_and_every_kind_of_file_is_counted(loaded):
    report, _, _ = loaded
    assert report.rejected == []
    assert report.warnings == []
    assert sorted(report.templates) == ["api/sponsorships/today/index.json", "api/topics/index.json"]
    skipped = dict(report.skipped)
    assert set(skipped) == {"_news/.keep", "_data/navigation.csv", "_data/menu.yml",
                            "_data/topics/empty.yaml", "about.md", "index.html",
                            "api/fragments/hero/index.json"}
    assert "web fragment" in skipped["api/fragments/hero/index.json"]
    assert report.stale == [("api/news/page/1/index.json", "_news/2020-12-01-gone-from-the-site.md")]
    # Articles: the old post, the archived one (unpublished), the news, the
    # removed one, the video; nothing from the pages, data or terms.
    assert (report.public, report.hidden) == (3, 2)
    assert report.added["article"] == 5
    assert report.added["topic"] == 1 and report.added["provider"] == 2


def test_an_older_generation_post_reads_its_aliases(loaded):
    _, gql, db = loaded
    got = gql(ARTICLE, {"id": "posts/2019-07-09-harbor-cranes-go-electric"})["article"]
    assert got["collection"] == "posts"
    assert got["title"] == "Harbor cranes go electric"
    assert got["excerpt"] == "A port swaps diesel cranes for battery ones."  # abstract
    assert got["url"] == "https://quayside.example/cranes"                  # sourceUrl
    assert got["ampUrl"] == "https://quayside.example/cranes?amp=1"          # ampUrl
    assert got["cdnAmpUrl"] == "https://quayside-example.cdn.example/c/s/quayside.example/cranes?amp=1"
    assert got["originalUrl"] is None
    assert got["quality"] == 41
    assert got["publishedAt"] == "2019-07-09T08:30:00Z"
    assert got["provider"] == {"domain": "quayside.example", "name": "Quayside Weekly"}  # id
    assert got["topics"] == [{"slug": "electric-ports", "name": "Electric Ports"}]
    record = Store(db).read().articles["posts/2019-07-09-harbor-cranes-go-electric"]
    assert record["extra"]["category"] == "news"  # one string, kept as it is
    # Each alias that gave a value leaves `extra`; `score` beside a `quality` stays.
    assert not {"abstract", "sourceUrl", "ampUrl", "cdnAmpUrl"} & set(record["extra"])
    assert record["extra"]["score"] == 41


def test_a_nested_posts_folder_and_score_standing_for_quality(loaded):
    _, gql, _ = loaded
    assert gql(ARTICLE, {"id": "posts/_archive/2013-07-04-tidal-mills-return"})["article"] is None
    got = gql(ARTICLE, {"id": "posts/_archive/2013-07-04-tidal-mills-return"}, preview=True)["article"]
    assert got["published"] is False
    assert got["quality"] == 12  # score, where there is no quality
    assert got["excerpt"] == ""
    assert got["provider"]["domain"] == "millrace"  # an id that is a name of its own


def test_the_markdown_wins_over_every_api_shape_and_keeps_its_related_list(loaded, site):
    _, gql, db = loaded
    got = gql(ARTICLE, {"id": "news/2021-03-01-ferries-dock-themselves"})["article"]
    assert got["title"] == "Ferries learn to dock themselves"
    assert got["url"] == "https://quayside.example/ferries"  # webUrl before originalUrl
    assert got["originalUrl"] == "https://quayside.example/ferries?src=feed"
    assert got["heat"] == 70
    assert got["tags"] == ["NO", "UK"]  # Norway, though YAML 1.1 reads a bare NO as false
    assert got["body"] == "Body of the ferry story.\n"
    assert len(got["related"]) == 180
    assert (site / "_news/2021-03-01-ferries-dock-themselves.md").stat().st_size > 140_000
    assert got["related"][179] == {"title": "Related story 179", "url": "https://elsewhere.example/story-179"}
    record = Store(db).read().articles["news/2021-03-01-ferries-dock-themselves"]
    assert record["sources"] == ["_news/2021-03-01-ferries-dock-themselves.md",
                                 "api/covid/us-wa/index.json",
                                 "api/news/2021-03-01-ferries-dock-themselves/index.json",
                                 "api/news/page/1/index.json"]
    # What only the API says is kept, with the .NET date as the file spells it.
    assert record["extra"]["updatedDateTime"] == "2021-03-02T11:00:00.1234567Z"
    assert record["extra"]["sourceUrl"].endswith("/api/news/2021-03-01-ferries-dock-themselves/index.json")


def test_a_news_feed_gives_its_items_its_location(loaded):
    _, gql, _ = loaded
    query = """query($where: ArticleWhere) { articles(where: $where) { nodes { id
      locations { isoCode countryOrRegion provinceOrState county lat long } } } }"""
    washington = {"isoCode": "US-WA", "countryOrRegion": "United States", "provinceOrState": "Washington",
                  "county": None, "lat": 47.4, "long": -120.5}
    for where in ({"locations": {"isoCode": {"eq": "US-WA"}}},
                  {"locations": {"provinceOrState": {"contains": "washing"}, "countryOrRegion": {"eq": "United States"}}},
                  {"locations": {}}):
        assert gql(query, {"where": where})["articles"]["nodes"] == \
            [{"id": "news/2021-03-01-ferries-dock-themselves", "locations": [washington]}], where
    for where in ({"locations": {"isoCode": {"eq": "US-AK"}}},  # a feed that lists nothing
                  {"locations": {"isoCode": {"eq": "US-WA"}, "county": {"eq": "King"}}}):
        assert gql(query, {"where": where})["articles"]["nodes"] == [], where
    others = gql(query, {"where": {"NOT": {"locations": {}}}})["articles"]["nodes"]
    assert len(others) == 2 and all(node["locations"] == [] for node in others)
    inline = '{ articles(where: {locations: {isoCode: {in: ["US-AK", "US-WA"]}}}) { totalCount } }'
    assert gql(inline)["articles"]["totalCount"] == 1


def test_a_video_with_only_an_original_url_has_that_url(loaded):
    _, gql, _ = loaded
    got = gql(ARTICLE, {"id": "videos/yard-walk"})["article"]
    assert got["url"] == got["originalUrl"] == "https://youtube.com/watch?v=yardwalk01"
    assert got["type"] == "video"
    assert got["publishedAt"] == "2020-02-25T14:13:10Z"
    assert gql('query($u: String!) { article(url: $u) { id } }',
               {"u": "https://youtube.com/watch?v=yardwalk01"})["article"] == {"id": "videos/yard-walk"}


def test_removed_is_hidden(loaded):
    _, gql, _ = loaded
    assert gql(ARTICLE, {"id": "news/2021-01-02-crane-strike"})["article"] is None
    assert gql(ARTICLE, {"id": "news/2021-01-02-crane-strike"}, preview=True)["article"]["title"] \
        == "Withdrawn: crane strike"


def test_terms_are_topics_and_providers_never_articles(loaded):
    _, gql, db = loaded
    ids = [n["id"] for n in gql("{ articles(first: 100) { nodes { id } } }", preview=True)
           ["articles"]["nodes"]]
    assert not [i for i in ids if i.startswith(("terms/", "data/", "pages/")) or "about" in i]
    topic = gql('{ topic(slug: "electric-ports") { name keywords articleCount images { url } } }')["topic"]
    assert topic == {"name": "Electric Ports", "keywords": ["shore power"], "articleCount": 3,
                     "images": [{"url": "https://harbor-notes.example/assets/images/electric-ports.jpg"}]}
    record = Store(db).read().topics["electric-ports"]
    assert (record["extra"]["_id"], record["extra"]["parent"], record["extra"]["taxonomy"]) \
        == ("electric-ports", "Shipping", "topic")
    assert record["extra"]["services"] == {"news": "https://harbor-notes.example/api/news/electric-ports/"}
    provider = gql('{ provider(domain: "quayside.example") { name images { url } } }')["provider"]
    assert provider == {"name": "Quayside Weekly",
                        "images": [{"url": "https://harbor-notes.example/logos/quayside.png"}]}
    org = gql('{ provider(domain: "millrace") { name description } }')["provider"]
    assert org == {"name": "Millrace", "description": "A newsletter about water power."}


def test_a_stale_api_item_is_not_served_unless_asked(loaded, site, tmp_path):
    _, gql, _ = loaded
    assert gql('{ article(id: "news/2020-12-01-gone-from-the-site") { id } }', preview=True)["article"] is None
    db = tmp_path / "kept.json"
    report = load(Store(db), [site], keep_stale=True)
    assert report.stale == [("api/news/page/1/index.json", "_news/2020-12-01-gone-from-the-site.md")]
    record = Store(db).read().articles["news/2020-12-01-gone-from-the-site"]
    assert record["title"] == "An article whose file is gone"


def test_a_second_load_counts_the_same(loaded, site):
    first, _, db = loaded
    again = load(Store(db), [site])
    assert not any(again.added.values()) and not any(again.updated.values())
    assert sorted(again.templates) == sorted(first.templates)
    assert sorted(again.skipped) == sorted(first.skipped)
    assert again.stale == first.stale
    assert (again.public, again.hidden) == (first.public, first.hidden)


@pytest.mark.parametrize("watching", [False, True], ids=["load", "watch"])
def test_a_deleted_article_goes_away_though_an_old_api_page_lists_it(site, tmp_path, watching):
    db = tmp_path / "news.json"
    load(Store(db), [site])
    news = site / "_news" / "2021-03-01-ferries-dock-themselves.md"
    text = news.read_text(encoding="utf-8")
    news.unlink()
    # `load --watch --prune` is told which path changed, and looks at nothing else.
    told = {"changed": [str(news)]} if watching else {}
    try:
        report = load(Store(db), [site], prune=True, **told)
        assert "news/2021-03-01-ferries-dock-themselves" not in Store(db).read().articles
        assert report.removed["article"] == 1
        assert ("api/news/page/1/index.json", "_news/2021-03-01-ferries-dock-themselves.md") in report.stale
    finally:
        news.write_text(text, encoding="utf-8")
    report = load(Store(db), [site], prune=True, **told)
    back = Store(db).read().articles["news/2021-03-01-ferries-dock-themselves"]
    assert back["title"] == "Ferries learn to dock themselves"
    assert len(back["sources"]) == 4  # the API files count again, as in a first load
    assert report.added["article"] == 1


def test_json_outside_the_api_is_the_site_s_own_source(tmp_path):
    site = tmp_path / "site"
    files = {
        "_config.yml": "title: Sources\n",
        "tsconfig.json": "{\n  // comments, which JSON refuses\n  \"compilerOptions\": {\"strict\": true},\n}\n",
        "src/fixtures/sample.json": json.dumps({"title": "A sample", "webUrl": "https://s.example/1"}),
        "feed.json": "---\nlayout: none\n---\n{\"items\": [{% for p in site.posts %}{{ p.title | jsonify }}{% endfor %}]}\n",
        "_data/settings.json": "{\"theme\": \"dark\",}",
        "api/news/index.json": json.dumps({"value": [{"title": "Served", "webUrl": "https://s.example/2"}]}),
    }
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    db = tmp_path / "news.json"
    report = load(Store(db), [site])
    assert report.rejected == []
    assert report.templates == ["feed.json"]
    assert sorted(path for path, _ in report.skipped) == ["_data/settings.json", "src/fixtures/sample.json",
                                                        "tsconfig.json"]
    assert [a["title"] for a in Store(db).read().articles.values()] == ["Served"]


def test_an_api_item_s_path_is_a_path_inside_the_site(tmp_path):
    site = tmp_path / "site"
    (site / "_news").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Paths\n", encoding="utf-8")
    (site / "_news" / "a.md").write_text("---\ntitle: From the markdown\n---\n", encoding="utf-8")
    item = {"excerpt": "e", "webUrl": "https://p.example/1", "publishedDateTime": "2021-05-01T00:00:00Z"}
    page = {"value": [{**item, "title": "Site-absolute", "path": "/_news/a.md"},
                      {**item, "title": "Leaves the site", "path": "../../outside/b.md"},
                      {**item, "title": "Dotted", "path": "_news/./c.md"}]}
    (site / "api").mkdir()
    (site / "api" / "index.json").write_text(json.dumps(page), encoding="utf-8")
    db = tmp_path / "news.json"
    report = load(Store(db), [site], keep_stale=True)
    assert report.rejected == [] and report.stale == [("api/index.json", "_news/c.md")]
    articles = Store(db).read().articles
    assert articles["news/a"]["title"] == "From the markdown"  # the API item merged with it
    assert set(articles) == {"news/a", "news/c", "news/2021-05-01-leaves-the-site"}
