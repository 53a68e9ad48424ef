"""Persisted queries (Apollo APQ) and HTTP caching: ETag, 304, Cache-Control."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from graph.state import DataHolder
from newsgraph.cli import DEMO_SITE
from store.db import Store
from store.ingest import load
from tests.conftest import POWER_APPS, TOKEN, make_client
from tests.independent import front_matter, visible

NEWS = sorted(p for p in (POWER_APPS / "_news").glob("*.md"))


def _visible_article(index: int = 0) -> tuple[str, dict]:
    shown = [(p, d) for p in NEWS for d in [front_matter(p)[0]] if visible(d)]
    path, data = shown[index]
    return f"news/{path.stem}", data


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _apq(digest: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


@pytest.fixture(scope="module")
def http(corpus_holder):
    # Its own app: persisted queries and cached answers start empty.
    with make_client(corpus_holder) as test_client:
        yield test_client


# --- APQ -------------------------------------------------------------------------


def test_apq_miss_then_register_then_hit(http):
    article_id, data = _visible_article(3)
    query = f'query ApqRoundTrip {{ article(id: "{article_id}") {{ id title }} }}'
    digest = _sha256(query)

    miss = http.post("/graphql", json={"extensions": _apq(digest)})
    # Apollo clients retry with the full query only on this exact answer.
    assert miss.status_code == 200
    error = miss.json()["errors"][0]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert error["message"] == "PersistedQueryNotFound"
    assert "data" not in miss.json() or miss.json()["data"] is None

    registered = http.post("/graphql", json={"query": query, "extensions": _apq(digest)})
    assert registered.status_code == 200
    assert registered.json()["data"]["article"] == {"id": article_id, "title": data["title"]}

    hit = http.post("/graphql", json={"extensions": _apq(digest)})
    assert hit.status_code == 200
    assert hit.json() == registered.json()


def test_apq_by_get_with_etag_and_304(http):
    # Apollo's useGETForHashedQueries: the hash in the URL, so CDNs can cache it.
    article_id, data = _visible_article(4)
    query = f'query ApqGet {{ article(id: "{article_id}") {{ title }} }}'
    params = {"extensions": json.dumps(_apq(_sha256(query)))}
    miss = http.get("/graphql", params=params)
    assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # A cached miss would send every client through the miss-and-retry dance.
    assert "etag" not in miss.headers and miss.headers["cache-control"] == "no-store"

    http.get("/graphql", params={**params, "query": query})
    hit = http.get("/graphql", params=params)
    assert hit.status_code == 200
    assert hit.json() == {"data": {"article": {"title": data["title"]}}}
    again = http.get("/graphql", params=params, headers={"If-None-Match": hit.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_apq_refuses_a_hash_that_does_not_match_and_keeps_nothing(http):
    query = "query ApqWrongHash { stats { articles } }"
    wrong = _sha256(query + " ")
    refused = http.post("/graphql", json={"query": query, "extensions": _apq(wrong)})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    later = http.post("/graphql", json={"extensions": _apq(wrong)})
    assert later.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


# --- ETag and 304 ------------------------------------------------------------------


def test_repeat_get_with_if_none_match_is_304(http):
    article_id, data = _visible_article(0)
    params = {"query": f'{{ article(id: "{article_id}") {{ title }} }}'}
    first = http.get("/graphql", params=params)
    assert first.status_code == 200
    assert first.json() == {"data": {"article": {"title": data["title"]}}}
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "no-cache"  # cacheable, revalidated by ETag

    repeat = http.get("/graphql", params=params, headers={"If-None-Match": etag})
    assert repeat.status_code == 304
    assert repeat.content == b""
    assert repeat.headers["etag"] == etag
    # Weak comparison and lists, as browsers and proxies send them.
    for header in (f"W/{etag}", f'"other", {etag}', "*"):
        assert http.get("/graphql", params=params, headers={"If-None-Match": header}).status_code == 304
    assert http.get("/graphql", params=params, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_differs_by_query_and_variables(http):
    query = "query Page($first: Int) { articles(first: $first) { nodes { id } } }"
    tags = {
        http.get("/graphql", params={"query": query, "variables": json.dumps({"first": n})}).headers["etag"]
        for n in (1, 2)
    }
    tags.add(http.get("/graphql", params={"query": "{ stats { articles } }"}).headers["etag"])
    assert len(tags) == 3
    one = http.get("/graphql", params={"query": query, "variables": '{"first": 1}'})
    two = http.get("/graphql", params={"query": query, "variables": '{"first": 2}'},
                   headers={"If-None-Match": one.headers["etag"]})
    assert two.status_code == 200 and len(two.json()["data"]["articles"]["nodes"]) == 2


def test_no_etag_on_errors_posts_or_previews(http):
    bad = http.get("/graphql", params={"query": "{ articles(first: 500) { nodes { id } } }"})
    assert bad.status_code == 400 and "etag" not in bad.headers
    posted = http.post("/graphql", json={"query": "{ stats { articles } }"})
    assert "etag" not in posted.headers and posted.headers["cache-control"] == "no-store"
    preview = http.get("/graphql", params={"query": "{ stats { articles } }"},
                       headers={"Authorization": f"Bearer {TOKEN}"})
    # A preview answer shows unpublished articles: no shared cache may keep it.
    assert preview.headers["cache-control"] == "private, no-cache"
    public = http.get("/graphql", params={"query": "{ stats { articles } }"})
    assert preview.headers["etag"] != public.headers["etag"]


def test_cache_control_is_settable(corpus_holder):
    with make_client(corpus_holder, cache_control="public, max-age=60") as custom:
        answer = custom.get("/graphql", params={"query": "{ stats { articles } }"})
        assert answer.headers["cache-control"] == "public, max-age=60"
        assert custom.post("/graphql", json={"query": "{ stats { articles } }"}).headers["cache-control"] == "no-store"


def test_a_new_data_version_changes_the_etag(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    store = Store(tmp_path / "news.json")
    load(store, [site])
    holder = DataHolder(store)
    article = sorted((site / "_news").glob("*.md"))[0]
    query = {"query": f'{{ article(id: "news/{article.stem}") {{ title }} }}'}
    with make_client(holder) as fresh:
        before = fresh.get("/graphql", params=query)
        text = article.read_text(encoding="utf-8")
        old_title = front_matter(article)[0]["title"]
        article.write_text(text.replace(old_title, "A retitled article", 1), encoding="utf-8")
        load(store, [site])
        assert holder.reload_if_changed()
        after = fresh.get("/graphql", params=query, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["data"]["article"]["title"] == "A retitled article"
    assert after.headers["etag"] != before.headers["etag"]
