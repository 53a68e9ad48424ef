"""Posting sets and rankings of article numbers: what the planner
(store/planner.py), paging and facets answer from.

An article is named by its number (``Article.num``), which the store gives
it for life; a number is never a position in any order. One ``Indexes``
serves a whole read model: an audience is one more posting set (the
public's ``visible`` articles, or all of them for a preview), not a copy of
the indexes per view.

- ``postings[key][value]``: the numbers of the articles with that value
  (topic, provider (by key), its domain and names, type, collection,
  month, ...), as
  ``NumberSet`` objects (store/numbersets.py).
- ``rankings[order]``: every article in that order (store/ranking.py),
  one for each field in each direction, and a few of several fields
  built on first use.
- ``dimensions[name]`` and ``tallies[order]``: each facet dimension's
  values numbered, and the counts of the public's articles and of their
  values at block boundaries of the ascending rankings of the fields a
  range filters (store/tallies.py).

Both are patched per article (``Indexes.patched``), copy-on-write, so a
request holding the previous version keeps seeing it.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict, defaultdict
from itertools import repeat
from operator import attrgetter
from threading import Lock
from typing import Callable, Iterable

from .crossed import Crossed, crossed
from .numbersets import EMPTY, NumberSet
from .ordering import ATTRIBUTES, FIELDS, Order, key_function
from .predicates import provider_names
from .ranking import STRIDES, Ranking, rank
from .objects import Article
from .tallies import DIMENSIONS, Dimension, Tallies, stride_for, values_of
from .words import WordIndex

# Rankings built on demand (orders of several fields) kept per Indexes.
LAZY_RANKINGS = 8
# Text fields whose words are indexed (store/words.py).
TEXTS = ("title", "excerpt")
# Orders every Indexes holds a ranking of: the ascending ones serve ranges.
EAGER = tuple(((field, direction),) for field in FIELDS for direction in ("ASC", "DESC"))
SINGLE = {order: ATTRIBUTES[order[0][0]] for order in EAGER}
# Rankings with facet tallies: those of the fields ranges filter on.
TALLIED = tuple(((field, "ASC"),) for field in ("PUBLISHED_AT", "HEAT", "QUALITY"))


def keys_of(article: Article) -> list[tuple[str, object]]:
    """Every (posting key, value) the article is a member of."""
    provider = article.provider
    keys: list[tuple[str, object]] = [("type", article.type), ("collection", article.collection),
                                      ("provider", provider.key if provider else None),
                                      ("domain", provider.domain if provider else None)]
    keys += [("topic", topic.slug) for topic in article.topics]
    keys += [("providerName", name) for name in provider_names(article)]
    # Tags as written (facets count each spelling) and case-folded (filters).
    keys += [("tag", tag) for tag in article.tags]
    keys += [("tagKey", key) for key in article.tag_keys]
    keys.append(("site", article.site.name if article.site else None))
    if article.month is not None:
        keys.append(("month", article.month))
    if article.visible:
        keys.append(("visible", True))
    if article.images:
        keys.append(("hasImages", True))
    if article.related_count:
        keys.append(("hasRelated", True))
    return keys


POSTING_KEYS = ("type", "collection", "provider", "domain", "topic", "providerName", "tag", "tagKey", "site",
                "month", "visible", "hasImages", "hasRelated")


class Indexes:
    """Every posting set and ranking of one version of the model."""

    def __init__(self, articles: Iterable[Article], strides: tuple[int, ...] = STRIDES,
                 tally_stride: int | None = None) -> None:
        articles = list(articles)
        self.strides = strides
        self.by_num: list[Article | None] = [None] * (max((a.num for a in articles), default=-1) + 1)
        grouped: dict[str, defaultdict] = {key: defaultdict(list) for key in POSTING_KEYS}
        for article in articles:
            if self.by_num[article.num] is not None:
                raise ValueError(f"two articles numbered {article.num}")
            self.by_num[article.num] = article
            for key, value in keys_of(article):
                grouped[key][value].append(article.num)
        self.universe = NumberSet(a.num for a in articles)
        self.postings: dict[str, dict[object, NumberSet]] = {
            key: {value: NumberSet(nums) for value, nums in values.items()} for key, values in grouped.items()}
        self.visible = self.postings["visible"].get(True, NumberSet())
        self.words = {field: WordIndex((a.num, getattr(a, field)) for a in articles) for field in TEXTS}
        by_id = sorted(articles, key=attrgetter("id"))
        self.rankings: dict[Order, Ranking] = {order: self._build(order, by_id) for order in EAGER}
        self.dimensions = {name: Dimension(name, articles, len(self.by_num)) for name in DIMENSIONS}
        stride = tally_stride or stride_for(len(articles))
        self.tallies: dict[Order, Tallies] = {
            order: Tallies(self.rankings[order].nums, self.dimensions, self.visible, stride) for order in TALLIED}
        self._lazy: OrderedDict[Order, Ranking] = OrderedDict()
        self._lock = Lock()

    def __getstate__(self) -> dict:
        return {k: v for k, v in vars(self).items() if k not in ("_lazy", "_lock", "_crossed")}

    def __setstate__(self, state: dict) -> None:
        vars(self).update(state)
        self._lazy = OrderedDict()
        self._lock = Lock()

    def _build(self, order: Order, by_id: list[Article]) -> Ranking:
        nums, present, values = rank(by_id, order)
        return Ranking(order, nums, present, len(self.by_num), self.strides, values)

    def audience(self, preview: bool) -> NumberSet:
        return self.universe if preview else self.visible

    def posting(self, key: str, value) -> NumberSet:
        return self.postings[key].get(value, EMPTY)

    def ranking(self, order: Order) -> Ranking:
        """The ranking of ``order``: one of each field's two, or one built on
        first use (a few are kept)."""
        found = self.rankings.get(order)
        if found is not None:
            return found
        with self._lock:
            found = self._lazy.get(order)
            if found is not None:
                self._lazy.move_to_end(order)
                return found
        by_id = sorted((a for a in self.by_num if a is not None), key=attrgetter("id"))
        found = self._build(order, by_id)
        with self._lock:
            self._lazy[order] = found
            while len(self._lazy) > LAZY_RANKINGS:
                self._lazy.popitem(last=False)
        return found

    def crossed(self, first: Ranking, second: Ranking) -> Crossed | None:
        """The public's articles of ranking ``first`` as positions in
        ``second`` (store/crossed.py), both of these indexes, or None while
        it is being made. Made per version on first use: never patched."""
        cache = vars(self).get("_crossed")
        if cache is None:
            cache = vars(self).setdefault("_crossed", {})
        return crossed(cache, first, second, self.visible, self.strides)

    def sort_key(self, order: Order) -> Callable[[int], tuple]:
        """A number's sort key in ``order`` (for bisecting by cursor)."""
        key, by_num = key_function(order), self.by_num
        return lambda num: key(by_num[num])

    # --- patching --------------------------------------------------------------

    def patched(self, removed: Iterable[Article], added: Iterable[Article]) -> "Indexes":
        """The indexes of this version with ``removed`` articles taken out
        and ``added`` ones put in (an article that changed is removed as it
        was and added as it is, under its one number). This object is left
        as it is, for the requests still reading it; unchanged posting sets
        are shared with it."""
        removed, added = list(removed), list(added)
        other = Indexes.__new__(Indexes)
        other.strides = self.strides
        other.by_num = list(self.by_num)
        other._lazy, other._lock = OrderedDict(), Lock()
        # A key's values are copied when the patch touches one of them, and
        # a value's set when the patch changes it: the rest are shared.
        postings = dict(self.postings)
        owned: set[tuple[str, object]] = set()
        copied: set[str] = set()

        def posting(key: str, value) -> NumberSet:
            if (key, value) not in owned:
                if key not in copied:
                    copied.add(key)
                    postings[key] = dict(postings[key])
                owned.add((key, value))
                postings[key][value] = NumberSet(postings[key].get(value, EMPTY))
            return postings[key][value]

        # An order in which every changed article keeps its key (a new title
        # leaves the dates, heat and quality where they were), and, when it is
        # tallied, its audience and facet values, keeps its ranking and tallies
        # as they are, shared; so does a text field no changed article changes.
        again = {a.num: a for a in added}
        swaps = len(again) == len(removed) and all(a.num in again for a in removed)
        counted = swaps and all(a.visible == again[a.num].visible and all(
            values_of(a, name) == values_of(again[a.num], name) for name in DIMENSIONS) for a in removed)
        fixed = {order for order in self.rankings if swaps and (counted or order not in self.tallies) and all(
            key_function(order)(a) == key_function(order)(again[a.num]) for a in removed)}
        rankings = {order: ranking.copy() for order, ranking in self.rankings.items() if order not in fixed}
        same_text = {field for field in self.words if swaps and all(
            getattr(a, field) == getattr(again[a.num], field) for a in removed)}
        words = {field: index.copy() for field, index in self.words.items() if field not in same_text}
        dimensions = {name: dimension.copy() for name, dimension in self.dimensions.items()}
        tallies = {order: kept.copy() for order, kept in self.tallies.items() if order not in fixed}
        universe = NumberSet(self.universe)
        for article in removed:
            if other.by_num[article.num] is not article:
                raise ValueError(f"article {article.id!r} is not number {article.num} of these indexes")
            codes = {name: d.codes(article) for name, d in dimensions.items()} if article.visible else None
            for order, ranking in rankings.items():
                position = self._position(ranking, other.by_num, article)
                ranking.remove(position, getattr(article, SINGLE[order]))
                if order in tallies:
                    tallies[order].remove(position, codes)
            for dimension in dimensions.values():
                dimension.assign(article.num, None)
            for key, value in keys_of(article):
                posting(key, value).discard(article.num)
            for field, index in words.items():
                index.discard(article.num, getattr(article, field))
            universe.discard(article.num)
            other.by_num[article.num] = None
        for article in added:
            if article.num >= len(other.by_num):
                other.by_num.extend(repeat(None, article.num + 1 - len(other.by_num)))
            if other.by_num[article.num] is not None:
                raise ValueError(f"two articles numbered {article.num}")
            for dimension in dimensions.values():
                dimension.assign(article.num, article)
            codes = {name: d.of[article.num] for name, d in dimensions.items()} if article.visible else None
            for order, ranking in rankings.items():
                sort_key = key_function(order)
                position = bisect_left(ranking.nums, sort_key(article),
                                       key=lambda n: sort_key(other.by_num[n]))
                ranking.insert(position, article.num, getattr(article, SINGLE[order]))
                if order in tallies:
                    tallies[order].insert(position, codes)
            for key, value in keys_of(article):
                posting(key, value).add(article.num)
            for field, index in words.items():
                index.add(article.num, getattr(article, field))
            universe.add(article.num)
            other.by_num[article.num] = article
        for key, value in owned:
            if not postings[key][value]:
                del postings[key][value]
        for ranking in rankings.values():
            ranking._owned = None
        for owner in (*words.values(), *dimensions.values()):
            owner.settle()
        for kept in tallies.values():
            kept.settle()
        other.postings, other.universe = postings, universe
        other.rankings = {order: rankings.get(order, ranking) for order, ranking in self.rankings.items()}
        other.words = {field: words.get(field, index) for field, index in self.words.items()}
        other.dimensions = dimensions
        other.tallies = {order: tallies.get(order, kept) for order, kept in self.tallies.items()}
        other.visible = postings["visible"].get(True, NumberSet())
        return other

    @staticmethod
    def _position(ranking: Ranking, by_num: list, article: Article) -> int:
        key = key_function(ranking.order)
        position = bisect_left(ranking.nums, key(article), key=lambda n: key(by_num[n]))
        if position >= len(ranking.nums) or ranking.nums[position] != article.num:
            raise ValueError(f"article {article.id!r} is not where its ranking says")
        return position
