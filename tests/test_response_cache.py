"""The response cache (graph/cache.py, used by graph/http.py) never serves an
answer from an older data version and never mixes preview and public
answers; it stays within its byte budget. Expected values come from the
corpus files, read with tests/independent.py."""
from __future__ import annotations

import shutil

import pytest

from graph.cache import ResponseCache
from graph.parts import Parts
from graph.state import DataHolder
from store.db import Store
from store.ingest import load
from tests.conftest import AZURE, TOKEN, make_client
from tests.independent import article_id, front_matter, news_files, visible

QUERY = "query($id: ID!) { article(id: $id) { id title published } }"


@pytest.fixture()
def site(tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(AZURE, copy)
    return copy


def _post(client, article: str, preview: bool = False) -> dict:
    headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
    response = client.post("/graphql", json={"query": QUERY, "variables": {"id": article}},
                           headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]["article"]


def _retitle(path, title: str) -> None:
    text = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[at] = f"title: {title!r}"
    path.write_bytes(newline.join(lines).encode("utf-8"))


# Without the response cache, an answer made of one remembered part (the
# article) is remembered whole by that part (graph/parts.py answer_bytes).
@pytest.mark.parametrize("cache_bytes", [64 << 20, 0], ids=["response cache", "whole answers by part"])
def test_a_new_data_version_is_never_answered_from_the_old_one(site, tmp_path, cache_bytes):
    db = str(tmp_path / "store.json")
    assert load(Store(db), [site]).ok
    holder = DataHolder(Store(db))
    path = next(p for p in news_files(site) if visible(front_matter(p)[0]))
    ident = article_id(path)
    old_title = front_matter(path)[0]["title"]
    with make_client(holder, response_cache_bytes=cache_bytes) as client:
        cache = client.app.state.endpoint.cache
        assert _post(client, ident)["title"] == old_title
        hits = cache.hits
        assert _post(client, ident)["title"] == old_title
        if cache_bytes:
            assert cache.hits == hits + 1  # the repeat was a cache hit: the cache is in play
        else:
            held = holder.model.public.cache[Parts].entries  # remembered whole
            assert cache.hits == 0 and any(isinstance(key[0], str) for key in held)

        versions = [holder.model.data_version]
        for title in ("Retitled once for the cache test", "Retitled twice"):
            _retitle(path, title)
            assert front_matter(path)[0]["title"] == title
            assert load(Store(db), [site]).ok
            assert holder.reload_if_changed()
            versions.append(holder.model.data_version)
            # First request on the new version, then a repeat that may hit the cache.
            assert _post(client, ident)["title"] == title
            assert _post(client, ident)["title"] == title
        assert len(set(versions)) == 3


def test_preview_and_public_answers_never_mix(site, tmp_path):
    path = next(p for p in news_files(site) if not visible(front_matter(p)[0]))
    ident = article_id(path)
    title = front_matter(path)[0]["title"]
    db = str(tmp_path / "store.json")
    assert load(Store(db), [site]).ok
    with make_client(DataHolder(Store(db))) as client:
        cache = client.app.state.endpoint.cache
        # Each order twice over, so both kinds of answer come from the cache too.
        for preview in (True, False, True, False, False, True):
            got = _post(client, ident, preview=preview)
            if preview:
                assert got == {"id": ident, "title": title, "published": False}
            else:
                assert got is None
        assert cache.hits >= 4


def test_a_wrong_token_is_refused_not_served_a_cached_preview(site, tmp_path):
    path = next(p for p in news_files(site) if not visible(front_matter(p)[0]))
    db = str(tmp_path / "store.json")
    assert load(Store(db), [site]).ok
    with make_client(DataHolder(Store(db))) as client:
        assert _post(client, article_id(path), preview=True) is not None
        response = client.post("/graphql", json={"query": QUERY, "variables": {"id": article_id(path)}},
                               headers={"Authorization": "Bearer wrong"})
        assert response.status_code == 401 and "data" not in response.json()


def test_switching_versions_empties_the_cache():
    cache = ResponseCache(max_bytes=1 << 20)
    key = (False, "{ stats { articles } }", b"", "")
    cache.put("v1", key, 200, b'{"data":1}')
    assert cache.get("v1", key)[:2] == (200, b'{"data":1}')
    assert cache.get("v2", key) is None
    assert cache.get("v1", key) is None  # going back does not resurrect old entries
    cache.put("v1", key, 200, b'{"data":2}')
    assert cache.get("v1", key)[:2] == (200, b'{"data":2}')


def test_the_cache_stays_within_its_byte_budget():
    budget = 64 * 1024
    cache = ResponseCache(max_bytes=budget)
    body = b"x" * 1000
    for n in range(500):
        cache.put("v1", (False, f"query {n}", b"", ""), 200, body)
        assert cache.size <= budget
    assert len(cache.entries) < 500
    # The newest stay, the oldest went first.
    assert cache.get("v1", (False, "query 499", b"", "")) is not None
    assert cache.get("v1", (False, "query 0", b"", "")) is None
    # One answer bigger than an eighth of the budget is not kept at all.
    cache.put("v1", (False, "huge", b"", ""), 200, b"y" * (budget // 4))
    assert cache.get("v1", (False, "huge", b"", "")) is None


@pytest.mark.parametrize("body, status", [
    ({"query": QUERY, "variables": {"id": "no-such-article"}}, 200),
    ({"query": "{ article(id: 1, nope: 2) { id } }"}, 400),
])
def test_a_repeat_answered_from_the_cache_is_the_same_answer(corpus_holder, monkeypatch, body, status):
    """A repeated public POST is answered straight from the ASGI messages
    (graph/http.py GraphQLHTTP.__call__); it must be the very answer the
    full path gave, with the same headers."""
    import graph.http

    def no_request(*args):
        raise AssertionError("the repeat went the full way")

    with make_client(corpus_holder) as client:
        cache = client.app.state.endpoint.cache
        first = client.post("/graphql", json=body)
        hits = cache.hits
        monkeypatch.setattr(graph.http, "Request", no_request)
        again = client.post("/graphql", json=body)
        monkeypatch.undo()
        assert cache.hits == hits + 1
    assert first.status_code == again.status_code == status
    assert again.content == first.content
    assert ("errors" in first.json()) == (status == 400)
    for name in ("content-type", "content-length", "vary", "cache-control"):
        assert again.headers[name] == first.headers[name], name
    assert again.headers["cache-control"] == "no-store" and again.headers["vary"] == "Authorization, Accept"

