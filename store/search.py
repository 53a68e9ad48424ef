"""Search: ranked hits of a query in one view, in pages; what a search box
asks besides (similar articles, completions); the ``text`` filter's
matches. The engine is store/searchindex.py.

A query is our tree (store/searchsyntax.py). Its hits come in tiers: those
that match every term as typed, then, with typo tolerance, those that need
a typo; each tier is searched in each part of the view's index (published
articles, and for the preview the others), and the hits are merged by the
score an answer shows, ties by id.
"""
from __future__ import annotations

import functools
import math
from bisect import bisect_right
from dataclasses import dataclass
from threading import Lock
from typing import Callable

from . import searchfilter, searchindex, searchsyntax
from .searchindex import Part, SearchIndex, analyze, parse
from .searchsyntax import Node, Word


@dataclass(frozen=True)
class Tier:
    """The hits of one query, and the scores an answer shows for them: 1 +
    BM25 for a hit that matches every term as typed, below 1 for one that
    needs a typo, so the first rank above the second."""
    query: object  # the engine's
    typos: bool

    # The highest score a typo hit shows (rounding never makes it 1).
    TYPO_CEILING = 0.9999

    def shown(self, raw: float) -> float:
        if self.typos:
            return min(round(raw / (1.0 + raw), 4), self.TYPO_CEILING)
        return round(1.0 + raw, 4)


def _tiers(tree: Node, fuzzy: bool, conditions: list) -> list[Tier]:
    """The queries of ``tree`` narrowed by ``conditions`` (store/searchfilter.py):
    the hits matching every term as typed, then, with typo tolerance, the
    others that match with typos."""
    allowed = searchindex.condition(conditions)
    tiers = [Tier(searchindex.narrowed(searchindex.query(tree, False), allowed), False)]
    if fuzzy and any(isinstance(t, Word) and searchsyntax.typos_allowed(t.text) for t in searchsyntax.terms(tree)):
        tiers.append(Tier(searchindex.narrowed(searchindex.near(tree), allowed), True))
    return tiers


class Found:
    """The hits of one search in one view, ranked by score, ties by id: the
    hits of each tier in each part of the index, merged."""

    # Hits fetched beyond the page, so the next page usually needs no fetch
    # of its own.
    SLACK = 8

    def __init__(self, parts: list[Part], tree: Node | None, tiers: list[Tier],
                 keep: Callable | None = None) -> None:
        self.tree = tree
        self.sources = [(part, tier) for tier in tiers for part in parts]
        # Per source, how many hits it has (None until first fetched) and
        # its best hits so far, best first: each source's first fetch is a
        # page's, and counts its hits in the same pass.
        self.totals: list[int | None] = [None] * len(self.sources)
        self.fetched: list[list] = [[] for _ in self.sources]
        self._all: list | None = None
        if keep is not None:
            # Conditions the engine cannot test: every hit is fetched and tested.
            found = []
            for part, tier in self.sources:
                _, total = part.hits(tier.query, 1, count=True)
                if total:
                    found += self._shown(tier, [h for h in part.hits(tier.query, total)[0] if keep(h[1])])
            self._all = sorted(found, key=_order)

    @property
    def total(self) -> int:
        if self._all is not None:
            return len(self._all)
        for n in range(len(self.sources)):
            if self.totals[n] is None:
                self._fetch(n, 1)
        return sum(self.totals)

    def _fetch(self, n: int, wanted: int) -> None:
        part, tier = self.sources[n]
        found, total = part.hits(tier.query, wanted, count=self.totals[n] is None)
        self.fetched[n] = self._shown(tier, found)
        if total is not None:
            self.totals[n] = total

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
        # Typo hits rank below every exact one: their tier is searched only
        # when the page reaches past the exact hits.
        typos = any(tier.typos for _, tier in self.sources)
        while True:
            lowest = -math.inf  # hits scoring this may have equals not fetched yet
            for n, (_, tier) in enumerate(self.sources):
                if tier.typos and typos:
                    lowest = max(lowest, Tier.TYPO_CEILING)
                    continue
                if self.totals[n] is None or len(self.fetched[n]) < min(limit, self.totals[n]):
                    self._fetch(n, limit)
                if len(self.fetched[n]) < self.totals[n]:
                    lowest = max(lowest, self.fetched[n][-1][0])
            hits = sorted((hit for found in self.fetched for hit in found), key=_order)
            safe = sum(1 for score, _ in hits if score > lowest)
            start = start_of(hits[:safe])
            if start + first <= safe or (safe == len(hits) and not typos):
                return hits[start:start + first], start
            if typos and safe == len(hits):
                typos = False  # every exact hit is in: the page needs typo hits
            else:
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
    by_id = view.by_id
    conditions, rest = searchfilter.split(where, now, lambda ident: getattr(by_id.get(ident), "num", None))
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
    query = searchindex.matches(tree)
    return frozenset(n for part in index_for(view.model).parts(view.preview) for n in part.numbers(query))


def similar(view, article, limit: int) -> list:
    """Articles like ``article`` (its title, excerpt, body and topics), best
    first; never itself, and only those the view shows."""
    if limit <= 0:
        return []
    found = []
    for part in index_for(view.model).parts(view.preview):
        found += part.hits(searchindex.like(article, part.documents), limit)[0]
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
        names = sorted({item.name for item in items if _completes(_name_words(item.name), words)}, key=str.casefold)
        for name in names[:limit]:
            found.setdefault(name.casefold(), Suggestion(name, kind))
    if len(found) < limit:
        match = searchindex.title_start(words)
        titles = []
        for part in index_for(view.model).parts(view.preview):
            titles += part.hits(match, limit)[0]
        titles.sort(key=lambda hit: (-hit[0], hit[1].title_key, hit[1].id))
        for _, article in titles:
            found.setdefault(article.title.casefold(), Suggestion(article.title, "title"))
    return list(found.values())[:limit]


@functools.lru_cache(maxsize=1 << 16)
def _name_words(name: str) -> tuple[str, ...]:
    """A topic's or provider's name as words: each suggestion asks for every
    name's, and the names change little from one version to the next."""
    return tuple(analyze(name))


def _completes(name: tuple[str, ...], words: list[str]) -> bool:
    """Whether ``words`` (the last one a start) occur side by side in ``name``."""
    *before, start = words
    whole = tuple(before)
    for i in range(len(name) - len(whole)):
        if name[i:i + len(whole)] == whole and name[i + len(whole)].startswith(start):
            return True
    return False
