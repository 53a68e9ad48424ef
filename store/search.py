"""Ranked full-text search (BM25F) built from the read model.

Fields are weighted (a word in the title counts more than one in the body),
text is folded to lower case without accents, and a query is a list of words,
``"quoted phrases"`` and ``prefix*`` terms that must all match. Document
frequencies are kept per view so unpublished articles never shape the
scores of a public answer.

Everything that does not depend on the query is computed when the index is
built: per view, each word's articles with their final score (idf times
saturated weighted tf), already in answer order, in flat arrays. A one-word
query is a slice of them, an AND of terms an intersection plus sums, and a
page of hits costs the page (plus one pass over the hits when they had to
be combined), not the collection.
"""
from __future__ import annotations

import heapq
import math
import re
import sys
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict, deque
from itertools import chain, compress, groupby, repeat
from operator import add, ge, gt, is_, lt, mul
from threading import Lock
from typing import Callable

import orjson

from .errors import BadQuery
from .readmodel import Article, ReadModel, View

FIELD_WEIGHTS = {"title": 4.0, "topics": 2.0, "provider": 1.5, "excerpt": 1.5, "body": 1.0}
# Length normalisation per field: a long body is diluted, while titles and
# excerpts vary little (a short excerpt must not outweigh the title) and
# name lists not at all.
FIELD_B = {"title": 0.3, "topics": 0.0, "provider": 0.0, "excerpt": 0.3, "body": 0.75}
K1 = 1.2
MAX_PREFIX_EXPANSION = 256
MAX_QUERY_TERMS = 32

_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")
_QUERY = re.compile(r'"([^"]*)"|(\S+)')
# ASCII text: letters and digits are its word characters, folding is lower
# casing, and a translation table plus split() finds the words several times
# faster than the regular expression.
_ASCII_WORDS = str.maketrans({c: chr(c).lower() if chr(c).isalnum() else " " for c in range(128)})
# Two scores with the same value at 6 decimals differ by less than this.
_NEAR = 1e-6
FIELDS = tuple(FIELD_WEIGHTS)


class _Folded(dict):
    """``fold`` of each character, computed on first use. Folding works
    character by character (decomposing, dropping combining marks and case
    folding never look at the neighbours; the marks canonical reordering
    moves are the ones dropped), so a string folds by ``str.translate``."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = self[code] = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        return folded


_FOLDED = _Folded()


def fold(text: str) -> str:
    return text.lower() if text.isascii() else text.translate(_FOLDED)


def tokens(text: str | None) -> list[str]:
    if not text:
        return []
    if text.isascii():
        return text.translate(_ASCII_WORDS).split()
    return _WORD.findall(text.translate(_FOLDED))


def field_texts(article: Article) -> dict[str, list[str]]:
    """Each field's texts. Provider and topic names stay separate strings so
    a phrase cannot run from one name into the next."""
    body = article.body or ""
    if "<" in body:
        body = _TAG.sub(" ", body)  # HTML bodies (samples, newsletters): words only
    names: list[str] = []
    for name in (article.provider.name if article.provider else None, article.provider_name):
        if name and name not in names:
            names.append(name)
    return {"title": [article.title], "excerpt": [article.excerpt or ""], "body": [body],
            "provider": names, "topics": [t.name for t in article.topics]}


def _key(article: Article, score: float) -> tuple[float, str]:
    """Where a hit stands in an answer (and what a search cursor decodes
    to): best rounded score first, ties by id."""
    return (-round(score, 6), article.id)


class Postings:
    """One view's index. Word ``i`` (of the sorted vocabulary) is in the
    articles ``docs[starts[i]:starts[i + 1]]`` (ordinals), in answer order.
    Their scores repeat a lot (same fields, counts and lengths), so they are
    kept as runs: run ``j`` gives ``scores[j]`` to the articles up to
    position ``ends[j]``; word ``i``'s runs are ``runs[i]:runs[i + 1]``."""

    __slots__ = ("starts", "runs", "docs", "ends", "scores")
    ARRAYS = (("starts", "I"), ("runs", "I"), ("docs", "I"), ("ends", "I"), ("scores", "d"))

    def __init__(self, starts, runs, docs, ends, scores) -> None:
        self.starts, self.runs, self.docs, self.ends, self.scores = starts, runs, docs, ends, scores

    def size(self, word: int) -> int:
        return self.starts[word + 1] - self.starts[word]

    def segment(self, word: int) -> tuple[memoryview, "_RunScores"]:
        begin, end = self.starts[word], self.starts[word + 1]
        first, last = self.runs[word], self.runs[word + 1]
        return self.docs[begin:end], _RunScores(self.ends[first:last], self.scores[first:last], begin)


class _RunScores:
    """The scores of one word's articles, by position, read from its runs."""

    __slots__ = ("ends", "values", "begin")

    def __init__(self, ends: memoryview, values: memoryview, begin: int) -> None:
        self.ends, self.values, self.begin = ends, values, begin

    def __len__(self) -> int:
        return self.ends[-1] - self.begin if len(self.ends) else 0

    def __getitem__(self, position: int) -> float:
        return self.values[bisect_right(self.ends, self.begin + position)]

    def __iter__(self):
        lengths = map(int.__sub__, self.ends, chain((self.begin,), self.ends))
        return chain.from_iterable(map(repeat, self.values, lengths))


class Hits:
    """The articles that match a query in one view: ordinals and scores side
    by side, ``ranked`` when already in answer order (one word, or one
    prefix that expands to one word: a slice of the index)."""

    __slots__ = ("articles", "docs", "scores", "ranked")

    def __init__(self, articles: list[Article], docs, scores, ranked: bool) -> None:
        self.articles, self.docs, self.scores, self.ranked = articles, docs, scores, ranked

    def __len__(self) -> int:
        return len(self.docs)

    def where(self, predicate: Callable[[Article], bool]) -> "Hits":
        """The hits whose article passes ``predicate``, in the same order."""
        keep = list(map(predicate, map(self.articles.__getitem__, self.docs)))
        return Hits(self.articles, list(compress(self.docs, keep)),
                    list(compress(self.scores, keep)), self.ranked)

    def ranking(self) -> list[tuple[Article, float]]:
        """Every hit, best first, with its score rounded as answers show it."""
        articles = self.articles
        ranked = [(articles[doc], round(score, 6)) for doc, score in zip(self.docs, self.scores)]
        if not self.ranked:
            ranked.sort(key=lambda hit: (-hit[1], hit[0].id))
        return ranked

    def page(self, first: int, after: tuple | None = None) -> tuple[list[tuple[Article, float]], int]:
        """The ``first`` hits that come after the cursor key ``after``, best
        first, and how many hits come before them. Ranked hits are bisected;
        others are cut at the cursor and at the ``first``-th best score with
        a pass over the scores, and only the few hits near the cut are
        sorted."""
        articles, docs, scores = self.articles, self.docs, self.scores
        key = lambda i: _key(articles[docs[i]], scores[i])
        n = len(docs)
        if self.ranked:
            start = bisect_right(range(n), after, key=key) if after is not None else 0
            window = range(start, min(n, start + first))
        else:
            rest = range(n) if after is None else _after(scores, after, key)
            start = n - len(rest)
            if len(rest) > first:
                rest = _best(scores, rest, first)
            window = sorted(rest, key=key)[:first]
        return [(articles[docs[i]], round(scores[i], 6)) for i in window], start


def _after(scores, after: tuple, key) -> list[int]:
    """Positions of the hits whose key is greater than the cursor key:
    every score well below the cursor's, and those near it that the key
    puts after it."""
    cut = -after[0]
    below = list(map(lt, scores, repeat(cut - _NEAR)))
    above = map(gt, scores, repeat(cut + _NEAR))
    near = compress(range(len(below)), map(is_, below, above))  # neither below nor above
    return list(compress(range(len(below)), below)) + [i for i in near if key(i) > after]


def _best(scores, positions: list[int] | range, count: int) -> list[int]:
    """The positions whose score may place them among the ``count`` best
    (all that round to at least the ``count``-th best score), unsorted."""
    if not count:
        return []
    values = list(map(scores.__getitem__, positions))
    floor = heapq.nlargest(count, values)[-1] - _NEAR
    return list(compress(positions, map(ge, values, repeat(floor))))


class SearchIndex:
    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.vocabulary, self.views = _build(model)
        self.ids = {word: i for i, word in enumerate(self.vocabulary)}

    # --- queries -------------------------------------------------------------

    def _expand(self, prefix: str, preview: bool) -> list[int]:
        """Every word of the view that starts with ``prefix``. Too short a
        prefix is refused rather than cut short, which would drop matches."""
        postings = self.views[preview]
        words = []
        first = bisect_left(self.vocabulary, prefix)
        for i in range(first, len(self.vocabulary)):
            if not self.vocabulary[i].startswith(prefix):
                break
            if postings.size(i):
                words.append(i)
                if len(words) > MAX_PREFIX_EXPANSION:
                    raise BadQuery(f"{prefix}* matches more than {MAX_PREFIX_EXPANSION} words: "
                                   "give a longer prefix")
        return words

    def _word(self, word: str, preview: bool) -> tuple:
        i = self.ids.get(word)
        if i is None:
            return (), (), True
        return (*self.views[preview].segment(i), True)

    def _best_of(self, words: list[int], preview: bool) -> tuple:
        """A prefix term: per article, the score of its best-scoring word."""
        postings = self.views[preview]
        if len(words) == 1:
            return (*postings.segment(words[0]), True)
        best: dict[int, float] = {}
        for word in words:
            docs, scores = postings.segment(word)
            for doc, score in zip(docs, scores):
                if score > best.get(doc, 0.0):
                    best[doc] = score
        return list(best), list(best.values()), False

    def _phrase(self, words: list[str], preview: bool) -> tuple:
        docs, scores, _ = _all_of([self._word(w, preview) for w in words])
        articles = self.model.all_articles
        keep = [any(_contains(tokens(text), words) for texts in field_texts(articles[doc]).values()
                    for text in texts) for doc in docs]
        return list(compress(docs, keep)), list(compress(scores, keep)), False

    def run(self, query: str, preview: bool) -> Hits:
        """The articles matching every term, with their scores. Terms are
        taken in order and the first empty one ends the search (a later
        prefix is then never expanded, nor refused)."""
        result = ((), (), True)
        for n, (kind, value) in enumerate(parse_query(query)):
            if kind == "word":
                part = self._word(value, preview)
            elif kind == "prefix":
                part = self._best_of(self._expand(value, preview), preview)
            else:
                part = self._phrase(value, preview)
            result = part if n == 0 else _all_of([result, part])
            if not len(result[0]):
                return Hits(self.model.all_articles, (), (), True)
        return Hits(self.model.all_articles, *result)

    # --- bytes ---------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index, to be restored by ``from_bytes`` for a read model of
        the same data version: a JSON header, then the words and each
        view's arrays, raw (machine byte order)."""
        blobs = [b"\n".join(w.encode() for w in self.vocabulary)]
        layout = {}
        for preview, postings in self.views.items():
            shared = preview and postings is self.views[False]
            layout["preview" if preview else "public"] = "public" if shared else len(blobs)
            if not shared:
                blobs += [getattr(postings, name).tobytes() for name, _ in Postings.ARRAYS]
        header = orjson.dumps({
            "format": _FORMAT, "data_version": self.model.data_version,
            "articles": len(self.model.all_articles), "byteorder": sys.byteorder,
            "arrays": [[name, code] for name, code in Postings.ARRAYS], "views": layout,
            "blobs": [len(blob) for blob in blobs]})
        parts = [_MAGIC, len(header).to_bytes(8, "little"), header]
        offset = len(_MAGIC) + 8 + len(header)
        for blob in blobs:
            padding = -offset % 8  # each array starts aligned
            parts += [b"\0" * padding, blob]
            offset += padding + len(blob)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, model: ReadModel, data: bytes) -> "SearchIndex":
        """The index that ``to_bytes`` wrote, for ``model``, without reading
        any article: the arrays are views of ``data`` (kept alive by them).
        Raises ValueError when ``data`` is not an index of this data version
        on this kind of machine, so the caller can build one instead."""
        raw = memoryview(data).cast("B")
        if raw[:len(_MAGIC)] != _MAGIC:
            raise ValueError("not a search index")
        at = len(_MAGIC) + 8
        size = int.from_bytes(raw[len(_MAGIC):at], "little")
        header = orjson.loads(raw[at:at + size])
        if header.get("format") != _FORMAT:
            raise ValueError(f"search index format {header.get('format')!r}, expected {_FORMAT}")
        if (header["data_version"], header["articles"]) != (model.data_version, len(model.all_articles)):
            raise ValueError("the search index was built for another data version")
        if header["byteorder"] != sys.byteorder or header["arrays"] != [list(a) for a in Postings.ARRAYS]:
            raise ValueError("the search index was written by a different kind of machine")
        at += size
        blobs = []
        for length in header["blobs"]:
            at += -at % 8
            blobs.append(raw[at:at + length])
            at += length
        index = cls.__new__(cls)
        index.model = model
        index.vocabulary = str(blobs[0], "utf-8").split("\n") if len(blobs[0]) else []
        index.ids = {word: i for i, word in enumerate(index.vocabulary)}
        public = header["views"]["public"]
        views = {False: Postings(*(blobs[public + k].cast(code)
                                   for k, (_, code) in enumerate(Postings.ARRAYS)))}
        preview = header["views"]["preview"]
        views[True] = views[False] if preview == "public" else Postings(
            *(blobs[preview + k].cast(code) for k, (_, code) in enumerate(Postings.ARRAYS)))
        index.views = views
        return index


_MAGIC = b"newsgraph search index\n"
_FORMAT = 1


def _all_of(parts: list[tuple]) -> tuple:
    """Articles in every part, their scores summed in term order (as the
    score of a match is defined); in the order of the largest part."""
    docs, scores, ranked = parts[0]
    for part_docs, part_scores, _ in parts[1:]:
        if not len(docs):
            break
        small, large = ((docs, scores), (part_docs, part_scores))
        if len(docs) > len(part_docs):
            small, large = large, small
        lookup = dict(zip(*small))
        keep = list(map(lookup.__contains__, large[0]))
        common = list(compress(large[0], keep))
        # Float addition is commutative, so either side may come first; the
        # running total is always one operand, so the sum keeps term order.
        scores = list(map(add, compress(large[1], keep), map(lookup.__getitem__, common)))
        docs, ranked = common, False
    return docs, scores, ranked and len(parts) == 1


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    first = needle[0]
    return any(haystack[i:i + n] == needle for i, w in enumerate(haystack) if w == first)


def parse_query(query: str) -> list[tuple[str, object]]:
    terms: list[tuple[str, object]] = []
    for phrase, bare in _QUERY.findall(query or ""):
        if phrase:
            words = tokens(phrase)
            if len(words) == 1:
                terms.append(("word", words[0]))
            elif words:
                terms.append(("phrase", words))
        elif bare.endswith("*") and tokens(bare):
            words = tokens(bare)
            terms.extend(("word", w) for w in words[:-1])
            terms.append(("prefix", words[-1]))
        else:
            terms.extend(("word", w) for w in tokens(bare))
    if len(terms) > MAX_QUERY_TERMS:
        raise BadQuery(f"a search may have at most {MAX_QUERY_TERMS} terms, got {len(terms)}")
    return terms


# --- building ------------------------------------------------------------------


def _build(model: ReadModel) -> tuple[list[str], dict[bool, Postings]]:
    """The sorted vocabulary and each view's postings."""
    articles = model.all_articles
    # Articles are numbered by id while building, so that "ties by id" is
    # "ties by number"; the arrays hold ordinals.
    by_id = sorted(range(len(articles)), key=lambda doc: articles[doc].id)
    occurrences, lengths = _read(articles, by_id)
    vocabulary = sorted(set().union(*occurrences))
    visible = [articles[doc].visible for doc in by_id]
    everyone = [True] * len(by_id)
    views = {True: _View(lengths, everyone, by_id)}
    views[False] = _View(lengths, visible, by_id) if not all(visible) else views[True]
    for word in vocabulary:
        # Per field: the word's articles (numbers, ascending) and counts.
        fields = [_counts(rows.pop(word, None)) for rows in occurrences]
        for view in set(views.values()):
            view.add(fields)
    return vocabulary, {preview: view.postings() for preview, view in views.items()}


def _read(articles: list[Article], by_id: list[int]) -> tuple[list[dict], list[list[int]]]:
    """Per field: each word's occurrences (the article's number once per
    occurrence, so numbers ascend) and each article's length in words."""
    occurrences = [defaultdict(list) for _ in FIELDS]
    lengths = [[0] * len(by_id) for _ in FIELDS]
    append = list.append
    for number, doc in enumerate(by_id):
        texts = field_texts(articles[doc])
        for field, rows, length in zip(FIELDS, occurrences, lengths):
            words = [word for text in texts[field] for word in tokens(text)]
            if words:
                length[number] = len(words)
                # rows[word].append(number) for each word, without a Python loop
                deque(map(append, map(rows.__getitem__, words), repeat(number)), 0)
    return occurrences, lengths


def _counts(occurrences: list[int] | None) -> tuple[list[int], list[int]] | None:
    if not occurrences:
        return None
    counts = Counter(occurrences)
    return list(counts), list(counts.values())


class _View:
    """One view's postings while they are built: only the articles of the
    view count, for document frequencies and average lengths too."""

    def __init__(self, lengths: list[list[int]], visible: list[bool], by_id: list[int]) -> None:
        self.visible = visible
        self.everyone = all(visible)
        self.by_id = by_id
        self.count = count = sum(visible)
        self.coefficients = []
        for field, length in zip(FIELDS, lengths):
            average = sum(compress(length, visible)) / count if count else 0.0
            weight, b = FIELD_WEIGHTS[field], FIELD_B[field]
            # BM25F normalises each field by its own average length, so a
            # long body does not dilute a word in the title.
            self.coefficients.append([weight / (1 - b + b * n / average) if average else weight
                                      for n in length])
        self.arrays = [array(code) for _, code in Postings.ARRAYS]
        self.arrays[0].append(0)
        self.arrays[1].append(0)

    def add(self, fields: list) -> None:
        """The next word of the vocabulary, from its counts per field."""
        starts, runs, docs, ends, scores = self.arrays
        if not self.everyone:
            fields = [_visible(rows, self.visible) for rows in fields]
        weighted = _weighted(fields, self.coefficients)
        if weighted:
            for numbers, score in _ranked(weighted, self.count):
                docs.extend(map(self.by_id.__getitem__, numbers))
                ends.append(len(docs))
                scores.append(score)
        starts.append(len(docs))
        runs.append(len(ends))

    def postings(self) -> Postings:
        return Postings(*map(memoryview, self.arrays))


def _visible(rows: tuple | None, visible: list[bool]) -> tuple | None:
    if rows is None:
        return None
    numbers, counts = rows
    keep = list(map(visible.__getitem__, numbers))
    numbers = list(compress(numbers, keep))
    return (numbers, list(compress(counts, keep))) if numbers else None


def _weighted(fields: list, coefficients: list[list[float]]) -> dict[int, float]:
    """Article number -> the word's weighted term frequency: its count in
    each field times the field's coefficient for the article, summed in
    field order."""
    weighted: dict[int, float] = {}
    for rows, coefficient in zip(fields, coefficients):
        if rows is None:
            continue
        numbers, counts = rows
        part = zip(numbers, map(mul, counts, map(coefficient.__getitem__, numbers)))
        if not weighted:
            weighted = dict(part)
            continue
        part = dict(part)
        for number in weighted.keys() & part.keys():  # the few in several fields
            part[number] += weighted[number]
        weighted.update(part)
    return weighted


def _ranked(weighted: dict[int, float], count: int) -> list[tuple[list[int], float]]:
    """A word's articles in answer order, as runs of (numbers, score). The
    score is a function of the weighted tf and many articles share one, so
    scores are computed and sorted per distinct value; articles whose scores
    round alike are ordered by number (by id)."""
    df = len(weighted)
    idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
    groups: defaultdict[float, list[int]] = defaultdict(list)
    deque(map(list.append, map(groups.__getitem__, weighted.values()), weighted), 0)
    scored = [(round(score, 6), score, numbers) for score, numbers in
              ((idf * tf * (K1 + 1) / (tf + K1), numbers) for tf, numbers in groups.items())]
    scored.sort(key=lambda run: run[0], reverse=True)
    runs = []
    for _, tied in groupby(scored, key=lambda run: run[0]):
        tied = list(tied)
        if len(tied) == 1:
            runs.append((sorted(tied[0][2]), tied[0][1]))
        else:  # distinct scores that round alike: their articles by number
            numbers = sorted((number, score) for _, score, group in tied for number in group)
            runs += [([number for number, _ in run], score)
                     for score, run in groupby(numbers, key=lambda pair: pair[1])]
    return runs


_BUILDING = Lock()


def index_for(model: ReadModel) -> SearchIndex:
    """Built on first use and kept for the model's lifetime (one data version);
    built once even when the start-up thread and a request ask together.
    A model may come with its index already set (``SearchIndex.from_bytes``)."""
    index = getattr(model, "_search_index", None)
    if index is None:
        with _BUILDING:
            index = getattr(model, "_search_index", None)
            if index is None:
                index = model._search_index = SearchIndex(model)
    return index


def find(view: View, query: str) -> Hits:
    """The hits of ``query`` in ``view``, unsorted unless one word."""
    return index_for(view.model).run(query, view.preview)


def text_matches(view: View, text: str) -> frozenset[int]:
    """Ordinals of the articles that the ``text`` filter keeps."""
    return frozenset(find(view, text).docs)


def search(view: View, query: str) -> list[tuple[Article, float]]:
    """Hits best first, ties by id; scores rounded before sorting, so the
    order is the one search cursors (score, id) bisect in."""
    return find(view, query).ranking()
