"""The real corpus through the whole path: files -> store -> read model ->
GraphQL, compared with an independent PyYAML reading of the same files."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import AZURE, POWER_APPS, SEED
from tests.independent import front_matter, iso, slug, visible

NEWS = sorted((POWER_APPS / "_news").glob("*.md")) + sorted((AZURE / "_news").glob("*.md"))

ARTICLE = """
query One($id: ID!) {
  article(id: $id) {
    id title excerpt url originalUrl ampUrl cdnAmpUrl publishedAt quality heat published type
    featuredContent collection
    provider { domain } providerName
    topics { slug name }
    images { url path width height title isCached }
    related {
      title excerpt url ampUrl cdnAmpUrl publishedAt type quality providerName
      provider { domain } images { url path width height title isCached }
    }
    source { path loader }
  }
}
"""


# Where each site is served (its _config.yml's url and baseurl): the other
# folders of the corpus have no _config.yml, so their URLs stay as given.
ADDRESS = {POWER_APPS: "https://smartableai.github.io/microsoft-power-apps"}


def _image(raw: dict, site: Path) -> dict:
    url = raw["url"]
    if url.startswith("/") and not url.startswith("//") and site in ADDRESS:
        url = ADDRESS[site] + url
    return {"url": url, "path": raw["url"], "width": raw.get("width"), "height": raw.get("height"),
            "title": raw.get("title"), "isCached": raw.get("isCached")}


def _first(data: dict, *keys):
    """The first of ``keys`` present: `url` is webUrl, else sourceUrl, else originalUrl."""
    return next((data[k] for k in keys if data.get(k) is not None), None)


URLS = ("webUrl", "sourceUrl", "originalUrl")


def _expected(path: Path) -> dict:
    data, _ = front_matter(path)
    site = path.parent.parent
    provider = data.get("provider") or {}
    return {
        "id": f"news/{path.stem}",
        "title": data["title"],
        "excerpt": data.get("excerpt"),
        "url": _first(data, *URLS),
        "originalUrl": data.get("originalUrl"),
        "ampUrl": data.get("ampWebUrl"),
        "cdnAmpUrl": data.get("cdnAmpWebUrl"),
        "publishedAt": iso(data.get("publishedDateTime")),
        "quality": data.get("quality"),
        "heat": data.get("heat"),
        "published": data.get("published", True),
        "type": data.get("type") or "article",
        "featuredContent": data.get("featuredContent"),
        "collection": "news",
        "provider": {"domain": provider["domain"].lower()} if provider.get("domain") else None,
        "providerName": provider.get("name"),
        "topics": [{"slug": slug(t), "name": t} for t in data.get("topics") or []],
        "images": [_image(i, site) for i in data.get("images") or []],
        "related": [{
            "title": r.get("title"), "excerpt": r.get("excerpt"), "url": _first(r, *URLS),
            "ampUrl": r.get("ampWebUrl"), "cdnAmpUrl": r.get("cdnAmpWebUrl"),
            "publishedAt": iso(r.get("publishedDateTime")), "type": r.get("type"),
            "quality": r.get("quality"), "providerName": (r.get("provider") or {}).get("name"),
            "provider": ({"domain": r["provider"]["domain"].lower()}
                         if (r.get("provider") or {}).get("domain") else None),
            "images": [_image(i, site) for i in r.get("images") or []],
        } for r in data.get("related") or []],
        "source": {"path": f"_news/{path.name}", "loader": "front-matter"},
    }


@pytest.mark.parametrize("path", NEWS, ids=lambda p: f"{p.parent.parent.name}/{p.stem[:50]}")
def test_every_news_article_matches_its_file(gql, path):
    expected = _expected(path)
    # Preview sees unpublished articles too, so every file can be compared.
    got = gql(ARTICLE, {"id": expected["id"]}, preview=True)["article"]
    assert got == expected


def test_power_apps_counts_and_visibility(gql):
    files = sorted((POWER_APPS / "_news").glob("*.md"))
    assert len(files) == 192
    public_ids = {f"news/{p.stem}" for p in files if visible(front_matter(p)[0])}
    assert len(public_ids) == 132
    query = """query($after: String) { articles(first: 100, after: $after, where: {collection: {eq: "news"}}) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id } } }"""

    def walk(preview: bool) -> tuple[list[str], int]:
        ids, after, total = [], None, None
        while True:
            page = gql(query, {"after": after}, preview=preview)["articles"]
            total = page["totalCount"]
            ids += [n["id"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                return ids, total
            after = page["pageInfo"]["endCursor"]

    public, total = walk(preview=False)
    assert len(public) == len(set(public)) == total
    power_apps_public = {i for i in public if i in {f"news/{p.stem}" for p in files}}
    assert power_apps_public == public_ids
    everything, total_all = walk(preview=True)
    assert len(everything) == len(set(everything)) == total_all
    assert {f"news/{p.stem}" for p in files} <= set(everything)


def test_every_collection_is_stored(corpus_model):
    expected = Counter()
    for site in (POWER_APPS, AZURE):
        for folder in site.iterdir():
            if folder.is_dir() and folder.name.startswith("_") and folder.name != "_data":
                count = sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix in (".md", ".html"))
                expected[folder.name[1:]] += count
    expected["news"] += len(list(SEED.glob("*.txt")))
    got = Counter(a.collection for a in corpus_model.all_articles)
    assert got == +expected


def test_samples_with_dashes_in_excerpt_keep_excerpt_and_body(gql):
    tricky = [p for p in sorted((POWER_APPS / "_samples").glob("*.md"))
              if "-----" in front_matter(p)[0].get("excerpt", "")]
    assert len(tricky) == 2
    for path in tricky:
        data, body = front_matter(path)
        got = gql('query($id: ID!) { article(id: $id) { excerpt body } }',
                  {"id": f"samples/{path.stem}"}, preview=True)["article"]
        assert got["excerpt"] == data["excerpt"]
        assert got["body"] == body
        assert body.strip()


def test_azure_keeps_all_related_items(gql):
    files = sorted((AZURE / "_news").glob("*.md"))
    expected = sum(len(front_matter(p)[0].get("related") or []) for p in files)
    with_related = sum(1 for p in files if front_matter(p)[0].get("related"))
    assert (expected, with_related) == (330, 33)
    got = 0
    for path in files:
        article = gql('query($id: ID!) { article(id: $id) { related { title } } }',
                      {"id": f"news/{path.stem}"}, preview=True)["article"]
        got += len(article["related"])
    assert got == 330


def test_every_crlf_news_file_loads(corpus_model):
    crlf = [p for p in NEWS if b"\r\n" in p.read_bytes()]
    assert len(crlf) == 59
    ids = {a.id for a in corpus_model.all_articles}
    assert {f"news/{p.stem}" for p in crlf} <= ids


def test_api_pages_merge_into_the_markdown_article(gql):
    # The static API repeats published articles on many pages: one record each.
    data = gql('{ articles(first: 100, where: {collection: {eq: "news"}}) { totalCount } }')
    api_paths = set()
    import json
    for page in (POWER_APPS / "api").rglob("index.json"):
        api_paths.update(item["path"] for item in json.loads(page.read_text())["value"])
    assert len(api_paths) == 132
    one = sorted(api_paths)[0]
    article = gql('query($id: ID!) { article(id: $id) { source { path paths } extra } }',
                  {"id": f"news/{Path(one).stem}"})["article"]
    assert article["source"]["path"] == one
    assert any(p.startswith("api/") for p in article["source"]["paths"])
    assert article["extra"]["locale"] == "en-us"  # a key only the API pages carry
    assert data["articles"]["totalCount"] == 144  # 132 + 11 azure + the seed


def test_counts_per_topic_and_provider_match_the_files(gql):
    topics, providers = Counter(), Counter()
    for site in (POWER_APPS, AZURE):
        for path in sorted(p for p in site.rglob("*") if p.is_file() and p.suffix in (".md", ".html")
                           and p.parts[len(site.parts)].startswith("_")
                           and p.parts[len(site.parts)] != "_data"):
            data, _ = front_matter(path)
            if not visible(data):
                continue
            for name in dict.fromkeys(data.get("topics") or []):
                topics[slug(name)] += 1
            domain = (data.get("provider") or {}).get("domain")
            if domain:
                providers[domain.lower()] += 1
    seed, _ = front_matter(next(SEED.glob("*.txt")))
    for name in seed["topics"]:
        topics[slug(name)] += 1
    providers[seed["provider"]["domain"]] += 1

    got_topics = {t["slug"]: t["articleCount"] for t in
                  gql("{ topics(first: 100) { nodes { slug articleCount } } }")["topics"]["nodes"]}
    assert {k: v for k, v in got_topics.items() if v} == dict(topics)
    got_providers = {}
    after = None
    while True:
        page = gql('query($a: String) { providers(first: 100, after: $a) { pageInfo { hasNextPage endCursor } '
                   'nodes { domain articleCount articles(first: 0) { totalCount } } } }', {"a": after})["providers"]
        for node in page["nodes"]:
            assert node["articleCount"] == node["articles"]["totalCount"]
            if node["articleCount"]:
                # A platform's providers (one per name) share the domain.
                got_providers[node["domain"]] = got_providers.get(node["domain"], 0) + node["articleCount"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert got_providers == dict(providers)


def test_topic_data_files_merge_with_article_topics(gql):
    topic = gql('{ topic(name: "Teams integration") { slug name keywords hashtags articleCount } }')["topic"]
    data, = [front_matter_yaml(p) for p in (POWER_APPS / "_data" / "topics").glob("*teams*")]
    assert topic["slug"] == "teams-integration"
    assert topic["keywords"] == data["keywords"]
    assert topic["hashtags"] == data["hashtags"]
    assert topic["articleCount"] > 0


def test_organization_files_name_providers(gql):
    import yaml
    path = POWER_APPS / "_data" / "organizations" / "techcrunch.com.md"
    data, _ = front_matter(path)
    got = gql('{ provider(domain: "TechCrunch.com") { domain name images { url path } } }')["provider"]
    assert got["domain"] == "techcrunch.com"
    assert got["name"] == data["name"]
    # The file gives its image relative to the site: the answer keeps that
    # as `path` and makes `url` absolute against the site's address.
    assert [i["path"] for i in got["images"]] == [i["url"] for i in data["images"]]
    assert data["images"][0]["url"].startswith("/assets/")
    assert [i["url"] for i in got["images"]] == [ADDRESS[POWER_APPS] + i["url"] for i in data["images"]]
    assert yaml  # the independent reader is PyYAML


def test_related_items_link_both_ways(gql, corpus_model):
    # Every local link found independently resolves through RelatedItem.article
    # and shows in relatedFrom, for published targets.
    by_url = {}
    for path in NEWS:
        data, _ = front_matter(path)
        for key in ("webUrl", "originalUrl"):
            if data.get(key):
                by_url.setdefault(data[key], (f"news/{path.stem}", visible(data)))
    links = 0
    for path in NEWS:
        data, _ = front_matter(path)
        if not visible(data):
            continue
        article = gql('query($id: ID!) { article(id: $id) { id related { url article { id } } } }',
                      {"id": f"news/{path.stem}"})["article"]
        for item in article["related"]:
            target = by_url.get(item["url"])
            if target and target[0] != article["id"]:
                links += 1
                expected = {"id": target[0]} if target[1] else None
                assert item["article"] == expected
                if target[1]:
                    back = gql('query($id: ID!) { article(id: $id) { relatedFrom { id } } }',
                               {"id": target[0]})["article"]["relatedFrom"]
                    assert {"id": article["id"]} in back
            else:
                assert item["article"] is None
    assert links > 0


def front_matter_yaml(path: Path) -> dict:
    import yaml
    return yaml.safe_load(path.read_text(encoding="utf-8"))
