"""The benchmark's queries and the values they are sent with.

- F1-F11 are filters as frontends send them: ranges of heat, quality and
  dates, a topic, a type, a search or a title word. In *fresh* mode every
  request draws its values at random (bench/fresh.py), so each selects a
  different set; F1L-F11L are the same with the values written into the
  document as literals, as scripts and curl users send them.
- Q1-Q6 walk the collection (pages, ids, topics, search words) with values
  cycled from a pool (*cycled* mode).

Every query can also be sent from a pool of values drawn once and then
cycled (*cycled*), and, but for the inline ones, as one identical request
(*repeated*, which the response cache answers).

Values are collected through the public API of the server under test, so
the benchmark needs nothing but a running server: ids and cursors from a
walk of the listing, topic slugs and cursors from ``topics``, search words
from titles, each field's range from the two ends of its ordering.
"""
from __future__ import annotations

import datetime as dt
import http.client
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from .fresh import Slot, Template, safe, template

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



NODES = """nodes { id title excerpt publishedAt url heat quality
      provider { name domain }
      topics { slug name }
      images { url width height } }"""

FACETS = """total
    topics { value label count }
    providers { value label count }
    types { value count }
    months { value count }"""

# name: (label, document, {variable: field it draws from})
FRESH = {
    "F1": ("heat <= h, quality >= q, 20 nested",
           f"""query F1($h: Int!, $q: Int!) {{
  articles(first: 20, where: {{ heat: {{ lte: $h }}, quality: {{ gte: $q }} }}) {{
    {NODES} }} }}""", {"h": "heat", "q": "quality"}),
    "F2": ("publishedAt >= d, 20 nested + totalCount",
           f"""query F2($d: DateTime!) {{
  articles(first: 20, where: {{ publishedAt: {{ gte: $d }} }}) {{
    totalCount
    {NODES} }} }}""", {"d": "publishedAt"}),
    "F3": ("topic, heat >= h, quality <= q, by heat, 10 + totalCount",
           """query F3($t: String!, $h: Int!, $q: Int!) {
  articles(where: { topics: { some: [$t] }, heat: { gte: $h }, quality: { lte: $q } },
           orderBy: [{ field: HEAT, direction: DESC }], first: 10) {
    totalCount
    nodes { id title heat quality publishedAt provider { name } } } }""",
           {"t": "topic", "h": "heat", "q": "quality"}),
    "F4": ("OR of two ranges, NOT a type, by quality, 10 + totalCount",
           """query F4($h: Int!, $q: Int!, $type: String!) {
  articles(where: { OR: [{ heat: { gte: $h } }, { quality: { gte: $q } }], NOT: { type: { eq: $type } } },
           orderBy: [{ field: QUALITY, direction: DESC }], first: 10) {
    totalCount
    nodes { id title type heat quality } } }""", {"h": "heat", "q": "quality", "type": "type"}),
    "F5": ("article(id) + totalCount under two ranges",
           """query F5($id: ID!, $h: Int!, $q: Int!) {
  article(id: $id) { id title excerpt publishedAt url type heat quality
    provider { name domain }
    topics { slug name } }
  articles(where: { heat: { gte: $h }, quality: { lte: $q } }) { totalCount } }""",
           {"id": "id", "h": "heat", "q": "quality"}),
    "F6": ("facets under heat <= h and publishedAt >= d",
           f"""query F6($h: Int!, $d: DateTime!) {{
  facets(where: {{ heat: {{ lte: $h }}, publishedAt: {{ gte: $d }} }}) {{
    {FACETS} }} }}""", {"h": "heat", "d": "publishedAt"}),
    "F7": ("search + heat <= h, quality >= q, 10",
           """query F7($w: String!, $h: Int!, $q: Int!) {
  search(query: $w, where: { heat: { lte: $h }, quality: { gte: $q } }, first: 10) {
    totalCount edges { score node { id title heat quality } } } }""",
           {"w": "word", "h": "heat", "q": "quality"}),
    "F8": ("title contains w, heat <= h, quality >= q, 20 + totalCount",
           """query F8($w: String!, $h: Int!, $q: Int!) {
  articles(where: { title: { contains: $w }, heat: { lte: $h }, quality: { gte: $q } }, first: 20) {
    totalCount
    nodes { id title heat quality publishedAt } } }""", {"w": "word", "h": "heat", "q": "quality"}),
    "F9": ("facets under quality >= q",
           f"""query F9($q: Int!) {{
  facets(where: {{ quality: {{ gte: $q }} }}) {{
    {FACETS} }} }}""", {"q": "quality"}),
    "F10": ("search + heat >= h, 10",
            """query F10($w: String!, $h: Int!) {
  search(query: $w, where: { heat: { gte: $h } }, first: 10) {
    totalCount edges { score node { id title heat } } } }""", {"w": "word", "h": "heat"}),
    "F11": ("publishedAt within a duration, 20 nested + totalCount",
            f"""query F11($within: String!) {{
  articles(first: 20, where: {{ publishedAt: {{ within: $within }} }}) {{
    totalCount
    {NODES} }} }}""", {"within": "within"}),
}
FRESH_NAMES = [*FRESH, *(f"{name}L" for name in FRESH)]


@dataclass
class Query:
    """One query and its request bodies in each mode it supports."""
    name: str
    label: str
    cycled: list[bytes]               # a different body for each request in turn
    repeated: bytes | None            # every request the same (None: not offered)
    fresh: Template | None = None     # values drawn per request

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(mode for mode, offered in (("fresh", self.fresh), ("cycled", self.cycled),
                                                 ("repeated", self.repeated)) if offered)

    def write(self, mode: str, path: Path) -> None:
        """The file the load driver reads: a template, or one body a line."""
        if mode == "fresh":
            self.fresh.write(path)
        else:
            path.write_bytes(b"\n".join(self.cycled if mode == "cycled" else [self.repeated]) + b"\n")

    def sample(self, mode: str, count: int, rng: random.Random) -> list[bytes]:
        """Bodies as the driver sends them: ``count`` fresh draws, or the pool."""
        if mode == "fresh":
            return [self.fresh.expand(rng) for _ in range(count)]
        return self.cycled if mode == "cycled" else [self.repeated]


def _bodies(document: str, variables: list[dict]) -> list[bytes]:
    return [orjson.dumps({"query": document, "variables": v}) for v in variables]


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


@dataclass
class FirstPass:
    answers: list[bytes]     # the answers, in the order sent
    took: list[float]        # each request's seconds
    repeats: float           # share of answers the same as the one before


def first_pass(query: Query, mode: str, port: int, budget_s: float = 5.0,
               seed: int | None = None) -> FirstPass:
    """Send the mode's bodies once, one at a time: every body of a pool, or
    fresh draws for ``budget_s`` seconds (at least 20, at most 200). The
    first requests after start-up pay for what is done once per data
    version (an ordering's sort, a topic's grouping); measurements that
    follow see the steady state a server spends its life in. Every answer
    must be a success, since a fast error would flatter the figures.
    ``repeats`` says how fresh the values are: an answer the same as the
    one before (the same set, the same count) means a value selected
    nothing new."""
    rng = random.Random(seed)
    client = Client(port)
    answers, took = [], []
    try:
        if mode == "fresh":
            deadline = time.perf_counter() + budget_s
            while len(took) < 200 and (len(took) < 20 or time.perf_counter() < deadline):
                answers.append(_timed(client, query.fresh.expand(rng), took))
        else:
            for body in query.sample(mode, 0, rng):
                answers.append(_timed(client, body, took))
    finally:
        client.close()
    for status, raw in answers:
        if status != 200 or b'"errors"' in raw[:20] or orjson.loads(raw).get("errors"):
            raise RuntimeError(f"{query.name} {mode}: bad answer {status} {raw[:300]!r}")
    bodies = [raw for _, raw in answers]
    repeats = sum(a == b for a, b in zip(bodies, bodies[1:])) / max(1, len(bodies) - 1)
    return FirstPass(bodies, took, repeats)


def _timed(client: Client, body: bytes, took: list[float]) -> tuple[int, bytes]:
    began = time.perf_counter()
    answer = client.post(body)
    took.append(time.perf_counter() - began)
    return answer


@dataclass
class Ranges:
    """What fresh values are drawn from, read from the server."""
    heat: tuple[int, int]
    quality: tuple[int, int]
    published: tuple[int, int]   # POSIX seconds
    now: int
    types: list[str]
    topics: list[str]
    ids: list[str]
    words: list[str]

    def slot(self, field: str) -> Slot:
        if field in ("heat", "quality"):
            return Slot("int", *getattr(self, field))
        if field == "publishedAt":
            return Slot("date", *self.published)
        if field == "within":  # from an hour back to the oldest article
            return Slot("within", 3600, max(3601, self.now - self.published[0]))
        words = {"type": self.types, "topic": self.topics, "id": self.ids, "word": self.words}[field]
        return Slot("pick", words=tuple(words))


def build(port: int, pool: int = 2000, names: list[str] | None = None) -> list[Query]:
    """The queries named (all by default), with up to ``pool`` values each
    for cycled mode, read from the server."""
    client = Client(port)
    try:
        return build_from(client, pool, names)
    finally:
        client.close()


def build_from(client, pool: int = 2000, names: list[str] | None = None) -> list[Query]:
    """``build`` with any client that has ``data(document, variables)``."""
    ids, titles, page_cursors = _listing(client, pool)
    slugs, topic_cursors = _topics(client)
    ranges = _ranges(client, ids, slugs, titles)
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t)})[:pool]
    # Q6 starts after each topic in turn; the last few would hold fewer than 3.
    q6_after = [None] + topic_cursors[:-3]
    walks = [
        ("Q1", "20 newest, nested", Q1, [{"after": c} for c in page_cursors]),
        ("Q2", "one by id", Q2, [{"id": i} for i in ids]),
        ("Q3", "topic, by heat, 10", Q3, [{"topic": s} for s in slugs]),
        ("Q4", "facets under a filter", Q4, [{"topic": s} for s in slugs]),
        ("Q5", "search", Q5, [{"q": w} for w in words]),
        ("Q6", "topics>articles>related>article", Q6, [{"after": c} for c in q6_after]),
    ]
    queries = [Query(name, label, _bodies(doc, values), _bodies(doc, values[:1])[0])
               for name, label, doc, values in walks]
    rng = random.Random(1)  # the cycled pools and repeated bodies are the same in every run
    for name, (label, document, fields) in FRESH.items():
        slots = {variable: ranges.slot(field) for variable, field in fields.items()}
        for inline in (False, True):
            made = template(document, slots, inline)
            # Answers that read the clock (`within`) are never kept by the
            # response cache, so repeating one measures nothing of it.
            repeated = None if inline or "within" in fields.values() else made.expand(rng)
            queries.append(Query(name + "L" * inline, label + " (inline literals)" * inline,
                                 [made.expand(rng) for _ in range(pool)], repeated, made))
    return [q for q in queries if names is None or q.name in names]


def _ranges(client, ids: list[str], slugs: list[str], titles: list[str]) -> Ranges:
    ends = {}
    for field, key in (("HEAT", "heat"), ("QUALITY", "quality"), ("PUBLISHED_AT", "publishedAt")):
        values = []
        for direction in ("ASC", "DESC"):
            nodes = client.data(f"{{ articles(first: 100, orderBy: [{{field: {field}, direction: "
                                f"{direction}}}]) {{ nodes {{ {key} }} }} }}")["articles"]["nodes"]
            values += [n[key] for n in nodes if n[key] is not None]
        if key == "publishedAt":
            values = [int(_epoch(v)) for v in values]
        ends[key] = (min(values), max(values))
    types = [t["value"] for t in client.data("{ facets { types { value } } }")["facets"]["types"]]
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t)})
    return Ranges(ends["heat"], ends["quality"], ends["publishedAt"], int(time.time()),
                  [t for t in types if safe(t)], [s for s in slugs if safe(s)],
                  [i for i in ids if safe(i)], [w for w in words if safe(w)])


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _listing(client, pool: int) -> tuple[list[str], list[str], list[str | None]]:
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


def _topics(client) -> tuple[list[str], list[str]]:
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
