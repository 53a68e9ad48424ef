"""Relay pages: cursors, and the page of a set of articles in an order
without sorting the set.

A cursor holds its article's sort values and id, so it keeps its place by
key (not by offset) when articles are added or removed. The page of a set
(``page_of``) is found in the ranking of its order (store/indexes.py): the
set's members are counted before the cursors' positions, and the page is
read by walking the ranking from the cursor while members are dense, or
by finding its first and last member's positions and ordering the few
members between them. A set smaller than such a walk is sorted instead.
The answer is what sorting the whole set and bisecting it would give:
``paginate`` over a sorted list is that reference, and the lists of
providers and topics use it.
"""
from __future__ import annotations

import base64
import bisect
from dataclasses import dataclass
from typing import Callable, Sequence

import orjson

from .errors import BadQuery
from .indexes import Ranking
from .numbersets import NumberSet
from .ordering import Order, key_from_values, normalise_order, order_tag, values_of
from .readmodel import Article, View

MAX_PAGE = 100
DEFAULT_PAGE = 20
CURSOR_ORDERINGS = 8  # orderings whose cursors are remembered, per view
# A set this small is sorted by its ranking's labels rather than found in it.
SORTED_SET = 64
# A walk from a cursor reads at most this many positions (and this many
# times the positions its members' density predicts) before the page is
# found as the members of a stretch of the ranking instead.
WALK_LIMIT = 1024
WALK_SLACK = 4
# Stretches of the ranking tried, each four times as wide, before a sparse
# page is found by its members' positions.
STRETCHES = 3


@dataclass
class Page:
    items: list                      # Articles (or (Article, score) for search)
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count: Callable[[], int]         # totalCount, computed when asked for

    @property
    def total(self) -> int:
        return self.count()


def check_page_args(first: int | None, last: int | None, limit: int = MAX_PAGE) -> None:
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= limit:
            raise BadQuery(f"{name} must be between 0 and {limit}, got {value}")


def _bounds(start: int, end: int, first: int | None, last: int | None) -> tuple[int, int]:
    """The window [lo, hi) of the matches between the cursors, [start, end)."""
    lo, hi = start, end
    if first is not None:
        hi = min(hi, lo + first)
    if last is not None:
        lo = max(lo, hi - last)
    return lo, hi


def paginate(items: Sequence, keys: Callable[[object], tuple], cursor_of: Callable[[object], str],
             decode: Callable[[str], tuple], *, first: int | None, after: str | None,
             last: int | None, before: str | None, limit: int = MAX_PAGE) -> Page:
    """Relay pagination over a sorted sequence by key (not offset), so a
    cursor keeps its place when items are added or removed."""
    check_page_args(first, last, limit)
    if first is None and last is None:
        first = DEFAULT_PAGE
    start, end = 0, len(items)
    if after is not None:
        start = bisect.bisect_right(items, decode(after), key=keys)
    if before is not None:
        end = max(start, bisect.bisect_left(items, decode(before), key=keys))
    lo, hi = _bounds(start, end, first, last)
    window = items[lo:hi]
    return Page(items=list(window), cursors=[cursor_of(i) for i in window],
                has_next=hi < len(items), has_previous=lo > 0, count=lambda n=len(items): n)


# --- cursors -----------------------------------------------------------------

def encode_cursor(tag: str, values: list) -> str:
    raw = orjson.dumps([tag, *values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, tag: str, arity: int) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadQuery(f"invalid cursor {cursor[:60]!r}") from None
    if not isinstance(data, list) or len(data) != arity + 1 or data[0] != tag:
        raise BadQuery(f"cursor {cursor[:60]!r} does not belong to this ordering")
    return data[1:]


class Cursors:
    """The cursors of one view in one order."""

    def __init__(self, view: View, order: Order) -> None:
        self.view, self.order, self.tag = view, order, order_tag(order)

    def of(self, article: Article) -> str:
        # An article's cursor in one ordering never changes within a data
        # version: encoded once per view, for a few orderings (a bounded memo).
        memos = self.view.cache.setdefault("cursors", {})
        memo = memos.get(self.tag)
        if memo is None:
            if len(memos) >= CURSOR_ORDERINGS:
                return encode_cursor(self.tag, values_of(self.order, article))
            memo = memos.setdefault(self.tag, {})
        found = memo.get(article)
        if found is None:
            found = memo[article] = encode_cursor(self.tag, values_of(self.order, article))
        return found

    def key(self, cursor: str) -> tuple:
        values = decode_cursor(cursor, self.tag, len(self.order) + 1)
        try:
            return key_from_values(self.order, values)
        except (TypeError, ValueError):
            raise BadQuery(f"invalid cursor {cursor[:60]!r}") from None


# --- pages of a set ------------------------------------------------------------

def pager(view: View, members: NumberSet, order, first: int | None = None, after: str | None = None,
          last: int | None = None, before: str | None = None,
          limit: int = MAX_PAGE) -> Callable[[], Page]:
    """The page of ``members`` (article numbers of ``view``) in ``order``,
    found when called: the arguments and cursors are checked now, so a bad
    one is an error whatever the request asks of the connection."""
    check_page_args(first, last, limit)
    if first is None and last is None:
        first = DEFAULT_PAGE
    order = normalise_order(order)
    cursors = Cursors(view, order)
    after_key = cursors.key(after) if after is not None else None
    before_key = cursors.key(before) if before is not None else None
    return lambda: _page(view, members, order, cursors, first, after_key, last, before_key)


def page_of(view: View, members: NumberSet, order, first: int | None = None, after: str | None = None,
            last: int | None = None, before: str | None = None, limit: int = MAX_PAGE) -> Page:
    return pager(view, members, order, first, after, last, before, limit)()


def _page(view: View, members: NumberSet, order: Order, cursors: Cursors, first: int | None,
          after_key: tuple | None, last: int | None, before_key: tuple | None) -> Page:
    indexes = view.model.indexes
    ranking = indexes.ranking(order)
    size = len(ranking)
    # Where the cursors fall in the whole ranking: the matches after `after`
    # are the members at its position or later.
    after_at, before_at = 0, size
    if after_key is not None or before_key is not None:
        key = indexes.sort_key(order)
        if after_key is not None:
            after_at = bisect.bisect_right(ranking.nums, after_key, key=key)
        if before_key is not None:
            before_at = bisect.bisect_left(ranking.nums, before_key, key=key)
    total = len(members)
    if total <= SORTED_SET:
        labels = ranking.labels
        items = sorted(members, key=labels.__getitem__)
        marks = [labels[n] for n in items]
        start = bisect.bisect_left(marks, ranking.label_at(after_at)) if after_at else 0
        end = max(start, bisect.bisect_left(marks, ranking.label_at(before_at)) if before_at < size else total)
        lo, hi = _bounds(start, end, first, last)
        window = items[lo:hi]
    else:
        start = ranking.count(members, after_at) if after_at else 0
        end = max(start, ranking.count(members, before_at) if before_at < size else total)
        lo, hi = _bounds(start, end, first, last)
        window = _window(ranking, members, lo, hi, start, end, after_at, before_at)
    by_num = indexes.by_num
    articles = [by_num[n] for n in window]
    return Page(items=articles, cursors=list(map(cursors.of, articles)), has_next=hi < total,
                has_previous=lo > 0, count=members.__len__)


def _window(ranking: Ranking, members: NumberSet, lo: int, hi: int, start: int, end: int,
            after_at: int, before_at: int) -> list[int]:
    """The members with match index [lo, hi), in order: the matches between
    the cursors are those with index [start, end), at positions from
    ``after_at`` and before ``before_at``. Dense members are found by
    reading the ranking from the nearer cursor; sparse ones as the set of
    a stretch of it, ordered by label, the stretch widened until it holds
    the page; then, if still not found, by their positions."""
    if hi <= lo:
        return []
    spacing = len(ranking) / len(members)  # positions per member, were they spread evenly
    forward, backward = hi - start, end - lo
    reach = min(forward, backward) * spacing
    if reach <= WALK_LIMIT:
        budget = min(WALK_LIMIT, max(64, int(WALK_SLACK * reach)))
        if forward <= backward:
            found = ranking.walk(members, after_at, before_at, forward, budget)
            if found is not None and len(found) == forward:
                return found[lo - start:]
        else:
            found = ranking.walk_back(members, before_at, after_at, backward, budget)
            if found is not None and len(found) == backward:
                return found[:hi - lo]
    labels = ranking.labels.__getitem__
    width = int(2 * reach) + 64
    for _ in range(STRETCHES):
        if forward <= backward:
            stop = min(before_at, after_at + width)
            found = sorted(members & ranking.span(after_at, stop), key=labels)
            if len(found) >= forward:
                return found[lo - start:forward]
        else:
            begin = max(after_at, before_at - width)
            found = sorted(members & ranking.span(begin, before_at), key=labels)
            if len(found) >= backward:
                return found[len(found) - backward:len(found) - (end - hi)]
        width *= 4
    first, final = ranking.select(members, lo), ranking.select(members, hi - 1)
    between = members & ranking.span(first, final + 1)
    return sorted(between, key=labels)
