"""``newsgraph serve`` as a real process: the demo for newcomers, options
reaching the server, the explorer and its assets, hot reload."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import httpx
import pytest

from graph import assets
from newsgraph.cli import DEMO_SITE
from store.db import Store
from store.ingest import load
from tests.conftest import AZURE, POWER_APPS, SEED, TOKEN, make_client
from tests.independent import front_matter, visible
from tests.live_server import NEWSGRAPH, serve


def _visible_articles(site) -> int:
    """Published articles of a site whose articles are all markdown in collections."""
    collections = [folder for folder in site.glob("_*") if folder.is_dir() and folder.name != "_data"]
    return sum(1 for folder in collections for path in folder.rglob("*.md") if visible(front_matter(path)[0]))


def test_serve_without_data_serves_the_bundled_demo(tmp_path):
    with serve(cwd=tmp_path) as server:
        health = httpx.get(server.base_url + "/healthz").json()
        answer = httpx.post(server.url, json={"query": "{ articles(first: 1) { nodes { url } } }"}).json()
    assert health["counts"]["articles"] == _visible_articles(DEMO_SITE)
    assert "bundled demo" in server.log
    assert answer["data"]["articles"]["nodes"][0]["url"].startswith("https://")


def test_serve_loads_the_paths_it_is_given():
    with serve(str(SEED)) as server:
        health = httpx.get(server.base_url + "/healthz").json()
    assert health["counts"]["articles"] == 1


@pytest.mark.parametrize("args", [[str(SEED)], []], ids=["paths", "demo"])
def test_a_store_of_its_own_is_removed_when_the_server_stops(tmp_path, args):
    with serve(*args, cwd=tmp_path) as server:
        db = re.search(r"\(store (\S+)\)", server.log).group(1)
        assert os.path.exists(db)
    assert not os.path.exists(os.path.dirname(db))  # stopped by SIGTERM: uvicorn shuts down


def test_serve_refuses_a_store_that_does_not_exist(tmp_path):
    done = subprocess.run([str(NEWSGRAPH), "serve", "--db", str(tmp_path / "none.json"), "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "none.json" in done.stderr and "newsgraph load" in done.stderr


def test_the_preview_token_reaches_the_server(corpus_db):
    news = [front_matter(p)[0] for site in (POWER_APPS, AZURE) for p in sorted((site / "_news").glob("*.md"))]
    news += [front_matter(p)[0] for p in sorted(SEED.glob("*.txt"))]  # a file outside a collection is news
    query = {"query": '{ articles(where: { collection: { eq: "news" } }) { totalCount } }'}
    with serve("--db", corpus_db, env={"NEWSGRAPH_PREVIEW_TOKEN": TOKEN}) as server:
        public = httpx.post(server.url, json=query).json()
        preview = httpx.post(server.url, json=query, headers={"Authorization": f"Bearer {TOKEN}"}).json()
        wrong = httpx.post(server.url, json=query, headers={"Authorization": "Bearer nope"})
    assert public["data"]["articles"]["totalCount"] == sum(1 for data in news if visible(data))
    assert preview["data"]["articles"]["totalCount"] == len(news) > sum(1 for data in news if visible(data))
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_cache_control_option_and_304_over_real_http(corpus_db):
    query = {"query": "{ stats { articles dataVersion } }"}
    with serve("--db", corpus_db, env={"NEWSGRAPH_CACHE_CONTROL": "public, max-age=30"}) as server:
        first = httpx.get(server.url, params=query)
        repeat = httpx.get(server.url, params=query, headers={"If-None-Match": first.headers["etag"]})
        version = httpx.get(server.base_url + "/healthz").json()["dataVersion"]
    assert first.status_code == 200
    assert first.json()["data"]["stats"]["dataVersion"] == version
    assert first.headers["cache-control"] == "public, max-age=30"
    assert repeat.status_code == 304 and repeat.content == b""


def test_the_explorer_page_and_its_assets_come_from_the_server(corpus_db):
    with serve("--db", corpus_db) as server:
        page = httpx.get(server.url, headers={"Accept": "text/html"})
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        fetched = {src: httpx.get(server.base_url + src) for src in sources if src.startswith("/")}
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "newsgraph-explorer-config" in page.text and "query Latest" in page.text
    external = [s for s in sources if "://" in s]
    assert external == [], "the explorer must not load anything from elsewhere"
    assert len(fetched) == len(assets.load_lock().files)
    for src, answer in fetched.items():
        assert answer.status_code == 200, src
        assert answer.headers["content-type"].split(";")[0] in ("text/css", "text/javascript",
                                                                "application/javascript"), src


def test_the_explorer_falls_back_to_the_cdn_only_without_local_assets(corpus_holder, monkeypatch):
    lock = assets.load_lock()
    with make_client(corpus_holder) as local:
        page = local.get("/graphql", headers={"Accept": "text/html"}).text
    assert "/graphql/assets/" in page and lock.cdn not in page
    monkeypatch.setattr(assets, "local_assets_available", lambda directory=None: False)
    with make_client(corpus_holder) as remote:
        page = remote.get("/graphql", headers={"Accept": "text/html"}).text
    assert "/graphql/assets/" not in page
    linked = [url for url in re.findall(r'(?:src|href)="([^"]+)"', page) if not url.startswith("data:")]
    assert len(linked) == len(lock.files) and all(url.startswith(lock.cdn) for url in linked)
    assert "python -m graph.assets" in page  # what to do if the CDN is out of reach too


def test_the_server_picks_up_a_new_load(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    db = str(tmp_path / "news.json")
    load(Store(db), [site])
    article = sorted((site / "_news").glob("*.md"))[0]
    query = {"query": f'{{ article(id: "news/{article.stem}") {{ title }} }}'}
    with serve("--db", db, "--reload-interval", "0.1") as server:
        before = httpx.post(server.url, json=query).json()["data"]["article"]["title"]
        article.write_text(article.read_text(encoding="utf-8").replace(before, "Reloaded while serving", 1),
                           encoding="utf-8")
        load(Store(db), [site])
        deadline = time.monotonic() + 15
        title = before
        while title == before and time.monotonic() < deadline:
            time.sleep(0.1)
            title = httpx.post(server.url, json=query).json()["data"]["article"]["title"]
    assert title == "Reloaded while serving"


def test_graphiql_can_be_turned_off(corpus_holder):
    with make_client(corpus_holder, graphiql=False) as client:
        answer = client.get("/graphql", headers={"Accept": "text/html"})
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/json"
