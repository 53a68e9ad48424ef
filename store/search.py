"""The search engine: tantivy, behind the few things newsgraph asks of it.

The only module that imports tantivy. An index holds one document per
article: the five searched texts (title, excerpt, body, topic and provider
names), each cut and folded by one analyzer (words of letters and digits,
lower case, accents folded), and the article's number and the values its
filters test, as raw terms and fast fields, so that ``where`` conditions
narrow a search inside the engine (store/searchfilter.py says which).

A search is our query tree (store/searchsyntax.py) made into tantivy
queries: a word is a BM25 match in any field, fields weighted; with typo
tolerance on, a word of 5 letters or more also matches at one typo, of 9
or more at two, and a hit that matches every term exactly ranks above any
hit that needs a typo. Hits come back as article numbers.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from threading import Lock
from typing import Callable, Sequence

import orjson
import tantivy

from . import searchfilter, searchsyntax
from .searchsyntax import All, Node, Phrase, Prefix, Word

FIELDS = {"title": 4.0, "topics": 2.0, "provider": 1.5, "excerpt": 1.5, "body": 1.0}
# Where a word may be found with a typo: names are short lists, already
# found as typed, and a typo automaton costs its build in each field
# (about 0.1 ms at two typos).
TYPO_FIELDS = ("title", "excerpt", "body")
ANALYZER = "words"
# A word matched with a typo scores this, whatever the field: typo matches
# only order hits among themselves (see Tier).
TYPO_SCORE = 0.01
WRITER_HEAP = 64_000_000

_TAG = re.compile(r"<[^>]*>")


def _analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build())


_WORDS = _analyzer()


def analyze(text: str) -> list[str]:
    """The words of ``text`` as the index holds them."""
    return _WORDS.analyze(text)


def spans(text: str) -> list[tuple[str, int, int]]:
    """Each word of ``text`` with where it is (start and end, in characters)."""
    return [(t.text, t.char_offset_from, t.char_offset_to) for t in _WORDS.pre_tokenize(text).tokens]


def plain(body: str | None) -> str:
    """A body's text without its HTML tags (samples and newsletters are HTML)."""
    if not body:
        return ""
    return _TAG.sub(" ", body) if "<" in body else body


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for field in FIELDS:
        builder.add_text_field(field, tokenizer_name=ANALYZER)
    builder.add_unsigned_field("num", indexed=True, fast=True)
    for field in searchfilter.RAW_FIELDS:
        builder.add_text_field(field, tokenizer_name="raw")
    for field in searchfilter.FLAG_FIELDS:
        builder.add_boolean_field(field, indexed=True)
    for field in searchfilter.INT_FIELDS:
        builder.add_integer_field(field, indexed=True, fast=True)
    builder.add_float_field("published", indexed=True, fast=True)
    return builder.build()


SCHEMA = _schema()


def document(article) -> str:
    """The index's document of one article (a read-model Article), as the
    JSON the writer takes."""
    provider = article.provider
    names = [n for n in dict.fromkeys((provider.name if provider else None, article.provider_name)) if n]
    doc = {"num": article.num, "id": article.id, "title": article.title, "excerpt": article.excerpt or "",
           "body": plain(article.body), "topics": [t.name for t in article.topics], "provider": names,
           "type": article.type, "collection": article.collection,
           "domain": provider.domain if provider else [], "provider_key": provider.key if provider else [],
           "topic": sorted(article.topic_slugs),
           "tag": sorted(article.tag_keys), "site": article.site.name if article.site else [],
           "visible": article.visible, "images": bool(article.images),
           "related": bool(article.related_count)}
    for field in searchfilter.INT_FIELDS:
        value = getattr(article, field)
        if value is not None:
            doc[field] = value
    if article.published_ts is not None:
        doc["published"] = article.published_ts
    return orjson.dumps(doc).decode()


def _new_index(path: str | None = None) -> tantivy.Index:
    index = tantivy.Index(SCHEMA, path=path) if path else tantivy.Index(SCHEMA)
    index.register_tokenizer(ANALYZER, _analyzer())
    return index


# --- queries -------------------------------------------------------------------

Q, Occur = tantivy.Query, tantivy.Occur


def _filter(query: tantivy.Query) -> tantivy.Query:
    """``query`` as a condition that adds nothing to scores."""
    return Q.const_score_query(query, 0.0)


def _node(node: Node, fuzzy: bool) -> tantivy.Query:
    if isinstance(node, Word):
        exact = Q.boolean_query([(Occur.Should, Q.boost_query(Q.term_query(SCHEMA, field, node.text), weight))
                                 for field, weight in FIELDS.items()])
        typos = searchsyntax.typos_allowed(node.text) if fuzzy else 0
        if not typos:
            return exact
        near = Q.boolean_query([(Occur.Should, Q.fuzzy_term_query(SCHEMA, field, node.text, distance=typos))
                                for field in TYPO_FIELDS])
        # The better of the two: a word found as typed scores its BM25, one
        # found only with a typo TYPO_SCORE.
        return Q.disjunction_max_query([exact, Q.const_score_query(near, TYPO_SCORE)])
    if isinstance(node, Phrase):
        return Q.boolean_query([(Occur.Should, Q.boost_query(Q.phrase_query(SCHEMA, field, list(node.words)), weight))
                                for field, weight in FIELDS.items()])
    if isinstance(node, Prefix):
        return Q.boolean_query([(Occur.Should, Q.boost_query(Q.regex_query(SCHEMA, field, node.text + ".*"), weight))
                                for field, weight in FIELDS.items()])
    if isinstance(node, All):
        return Q.boolean_query([(Occur.Must, _node(p, fuzzy)) for p in node.parts]
                               + [(Occur.MustNot, _node(p, False)) for p in node.excluded])
    return Q.boolean_query([(Occur.Should, _node(p, fuzzy)) for p in node.parts])


@dataclass(frozen=True)
class Tier:
    """The hits of one query, and the scores an answer shows for them: 1 +
    BM25 for a hit that matches every term as typed, below 1 for one that
    needs a typo, so the first rank above the second."""
    query: tantivy.Query
    typos: bool

    def shown(self, raw: float) -> float:
        return round(raw / (1.0 + raw) if self.typos else 1.0 + raw, 4)


def _tiers(tree: Node, fuzzy: bool, conditions: list) -> list[Tier]:
    """The queries of ``tree`` narrowed by ``conditions`` (store/searchfilter.py):
    the hits matching every term as typed, then, with typo tolerance, the
    others that match with typos."""
    exact = _node(tree, False)
    narrowing = _filter(_condition(searchfilter.AllOf(tuple(conditions)))) if conditions else None

    def narrowed(query: tantivy.Query) -> tantivy.Query:
        return query if narrowing is None else Q.boolean_query([(Occur.Must, query), (Occur.Must, narrowing)])

    tiers = [Tier(narrowed(exact), False)]
    if fuzzy and any(isinstance(t, Word) and searchsyntax.typos_allowed(t.text) for t in searchsyntax.terms(tree)):
        near = Q.boolean_query([(Occur.Must, _node(tree, True)), (Occur.MustNot, exact)])
        tiers.append(Tier(narrowed(near), True))
    return tiers


def _condition(condition) -> tantivy.Query:
    kind = type(condition)
    if kind is searchfilter.Term:
        if not condition.values:
            return Q.empty_query()
        if len(condition.values) == 1:
            return Q.term_query(SCHEMA, condition.field, condition.values[0])
        return Q.term_set_query(SCHEMA, condition.field, list(condition.values))
    if kind is searchfilter.Range:
        field_type = tantivy.FieldType.Float if condition.field == "published" else tantivy.FieldType.Integer
        # tantivy wants an open side inclusive
        return Q.range_query(SCHEMA, condition.field, field_type, condition.lower, condition.upper,
                             include_lower=condition.include_lower or condition.lower is None,
                             include_upper=condition.include_upper or condition.upper is None)
    if kind is searchfilter.Not:
        return Q.boolean_query([(Occur.Must, Q.all_query()), (Occur.MustNot, _condition(condition.part))])
    if kind is searchfilter.AllOf:
        if not condition.parts:
            return Q.all_query()
        return Q.boolean_query([(Occur.Must, _condition(p)) for p in condition.parts])
    if kind is searchfilter.AnyOf:
        if not condition.parts:
            return Q.empty_query()
        return Q.boolean_query([(Occur.Should, _condition(p)) for p in condition.parts])
    tree = parse(condition.query)  # searchfilter.Text: a search as a condition
    return Q.empty_query() if tree is None else _node(tree, False)


# --- indexes -------------------------------------------------------------------

class Part:
    """One tantivy index: the published articles, or the others. Apart, so
    that unpublished articles never shape a public score (BM25 counts the
    documents of its index), and a public search never reads them."""

    def __init__(self, index: tantivy.Index, articles: Sequence) -> None:
        index.reload()
        self.index = index
        self.searcher = index.searcher()
        self.articles = articles  # number -> Article

    def hits(self, query: tantivy.Query, limit: int, count: bool = False) -> tuple[list, int | None]:
        """The ``limit`` best (raw score, article) and, with ``count``, how
        many match."""
        result = self.searcher.search(query, max(1, limit), count=count)  # a limit of 0 panics
        found = result.hits
        numbers = self.searcher.fast_field_values("num", [address for _, address in found])
        articles = self.articles
        return [(score, articles[n]) for (score, _), n in zip(found, numbers)], result.count

    def numbers(self, query: tantivy.Query) -> list[int]:
        """The numbers of every article that ``query`` matches."""
        query = Q.const_score_query(query, 1.0)
        total = self.searcher.search(query, 1, count=True).count
        if not total:
            return []
        found = self.searcher.search(query, total, count=False).hits
        return self.searcher.fast_field_values("num", [address for _, address in found])


def numbered(model) -> list:
    """The model's articles by number (store/db.py: a record's number for
    life), None for a number no article has now."""
    articles = model.all_articles
    by_num = [None] * (max((a.num for a in articles), default=0) + 1)
    for article in articles:
        by_num[article.num] = article
    return by_num


class SearchIndex:
    """The index of one data version: its published part, and its other
    part when some articles are not published."""

    def __init__(self, public: Part, hidden: Part | None) -> None:
        self.public, self.hidden = public, hidden

    @classmethod
    def build(cls, model) -> "SearchIndex":
        """An index of every article of ``model``, in memory."""
        parts = {}
        for shown in (True, False):
            articles = [a for a in model.all_articles if a.visible == shown]
            if not shown and not articles:
                parts[shown] = None
                continue
            index = _new_index()
            writer = index.writer(WRITER_HEAP, 1)
            for article in articles:
                writer.add_json(document(article))
            writer.commit()
            writer.wait_merging_threads()
            parts[shown] = Part(index, numbered(model))
        return cls(parts[True], parts[False])

    def parts(self, preview: bool) -> list[Part]:
        return [self.public, self.hidden] if preview and self.hidden is not None else [self.public]


def parse(text: str) -> Node | None:
    return searchsyntax.parse(text, analyze)


class Found:
    """The hits of one search in one view, ranked by score, ties by id: the
    hits of each tier in each part of the index, merged."""

    # Hits fetched beyond the page, so a page usually needs one fetch.
    SLACK = 8

    def __init__(self, parts: list[Part], tree: Node | None, tiers: list[Tier],
                 keep: Callable | None = None) -> None:
        self.tree = tree
        self.sources = [(part, tier) for tier in tiers for part in parts]
        self.totals: list[int] = []
        self.fetched: list[list] = []  # per source, its best hits so far, best first
        self._all: list | None = None
        if keep is not None:
            # Conditions the engine cannot test: every hit is fetched and tested.
            found = []
            for part, tier in self.sources:
                _, total = part.hits(tier.query, 1, count=True)
                if total:
                    found += self._shown(tier, [h for h in part.hits(tier.query, total)[0] if keep(h[1])])
            self._all = sorted(found, key=_order)
        else:
            for part, tier in self.sources:
                found, total = part.hits(tier.query, self.SLACK * 2 + 1, count=True)
                self.fetched.append(self._shown(tier, found))
                self.totals.append(total)
        self.total = len(self._all) if self._all is not None else sum(self.totals)

    @staticmethod
    def _shown(tier: Tier, found: list) -> list[tuple[float, object]]:
        shown = tier.shown
        return [(shown(raw), article) for raw, article in found]

    def page(self, first: int, after: tuple[float, str] | None = None, hint: int = 0) -> tuple[list, int]:
        """The ``first`` hits after the cursor key ``after`` (score, id), and
        how many hits come before them. ``hint``, the cursor's place in the
        previous answer, is only where to start looking."""
        def start_of(hits: list) -> int:
            return 0 if after is None else bisect_right(hits, (-after[0], after[1]), key=_order)

        if self._all is not None:
            start = start_of(self._all)
            return self._all[start:start + first], start
        limit = hint + first + self.SLACK
        while True:
            lowest = -math.inf  # hits scoring this may have equals not fetched yet
            for n, (part, tier) in enumerate(self.sources):
                wanted = min(limit, self.totals[n])
                if len(self.fetched[n]) < wanted:
                    self.fetched[n] = self._shown(tier, part.hits(tier.query, wanted)[0])
                if len(self.fetched[n]) < self.totals[n]:
                    lowest = max(lowest, self.fetched[n][-1][0])
            hits = sorted((hit for found in self.fetched for hit in found), key=_order)
            safe = sum(1 for score, _ in hits if score > lowest)
            start = start_of(hits[:safe])
            if safe == len(hits) or start + first < safe:
                return hits[start:start + first], start
            limit = max(limit * 2, start + first + self.SLACK)


def _order(hit: tuple[float, object]) -> tuple[float, str]:
    return -hit[0], hit[1].id


_BUILDING = Lock()


def index_for(model) -> SearchIndex:
    """The model's search index, built when first asked for (once, also
    when the start-up thread and a request ask together)."""
    index = getattr(model, "_search_index", None)
    if index is None:
        with _BUILDING:
            index = getattr(model, "_search_index", None)
            if index is None:
                index = model._search_index = SearchIndex.build(model)
    return index


def search(view, text: str, where: dict | None = None, now=None, fuzzy: bool = True) -> Found:
    """The hits of the search ``text`` in ``view``, narrowed by ``where``."""
    parts = index_for(view.model).parts(view.preview)
    tree = parse(text)
    if tree is None:
        return Found(parts, None, [])
    conditions, rest = searchfilter.split(where, now)
    keep = None
    if rest:
        from .planner import matching  # the planner imports this module for its text filter
        members = matching(view, rest, now)
        keep = lambda article: article.num in members  # noqa: E731
    return Found(parts, tree, _tiers(tree, fuzzy, conditions), keep)


def text_matches(view, text: str) -> frozenset[int]:
    """The numbers of the articles in ``view`` that the ``text`` filter keeps:
    every term as typed, no typo tolerance."""
    tree = parse(text)
    if tree is None:
        return frozenset()
    query = _node(tree, False)
    return frozenset(n for part in index_for(view.model).parts(view.preview) for n in part.numbers(query))


def similar(view, article, limit: int) -> list:
    """Articles like ``article`` (its title, excerpt, body and topics), best
    first; never itself, and only those the view shows."""
    if limit <= 0:
        return []
    fields = {"title": [article.title], "excerpt": [article.excerpt or ""],
              "body": [plain(article.body)], "topics": [t.name for t in article.topics]}
    found = []
    for part in index_for(view.model).parts(view.preview):
        like = Q.more_like_this_document_fields_query(
            SCHEMA, {k: v for k, v in fields.items() if any(v)}, min_doc_frequency=2,
            max_doc_frequency=max(2, part.searcher.num_docs // 5), min_term_frequency=1,
            max_query_terms=25, min_word_length=3)
        query = Q.boolean_query([(Occur.Must, like), (Occur.MustNot, Q.term_query(SCHEMA, "id", article.id))])
        found += part.hits(query, limit)[0]
    found.sort(key=lambda hit: (-hit[0], hit[1].id))
    return [a for _, a in found[:limit]]


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "topic", "provider" or "title"


def suggest(view, prefix: str, limit: int) -> list[Suggestion]:
    """Completions of ``prefix`` for a search box: topic names, provider names
    and article titles with a word starting so (the words before it, side
    by side). Topics first, then providers, then titles, best first."""
    words = analyze(prefix)
    if not words or limit <= 0:
        return []
    found: dict[str, Suggestion] = {}
    for items, kind in ((view.topics.values(), "topic"), (view.providers.values(), "provider")):
        names = sorted({item.name for item in items if _completes(analyze(item.name), words)}, key=str.casefold)
        for name in names[:limit]:
            found.setdefault(name.casefold(), Suggestion(name, kind))
    if len(found) < limit:
        match = Q.regex_query(SCHEMA, "title", words[0] + ".*") if len(words) == 1 else \
            Q.phrase_prefix_query(SCHEMA, "title", words)
        titles = []
        for part in index_for(view.model).parts(view.preview):
            titles += part.hits(match, limit)[0]
        titles.sort(key=lambda hit: (-hit[0], hit[1].title_key, hit[1].id))
        for _, article in titles:
            found.setdefault(article.title.casefold(), Suggestion(article.title, "title"))
    return list(found.values())[:limit]


def _completes(name: list[str], words: list[str]) -> bool:
    """Whether ``words`` (the last one a start) occur side by side in ``name``."""
    *whole, start = words
    for i in range(len(name) - len(whole)):
        if name[i:i + len(whole)] == whole and name[i + len(whole)].startswith(start):
            return True
    return False
