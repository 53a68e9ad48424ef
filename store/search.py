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
from itertools import accumulate, chain, compress, groupby, islice, repeat
from operator import add, ge, gt, is_, lt, sub
from threading import Lock
from typing import Callable

import orjson

from .db import paused_gc
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
# Scores that round alike at 6 decimals are closer than this (with room
# for float error): a margin wherever rounded scores are compared in bulk.
_NEAR = 2e-6
FIELDS = tuple(FIELD_WEIGHTS)
# SearchIndex.to_bytes: what its bytes start with, and their layout's version.
_MAGIC = b"newsgraph search index\n"
_FORMAT = 1


def fold(text: str) -> str:
    if text.isascii():  # most text: nothing to decompose, case folding is lower casing
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str | None) -> list[str]:
    if not text:
        return []
    if text.isascii():
        return text.translate(_ASCII_WORDS).split()
    return _WORD.findall(fold(text))


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
            ranked.sort(key=lambda hit: _key(*hit))
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
    """The index of one read model (one data version): the sorted
    vocabulary, and per view (``False``: public, ``True``: preview) its
    Postings; the same object when no article is hidden."""

    def __init__(self, model: ReadModel) -> None:
        with paused_gc():  # the build makes millions of short-lived lists
            indexing = Indexing(model)
            part = indexing.postings(0, len(indexing.vocabulary))
        self._set(model, indexing.vocabulary, join([part]))

    @classmethod
    def joined(cls, model: ReadModel, vocabulary: list[str], parts: list[dict]) -> "SearchIndex":
        """The index of ``model`` from the parts ``Indexing.postings`` made,
        in vocabulary order (see store/image.py, which makes them in two
        processes)."""
        index = cls.__new__(cls)
        index._set(model, vocabulary, join(parts))
        return index

    def _set(self, model: ReadModel, vocabulary: list[str], views: dict[bool, Postings]) -> None:
        self.model, self.vocabulary, self.views = model, vocabulary, views
        self.ids = {word: i for i, word in enumerate(vocabulary)}

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
        for preview in (False, True):
            postings = self.views[preview]
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
        try:
            header, blobs = _sections(raw)
            if (header["data_version"], header["articles"]) != (model.data_version, len(model.all_articles)):
                raise ValueError("the search index was built for another data version")
            vocabulary = str(blobs[0], "utf-8").split("\n") if len(blobs[0]) else []
            views = {}
            for preview, name in ((False, "public"), (True, "preview")):
                first = header["views"][name]
                views[preview] = views[False] if first == "public" else Postings(
                    *(blobs[first + k].cast(code) for k, (_, code) in enumerate(Postings.ARRAYS)))
        except (KeyError, IndexError, TypeError, orjson.JSONDecodeError) as exc:
            raise ValueError(f"not a readable search index ({type(exc).__name__}: {exc})") from None
        for postings in set(views.values()):
            if not (len(postings.starts) == len(postings.runs) == len(vocabulary) + 1
                    and postings.starts[-1] == len(postings.docs)
                    and postings.runs[-1] == len(postings.ends) == len(postings.scores)):
                raise ValueError("the search index's arrays do not fit together")
        index = cls.__new__(cls)
        index._set(model, vocabulary, views)
        return index


def _sections(raw: memoryview) -> tuple[dict, list[memoryview]]:
    """The header and the blobs of an index's bytes."""
    if raw[:len(_MAGIC)] != _MAGIC:
        raise ValueError("not a search index")
    at = len(_MAGIC) + 8
    size = int.from_bytes(raw[len(_MAGIC):at], "little")
    header = orjson.loads(raw[at:at + size])
    if header["format"] != _FORMAT:
        raise ValueError(f"search index format {header['format']!r}, expected {_FORMAT}")
    if header["byteorder"] != sys.byteorder or header["arrays"] != [list(a) for a in Postings.ARRAYS]:
        raise ValueError("the search index was written by a different kind of machine")
    at += size
    blobs = []
    for length in header["blobs"]:
        at += -at % 8
        if at + length > len(raw):
            raise ValueError("the search index is cut short")
        blobs.append(raw[at:at + length])
        at += length
    return header, blobs


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
# Pure Python over millions of postings (~8 million at 100k articles), so a
# posting costs a few C-level passes (map, Counter, dict) and the rest is
# done per *class*: the articles that have a word in the same field with
# the same count and field length share its weighted tf, hence its score,
# in each view.


class Indexing:
    """An index being built: every article's words, read once (the slow,
    per-article part), then the postings of any range of the vocabulary.
    Ranges are independent, so two processes can make one each from the
    same reading (store/image.py) and ``join`` them."""

    def __init__(self, model: ReadModel) -> None:
        articles = model.all_articles
        # Articles are numbered by id while building, so that "ties by id" is
        # "ties by number"; the arrays hold ordinals.
        by_id = sorted(range(len(articles)), key=lambda doc: articles[doc].id)
        visible = [articles[doc].visible for doc in by_id]
        self.occurrences, lengths = _read(articles, by_id, visible)
        self.vocabulary = sorted(set().union(*self.occurrences[True], *self.occurrences[False]))
        self.preview = _View(lengths, None, by_id)
        self.public = self.preview if all(visible) else _View(lengths, visible, by_id)

    def cut(self, share: float) -> int:
        """Where to cut the vocabulary so that the words before the cut
        hold about ``share`` of the occurrences (what making postings
        costs): a few common words hold most of them."""
        weight = dict.fromkeys(self.vocabulary, 0)
        for shown in (True, False):
            for rows in self.occurrences[shown]:
                for word, count in zip(rows, map(len, rows.values())):
                    weight[word] += count
        totals = list(accumulate(weight.values()))  # in vocabulary order
        return bisect_left(totals, share * totals[-1]) if totals else 0

    def postings(self, first: int, last: int) -> dict[bool, list[array]]:
        """Each view's arrays (as ``Postings.ARRAYS``) for the words
        ``vocabulary[first:last]``; the same list for both views when no
        article is hidden. The words' occurrences are used up."""
        public, preview = self.public, self.preview
        arrays = {view: _arrays() for view in {public, preview}}
        for word in self.vocabulary[first:last]:
            # Published and unpublished articles apart, so the public view
            # need not filter; both in the preview.
            shown, shown_mixed = _classes([rows.pop(word, None) for rows in self.occurrences[True]],
                                          public.lengths)
            hidden, hidden_mixed = _classes([rows.pop(word, None) for rows in self.occurrences[False]],
                                            public.lengths)
            if public is not preview:
                public.add(arrays[public], shown, shown_mixed)
            preview.add(arrays[preview], shown + hidden, shown_mixed + hidden_mixed)
        return {False: arrays[public], True: arrays[preview]}


def _arrays() -> list[array]:
    arrays = [array(code) for _, code in Postings.ARRAYS]
    arrays[0].append(0)  # starts
    arrays[1].append(0)  # runs
    return arrays


def join(parts: list[dict[bool, list[array]]]) -> dict[bool, Postings]:
    """Each view's postings from the parts of consecutive vocabulary ranges,
    in order. The first part's arrays are extended in place; a later part's
    positions (``starts`` and ``ends`` into ``docs``, ``runs`` into
    ``ends``) move up by what comes before them."""
    views: dict[bool, Postings] = {}
    for preview in (False, True):
        if preview and all(part[True] is part[False] for part in parts):
            views[True] = views[False]
            continue
        first, *rest = (part[preview] for part in parts)
        starts, runs, docs, ends, scores = first
        for p_starts, p_runs, p_docs, p_ends, p_scores in rest:
            before, runs_before = len(docs), len(ends)
            starts.extend(map(add, islice(p_starts, 1, None), repeat(before)))
            runs.extend(map(add, islice(p_runs, 1, None), repeat(runs_before)))
            ends.extend(map(add, p_ends, repeat(before)))
            docs.extend(p_docs)
            scores.extend(p_scores)
        views[preview] = Postings(*map(memoryview, (starts, runs, docs, ends, scores)))
    return views


def _read(articles: list[Article], by_id: list[int],
          visible: list[bool]) -> tuple[dict[bool, list[dict]], list[list[int]]]:
    """Per visibility and field: each word's occurrences (the article's
    number once per occurrence, so numbers ascend). And each article's
    length in words, per field."""
    occurrences = {shown: [defaultdict(list) for _ in FIELDS] for shown in (True, False)}
    lengths = [[0] * len(by_id) for _ in FIELDS]
    append = list.append
    for number, doc in enumerate(by_id):
        texts = field_texts(articles[doc])
        for field, rows, length in zip(FIELDS, occurrences[visible[number]], lengths):
            parts = texts[field]
            words = tokens(parts[0]) if len(parts) == 1 else [w for part in parts for w in tokens(part)]
            if words:
                length[number] = len(words)
                # rows[word].append(number) for each word, without a Python loop
                deque(map(append, map(rows.__getitem__, words), repeat(number)), 0)
    return occurrences, lengths


def _classes(fields: list[list[int] | None], lengths: list[list[int]]) -> tuple[list, list]:
    """A word's articles per field and class, from its occurrences per field:
    [(field, {class: numbers})], where the class is the field's length (for
    a count of 1) or (count, length); and the articles that have the word
    in several fields (a few): [(number, [(field, count)])]."""
    counted = [Counter(occurrences) if occurrences else None for occurrences in fields]
    once = [counts is not None and len(counts) == len(occurrences)
            for occurrences, counts in zip(fields, counted)]
    mixed = _mixed(counted)
    classes = []
    for field, counts in enumerate(counted):
        if not counts:
            continue
        length = lengths[field]
        by_class: defaultdict[object, list[int]] = defaultdict(list)
        if once[field]:  # each article has the word once: the usual case
            keys = map(length.__getitem__, counts)
        else:
            keys = zip(counts.values(), map(length.__getitem__, counts))
        # by_class[key].append(number) for each, without a Python loop
        deque(map(list.append, map(by_class.__getitem__, keys), counts), 0)
        classes.append((field, by_class))
    return classes, mixed


def _mixed(fields: list[Counter | None]) -> list[tuple[int, list[tuple[int, int]]]]:
    """The articles with the word in several fields, taken out of ``fields``:
    (number, [(field, count)] in field order)."""
    present = [counts for counts in fields if counts]
    if len(present) < 2:
        return []
    largest = max(present, key=len)
    seen: set[int] = set()
    several: set[int] = set()
    for counts in present:  # all but the largest field, then that one against them
        if counts is not largest:
            several.update(seen.intersection(counts))
            seen.update(counts)
    several.update(filter(largest.__contains__, seen))
    if not several:
        return []
    parts: dict[int, list[tuple[int, int]]] = {number: [] for number in several}
    for field, counts in enumerate(fields):
        if counts:
            for number in several.intersection(counts):
                parts[number].append((field, counts.pop(number)))
    return list(parts.items())


class _Weights(dict):
    """Class -> weighted tf (its count times the field's coefficient), for
    one field of one view, computed on first use."""

    def __init__(self, view: "_View", field: int) -> None:
        super().__init__()
        weight, b, average = FIELD_WEIGHTS[FIELDS[field]], FIELD_B[FIELDS[field]], view.averages[field]
        # BM25F normalises each field by its own average length, so a long
        # body does not dilute a word in the title.
        self.coefficient = lambda n: weight / (1 - b + b * n / average) if average else weight

    def __missing__(self, key) -> float:
        tf, length = key if isinstance(key, tuple) else (1, key)
        weighted = self[key] = tf * self.coefficient(length)
        return weighted


class _View:
    """One view's postings while they are built: only the articles of the
    view (all, or the ``visible`` ones) count, for document frequencies and
    average lengths too."""

    def __init__(self, lengths: list[list[int]], visible: list[bool] | None, by_id: list[int]) -> None:
        self.by_id = by_id
        self.count = count = len(by_id) if visible is None else sum(visible)
        self.averages = []
        for length in lengths:
            total = sum(length) if visible is None else sum(compress(length, visible))
            self.averages.append(total / count if count else 0.0)
        self.lengths = lengths
        self.weights = [_Weights(self, field) for field in range(len(FIELDS))]

    def add(self, arrays: list[array], classes: list, mixed: list) -> None:
        """The next word of a vocabulary range, from its classes, to the
        range's ``arrays``."""
        starts, runs, docs, ends, scores = arrays
        groups: defaultdict[float, list[list[int]]] = defaultdict(list)  # weighted tf -> members
        df = len(mixed)
        for field, by_class in classes:
            weighted = map(self.weights[field].__getitem__, by_class)
            deque(map(list.append, map(groups.__getitem__, weighted), by_class.values()), 0)
            df += sum(map(len, by_class.values()))
        for number, counts in mixed:
            weighted = 0.0  # summed in field order
            for field, tf in counts:
                weighted += self.weights[field][tf, self.lengths[field][number]]
            groups[weighted].append([number])
        if df:
            ranked, values = _ranked(groups, df, self.count)
            start = len(docs)
            docs.extend(map(self.by_id.__getitem__, chain.from_iterable(ranked)))
            ends.extend(islice(accumulate(map(len, ranked), initial=start), 1, None))
            scores.extend(values)
        starts.append(len(docs))
        runs.append(len(ends))


def _ranked(groups: dict[float, list[list[int]]], df: int, count: int) -> tuple[list[list[int]], list[float]]:
    """A word's articles in answer order, as runs of numbers sharing one
    score, and the runs' scores, from its articles grouped by weighted tf:
    the score is a function of it, so scores are computed and sorted per
    group; articles whose scores round alike go by number (id)."""
    idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
    values = [idf * tf * (K1 + 1) / (tf + K1) for tf in groups]
    order = sorted(range(len(values)), key=values.__getitem__, reverse=True)
    members = list(groups.values())
    runs = [members[i][0] if len(members[i]) == 1 else sorted(chain.from_iterable(members[i]))
            for i in order]
    values = list(map(values.__getitem__, order))
    if len(values) > 1 and min(map(sub, values, islice(values, 1, None))) < _NEAR:
        runs, values = _ties(runs, values)
    return runs, values


def _ties(runs: list[list[int]], values: list[float]) -> tuple[list[list[int]], list[float]]:
    """Neighbouring runs whose scores round alike, merged and ordered by number;
    an article's own score stays with it, so a merged run splits where the
    score changes. Only runs closer than _NEAR to a neighbour are looked at."""
    gaps = map(sub, values, islice(values, 1, None))
    close = compress(range(len(values) - 1), map(lt, gaps, repeat(_NEAR)))
    merged_runs: list[list[int]] = []
    merged_values: list[float] = []
    done = 0
    for first, last in _clusters(close):  # runs first..last (inclusive) are each close to the next
        merged_runs += runs[done:first]
        merged_values += values[done:first]
        for _, tied in groupby(range(first, last + 1), key=lambda i: round(values[i], 6)):
            tied = list(tied)
            if len(tied) == 1:
                merged_runs.append(runs[tied[0]])
                merged_values.append(values[tied[0]])
                continue
            pairs = sorted((number, values[i]) for i in tied for number in runs[i])
            for value, run in groupby(pairs, key=lambda pair: pair[1]):
                merged_runs.append([number for number, _ in run])
                merged_values.append(value)
        done = last + 1
    return merged_runs + runs[done:], merged_values + values[done:]


def _clusters(close) -> list[tuple[int, int]]:
    """(first, last) of each chain of positions ``i`` whose run is close to
    run ``i + 1``."""
    clusters: list[list[int]] = []
    for i in close:
        if clusters and clusters[-1][1] == i:
            clusters[-1][1] = i + 1
        else:
            clusters.append([i, i + 1])
    return [(first, last) for first, last in clusters]


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
