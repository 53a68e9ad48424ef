"""The benchmark's six queries and the variable values they cycle through.

Values are collected through the public API of the server under test, so
the benchmark needs nothing but a running server: ids and cursors from a
walk of the listing, topic slugs and cursors from ``topics``, search words
from titles.
"""
from __future__ import annotations

import http.client
import re
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

Q1 = """query Q1($after: String) {
  articles(first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id title excerpt publishedAt url
      provider { name domain }
      topics { slug name }
      images { url width height } } } }"""

Q2 = """query Q2($id: ID!) {
  article(id: $id) { id title excerpt publishedAt url type heat quality
    provider { name domain }
    topics { slug name }
    images { url width height } } }"""

Q3 = """query Q3($topic: String!) {
  articles(where: { topics: { some: [$topic] } }, orderBy: [{ field: HEAT, direction: DESC }], first: 10) {
    totalCount
    nodes { id title heat publishedAt provider { name } } } }"""

Q4 = """query Q4($topic: String!) {
  facets(where: { topics: { some: [$topic] } }) {
    total
    topics { value label count }
    providers { value label count }
    types { value count }
    months { value count } } }"""

Q5 = """query Q5($q: String!) {
  search(query: $q, first: 10) { totalCount edges { score node { id title } } } }"""

Q6 = """query Q6($after: String) {
  topics(first: 3, after: $after) {
    nodes { slug name
      articles(first: 10) {
        nodes { id title
          related(first: 5) { title url article { id title } } } } } } }"""


@dataclass
class Query:
    name: str
    label: str
    document: str
    cycled: list[dict]       # variables, a different set for each request in turn
    repeated: dict           # the variables of every request in "repeated" mode

    def bodies(self, mode: str) -> list[bytes]:
        values = self.cycled if mode == "cycled" else [self.repeated]
        return [orjson.dumps({"query": self.document, "variables": v}) for v in values]


class Client:
    """Blocking JSON POSTs on one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def post(self, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        return response.status, response.read()

    def data(self, document: str, variables: dict | None = None) -> dict:
        status, raw = self.post(orjson.dumps({"query": document, "variables": variables}))
        answer = orjson.loads(raw)
        if status != 200 or answer.get("errors"):
            raise RuntimeError(f"benchmark query failed ({status}): {raw[:300]!r}")
        return answer["data"]

    def close(self) -> None:
        self.conn.close()


def wait_for_search(port: int) -> float:
    """Seconds until a search answers. A server without an image builds its
    search index in a thread after start-up, and the first search waits for
    it: waited for here, so that no measurement shares the core with it."""
    began = time.perf_counter()
    client = Client(port)
    try:
        client.data('{ search(query: "the", first: 1) { totalCount } }')
    finally:
        client.close()
    return time.perf_counter() - began


def first_pass(query: Query, mode: str, port: int, bodies_file: Path) -> tuple[bytes, list[float]]:
    """Write the query's request bodies to ``bodies_file`` (for the load
    driver) and send each once, one at a time. The first requests after
    start-up pay for what is done once per data version (an ordering's sort,
    a topic's grouping); measurements that follow see the steady state a
    server spends its life in. Returns the first answer and each request's
    seconds. Every answer must be a success: a fast error would flatter the
    figures, so a sample is checked."""
    bodies = query.bodies(mode)
    bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
    client = Client(port)
    answers, took = [], []
    try:
        for body in bodies:
            began = time.perf_counter()
            answers.append(client.post(body))
            took.append(time.perf_counter() - began)
    finally:
        client.close()
    for status, raw in answers[:: max(1, len(answers) // 25)]:
        if status != 200 or b'"errors"' in raw[:20] or orjson.loads(raw).get("errors"):
            raise RuntimeError(f"{query.name} {mode}: bad answer {status} {raw[:300]!r}")
    return answers[0][1], took


def build(port: int, pool: int = 2000) -> list[Query]:
    """Queries with up to ``pool`` variable sets each, read from the server."""
    client = Client(port)
    try:
        ids, titles, page_cursors = _listing(client, pool)
        slugs, topic_cursors = _topics(client)
    finally:
        client.close()
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t)})[:pool]
    # Q6 starts after each topic in turn; the last few would hold fewer than 3.
    q6_after = [None] + topic_cursors[:-3]
    return [
        Query("Q1", "20 newest, nested", Q1, [{"after": c} for c in page_cursors], {"after": None}),
        Query("Q2", "one by id", Q2, [{"id": i} for i in ids], {"id": ids[0]}),
        Query("Q3", "topic, by heat, 10", Q3, [{"topic": s} for s in slugs], {"topic": slugs[0]}),
        Query("Q4", "facets under a filter", Q4, [{"topic": s} for s in slugs], {"topic": slugs[0]}),
        Query("Q5", "search", Q5, [{"q": w} for w in words], {"q": words[0]}),
        Query("Q6", "topics>articles>related>article", Q6, [{"after": c} for c in q6_after],
              {"after": None}),
    ]


def _listing(client: Client, pool: int) -> tuple[list[str], list[str], list[str | None]]:
    """Ids and titles of the newest ``pool`` articles, and the cursor that
    starts each page of 20 among them."""
    ids: list[str] = []
    titles: list[str] = []
    cursors: list[str | None] = [None]
    after = None
    while len(ids) < pool:
        page = client.data("query($after: String) { articles(first: 100, after: $after) {"
                           " pageInfo { hasNextPage } edges { cursor node { id title } } } }",
                           {"after": after})["articles"]
        for edge in page["edges"]:
            ids.append(edge["node"]["id"])
            titles.append(edge["node"]["title"])
            if len(ids) % 20 == 0:
                cursors.append(edge["cursor"])
        if not page["pageInfo"]["hasNextPage"] or not page["edges"]:
            break
        after = page["edges"][-1]["cursor"]
    return ids, titles, cursors[:-1] or [None]


def _topics(client: Client) -> tuple[list[str], list[str]]:
    """Every topic slug, and the cursor of each (pages of one topic)."""
    slugs: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        page = client.data("query($after: String) { topics(first: 1, after: $after) {"
                           " pageInfo { hasNextPage endCursor } nodes { slug } } }",
                           {"after": after})["topics"]
        if not page["nodes"]:
            break
        slugs.append(page["nodes"][0]["slug"])
        cursors.append(after := page["pageInfo"]["endCursor"])
        if not page["pageInfo"]["hasNextPage"]:
            break
    return slugs, cursors
