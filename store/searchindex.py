"""The search index: tantivy, behind the few things newsgraph asks of it.

The only module that imports tantivy. An index holds one document per
article (store/searchdocs.py makes them): its title, and its text (the
title, excerpt, body, topic and provider names, each a value of its own
so that no phrase runs from one into the next), cut and folded by one
analyzer (words of letters and digits, lower case, accents folded); and
the article's number and the values its filters test, as raw terms and
fast fields, so that ``where`` conditions narrow a search inside the
engine (store/searchfilter.py says which). One text field rather than one
per part: a word costs two postings lookups, and a typo one automaton,
whose build is most of a typo match's cost (bench/README.md). A value
nearly every article has its own of (quality, heat, the date) is a fast
field alone, never a term: each distinct term costs the build a
dictionary entry and a postings list, and such terms were half of the
build's time. An article is deleted, excluded and narrowed to by its
number.
Published and unpublished articles are two indexes (``Part``), so that an
unpublished article never shapes a public score: BM25 counts the
documents of its index.

Queries are made from our query tree (store/searchsyntax.py): a word is a
BM25 match in the text, counted TITLE_BOOST times more in the title; with
typos allowed, a word of 5 letters or more also matches at one edit, of 9
or more at two. Hits come back as articles, found by their numbers for
life (store/snapshot.py).
"""
from __future__ import annotations

import os
from typing import Iterable, Sequence

import tantivy

from . import searchfilter, searchsyntax
from .searchdocs import article_documents, plain
from .searchsyntax import All, Node, Phrase, Prefix, Word

# Of the schema, the analyzer and the documents (store/searchdocs.py): an
# index of another format
# is never patched, but made anew.
FORMAT = 3
# A word in the title scores its BM25 in the title this many times, on top
# of its BM25 in the text (which holds the title too).
TITLE_BOOST = 3.0
# A word found only with a typo scores this, whatever the field: typo
# matches only order hits among themselves (store/search.py Tier).
TYPO_SCORE = 0.01
ANALYZER = "words"
WRITER_HEAP = 64_000_000  # bytes per indexing thread
PARTS = {True: "public", False: "hidden"}

Q, Occur = tantivy.Query, tantivy.Occur


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


def parse(text: str) -> Node | None:
    return searchsyntax.parse(text, analyze)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for field in ("title", "text"):
        builder.add_text_field(field, tokenizer_name=ANALYZER)
    # The number is also a term: what an article is deleted and excluded by.
    builder.add_unsigned_field("num", indexed=True, fast=True)
    for field in searchfilter.RAW_FIELDS:
        builder.add_text_field(field, tokenizer_name="raw")
    for field in searchfilter.FLAG_FIELDS:
        builder.add_boolean_field(field, indexed=True)
    for field in searchfilter.INT_FIELDS:
        builder.add_integer_field(field, fast=True)
    builder.add_float_field("published", fast=True)
    return builder.build()


SCHEMA = _schema()


# --- queries ---------------------------------------------------------------------

def query(node: Node, typos: bool) -> tantivy.Query:
    """What matches ``node``: words as typed, or also with typos."""
    if isinstance(node, Word):
        exact = _weighted(lambda field: Q.term_query(SCHEMA, field, node.text))
        distance = searchsyntax.typos_allowed(node.text) if typos else 0
        if not distance:
            return exact
        near = Q.fuzzy_term_query(SCHEMA, "text", node.text, distance=distance)
        # The better of the two: a word found as typed scores its BM25, one
        # found only with a typo TYPO_SCORE.
        return Q.disjunction_max_query([exact, Q.const_score_query(near, TYPO_SCORE)])
    if isinstance(node, Phrase):
        return _weighted(lambda field: Q.phrase_query(SCHEMA, field, list(node.words)))
    if isinstance(node, Prefix):
        return _weighted(lambda field: Q.regex_query(SCHEMA, field, node.text + ".*"))
    if isinstance(node, All):
        return Q.boolean_query([(Occur.Must, query(p, typos)) for p in node.parts]
                               + [(Occur.MustNot, matches(p)) for p in node.excluded])
    return Q.boolean_query([(Occur.Should, query(p, typos)) for p in node.parts])


def matches(node: Node) -> tantivy.Query:
    """What matches ``node`` as typed, unscored: ``query(node, False)``'s
    articles, found in the text alone (which holds the title)."""
    if isinstance(node, Word):
        return Q.term_query(SCHEMA, "text", node.text)
    if isinstance(node, Phrase):
        return Q.phrase_query(SCHEMA, "text", list(node.words))
    if isinstance(node, Prefix):
        return Q.regex_query(SCHEMA, "text", node.text + ".*")
    if isinstance(node, All):
        return Q.boolean_query([(Occur.Must, matches(p)) for p in node.parts]
                               + [(Occur.MustNot, matches(p)) for p in node.excluded])
    return Q.boolean_query([(Occur.Should, matches(p)) for p in node.parts])


def near(node: Node) -> tantivy.Query:
    """What matches ``node`` with typos and not as typed, scored as
    ``query(node, True)`` scores it."""
    distance = searchsyntax.typos_allowed(node.text) if isinstance(node, Word) else 0
    if distance:
        # One word not found as typed scores TYPO_SCORE alone: the exact
        # half of query()'s better-of-two never matches here.
        fuzzy = Q.fuzzy_term_query(SCHEMA, "text", node.text, distance=distance)
        return without(Q.const_score_query(fuzzy, TYPO_SCORE), matches(node))
    return without(query(node, True), matches(node))


def _weighted(match) -> tantivy.Query:
    """``match`` in the text, and TITLE_BOOST times more in the title."""
    return Q.boolean_query([(Occur.Should, match("text")),
                            (Occur.Should, Q.boost_query(match("title"), TITLE_BOOST))])


def without(kept: tantivy.Query, dropped: tantivy.Query) -> tantivy.Query:
    return Q.boolean_query([(Occur.Must, kept), (Occur.MustNot, dropped)])


def condition(conditions: list) -> list[tantivy.Query]:
    """What ``conditions`` (store/searchfilter.py) allow, as queries that
    all must match and score nothing."""
    return [Q.const_score_query(_condition(c), 0.0) for c in _flat(conditions)]


def _flat(conditions):
    for c in conditions:
        if type(c) is searchfilter.AllOf:
            yield from _flat(c.parts)
        else:
            yield c


def narrowed(scored: tantivy.Query, allowed: list[tantivy.Query]) -> tantivy.Query:
    """``scored`` kept to what ``allowed`` (a ``condition``) allows: each a
    clause of one intersection (an intersection of intersections costs a
    tenth more)."""
    if not allowed:
        return scored
    return Q.boolean_query([(Occur.Must, scored), *((Occur.Must, c) for c in allowed)])


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
        return without(Q.all_query(), _condition(condition.part))
    if kind is searchfilter.AllOf:
        if not condition.parts:
            return Q.all_query()
        return Q.boolean_query([(Occur.Must, _condition(p)) for p in condition.parts])
    if kind is searchfilter.AnyOf:
        if not condition.parts:
            return Q.empty_query()
        return Q.boolean_query([(Occur.Should, _condition(p)) for p in condition.parts])
    tree = parse(condition.query)  # searchfilter.Text: a search as a condition
    return Q.empty_query() if tree is None else matches(tree)


def like(article, documents: int) -> tantivy.Query:
    """Articles like ``article`` by the distinctive words of its title,
    excerpt, body and topics (in an index of ``documents``), not itself."""
    text = [article.title, article.excerpt or "", plain(article.body), *(t.name for t in article.topics)]
    alike = Q.more_like_this_document_fields_query(
        SCHEMA, {"title": [article.title], "text": text}, min_doc_frequency=2,
        max_doc_frequency=max(2, documents // 5), min_term_frequency=1, max_query_terms=25,
        min_word_length=3)
    return without(alike, Q.term_query(SCHEMA, "num", article.num))


def title_start(words: list[str]) -> tantivy.Query:
    """Titles with ``words`` side by side, the last one as a word's start."""
    if len(words) == 1:
        return Q.regex_query(SCHEMA, "title", words[0] + ".*")
    return Q.phrase_prefix_query(SCHEMA, "title", words)


# --- indexes -----------------------------------------------------------------------

def _new(path: str | None = None) -> tantivy.Index:
    index = tantivy.Index(SCHEMA, path=path) if path else tantivy.Index(SCHEMA)
    index.register_tokenizer(ANALYZER, _analyzer())
    return index


class Part:
    """One tantivy index: the published articles, or the others."""

    def __init__(self, index: tantivy.Index, articles: Sequence) -> None:
        index.config_reader("manual")  # a version's index never changes: no watcher thread
        index.reload()
        self.searcher = index.searcher()
        self.documents = self.searcher.num_docs
        self.articles = articles  # number -> Article

    @classmethod
    def open(cls, path: str, articles: Sequence) -> "Part":
        index = tantivy.Index.open(path)
        index.register_tokenizer(ANALYZER, _analyzer())
        return cls(index, articles)

    def hits(self, query: tantivy.Query, limit: int, count: bool = False) -> tuple[list, int | None]:
        """The ``limit`` best (raw score, article) and, with ``count``, how
        many match."""
        result = self.searcher.search(query, max(1, limit), count=count)  # a limit of 0 panics
        found = result.hits
        numbers = self.searcher.fast_field_values("num", [address for _, address in found])
        articles = self.articles
        return [(score, articles[n]) for (score, _), n in zip(found, numbers)], result.count

    def count(self, query: tantivy.Query) -> int:
        return self.searcher.search(query, 1, count=True).count

    def numbers(self, query: tantivy.Query) -> list[int]:
        """The numbers of every article that ``query`` matches."""
        query = Q.const_score_query(query, 1.0)
        total = self.searcher.search(query, 1, count=True).count
        if not total:
            return []
        found = self.searcher.search(query, total, count=False).hits
        return self.searcher.fast_field_values("num", [address for _, address in found])


def numbered(model) -> list:
    """The model's articles by number, None for a number no article has:
    its indexes' list (store/indexes.py), made here for a model without."""
    indexes = getattr(model, "indexes", None)
    if indexes is not None:
        return indexes.by_num
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
        """An index of every article of ``model``, in memory: for a store
        whose load wrote none that fits."""
        writing = _Writing(None)
        writing.writer(True)
        for shown, doc in article_documents(model.all_articles):
            writing.writer(shown).add_json(doc)
        indexes = writing.commit()
        articles = numbered(model)
        hidden = indexes.get(False)
        return cls(Part(indexes[True], articles), Part(hidden, articles) if hidden else None)

    @classmethod
    def open(cls, path: str, model) -> "SearchIndex":
        """The index written at ``path`` (store/searchversions.py)."""
        articles = numbered(model)
        hidden = os.path.join(path, PARTS[False])
        return cls(Part.open(os.path.join(path, PARTS[True]), articles),
                   Part.open(hidden, articles) if os.path.isdir(hidden) else None)

    def parts(self, preview: bool) -> list[Part]:
        return [self.public, self.hidden] if preview and self.hidden is not None else [self.public]


# --- writing -------------------------------------------------------------------------

class _Writing:
    """The writers of an index's parts, in the directory ``path`` (None: in
    memory), each opened when first needed."""

    def __init__(self, path: str | None, threads: int = 1) -> None:
        self.path, self.threads = path, threads
        self.indexes: dict[bool, tantivy.Index] = {}
        self.writers: dict[bool, tantivy.IndexWriter] = {}

    def writer(self, shown: bool) -> tantivy.IndexWriter:
        writer = self.writers.get(shown)
        if writer is None:
            folder = None
            if self.path is not None:
                folder = os.path.join(self.path, PARTS[shown])
                os.makedirs(folder, exist_ok=True)
            index = self.indexes[shown] = _new(folder)
            writer = self.writers[shown] = index.writer(WRITER_HEAP * self.threads, self.threads)
        return writer

    def commit(self) -> dict[bool, tantivy.Index]:
        for writer in self.writers.values():
            writer.commit()
            writer.wait_merging_threads()
        self.writers.clear()
        return self.indexes


def write_whole(path: str, documents: Iterable[tuple[bool, str]]) -> None:
    """A new index at ``path`` (a directory) holding ``documents``."""
    writing = _Writing(path, threads=min(2, os.cpu_count() or 1))
    writing.writer(True)  # the public part, even empty
    for shown, doc in documents:
        writing.writer(shown).add_json(doc)
    writing.commit()


def patch(path: str, remove: Iterable[int], documents: Iterable[tuple[bool, str]]) -> None:
    """The index at ``path`` without the articles numbered ``remove`` (in
    either part), then with ``documents`` added."""
    writing = _Writing(path)
    remove = sorted(set(remove))
    gone = Q.term_set_query(SCHEMA, "num", remove)
    for shown, name in PARTS.items():
        # Only a part that holds one of them is written: each commit costs
        # its files' syncs.
        folder = os.path.join(path, name)
        if remove and os.path.isdir(folder) and Part.open(folder, ()).count(gone):
            # by query: tantivy-py's delete by term makes an unsigned field's
            # term of another type, which deletes nothing
            writing.writer(shown).delete_documents_by_query(gone)
    for shown, doc in documents:
        writing.writer(shown).add_json(doc)
    writing.commit()


def numbers_with(path: str, field: str, values: list[str]) -> set[int]:
    """The numbers of the articles of the index at ``path`` whose raw
    ``field`` holds one of ``values``."""
    found: set[int] = set()
    for name in PARTS.values():
        folder = os.path.join(path, name)
        if os.path.isdir(folder) and values:
            found.update(Part.open(folder, ()).numbers(Q.term_set_query(SCHEMA, field, values)))
    return found


def contents(path: str) -> dict[bool, set[int]]:
    """The article numbers each part of the index at ``path`` holds (for
    checks: tests/killing.py)."""
    found: dict[bool, set[int]] = {}
    for shown, name in PARTS.items():
        folder = os.path.join(path, name)
        if os.path.isdir(folder):
            found[shown] = set(Part.open(folder, ()).numbers(Q.all_query()))
    return found
