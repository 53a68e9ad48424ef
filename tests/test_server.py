"""The real thing: `newsgraph serve` as a subprocess, queried over HTTP."""
from __future__ import annotations

import httpx

from tests.conftest import TOKEN
from tests.servers import running_server


def test_serve_a_store_over_http(corpus_db, tmp_path):
    with running_server("--db", corpus_db, "--preview-token", TOKEN, cwd=str(tmp_path)) as base:
        health = httpx.get(f"{base}/healthz").json()
        assert health["status"] == "ok" and health["counts"]["articles"] == 738
        query = '{ stats { dataVersion } articles(first: 3, where: {collection: {eq: "news"}}) { totalCount nodes { id } } }'
        public = httpx.post(f"{base}/graphql", json={"query": query}).json()["data"]
        assert public["stats"]["dataVersion"] == health["dataVersion"]
        assert public["articles"]["totalCount"] == 144
        preview = httpx.post(f"{base}/graphql", json={"query": query},
                             headers={"Authorization": f"Bearer {TOKEN}"}).json()["data"]
        assert preview["articles"]["totalCount"] == 233
        wrong = httpx.post(f"{base}/graphql", json={"query": query},
                           headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        get = httpx.get(f"{base}/graphql", params={"query": query})
        assert get.status_code == 200 and get.headers["etag"]
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "GraphiQL" in page.text


def test_serve_with_no_data_serves_the_demo(tmp_path):
    with running_server(cwd=str(tmp_path)) as base:
        data = httpx.post(f"{base}/graphql", json={"query": "{ stats { articles topics } }"}).json()["data"]
        assert data["stats"]["articles"] >= 30 and data["stats"]["topics"] >= 5
