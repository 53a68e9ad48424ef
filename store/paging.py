"""Relay pages: cursors, and the page of a set of articles in an order
without sorting the set.

A cursor holds its article's sort values and id, so it keeps its place by
key (not by offset) when articles are added or removed. The page of a
filter's matches (``page_of``) is found in the ranking of its order
(store/ranking.py), from the cursor's position: by reading the ranking
and testing each article while matches are dense, or as the matches in a
stretch of it, widened until it holds the page, ordered by label. Nothing
sorts the matches, and nothing counts them unless totalCount is asked for.
The answer is what sorting them all and bisecting would give:
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
from .matches import Matches
from .numbersets import NumberSet
from .ordering import Order, key_from_values, normalise_order, order_tag, values_of
from .ranking import Ranking
from .objects import Article
from .view import View

MAX_PAGE = 100
DEFAULT_PAGE = 20
CURSOR_ORDERINGS = 8  # orderings whose cursors are remembered, per view
# A walk from a cursor reads at most this many positions (and this many
# times the positions its members' estimated density predicts) before the
# page is found as the members of a stretch of the ranking instead.
WALK_LIMIT = 1024
WALK_SLACK = 4
# A stretch holding more than this many times the members a page needs is
# narrowed before they are sorted.
NARROWED = 8
# A set of at most this many members is sorted by its labels rather than
# found by a walk or in stretches of the ranking, when sorting it costs
# less than the walk would read: sorting costs about SORT_COST positions'
# worth of a walk per member, and a stretch's set costs as much as
# sorting a few hundred.
SORTED_MAX = 1024
SORT_COST = 1


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

def pager(view: View, members: Matches, order, first: int | None = None, after: str | None = None,
          last: int | None = None, before: str | None = None,
          limit: int = MAX_PAGE) -> Callable[[], Page]:
    """The page of ``members`` (articles of ``view``) in ``order``, found
    when called: the arguments and cursors are checked now, so a bad one
    is an error whatever the request asks of the connection."""
    check_page_args(first, last, limit)
    if first is None and last is None:
        first = DEFAULT_PAGE
    order = normalise_order(order)
    cursors = Cursors(view, order)
    after_key = cursors.key(after) if after is not None else None
    before_key = cursors.key(before) if before is not None else None
    return lambda: _page(view, members, order, cursors, first, after_key, last, before_key)


def page_of(view: View, members: Matches, order, first: int | None = None, after: str | None = None,
            last: int | None = None, before: str | None = None, limit: int = MAX_PAGE) -> Page:
    return pager(view, members, order, first, after, last, before, limit)()


def _page(view: View, members: Matches, order: Order, cursors: Cursors, first: int | None,
          after_key: tuple | None, last: int | None, before_key: tuple | None) -> Page:
    """What ``paginate`` gives for the members sorted: the matches after
    ``after`` are the members at the cursor's position in the ranking or
    later. With first alone (or last alone) the page is read from the
    cursor on and one more tells whether there is a next (previous) page;
    with both, the members before each cursor are counted."""
    indexes = view.model.indexes
    ranking = indexes.ranking(order)
    size = len(ranking)
    after_at, before_at = 0, size
    if after_key is not None or before_key is not None:
        key = indexes.sort_key(order)
        if after_key is not None:
            after_at = bisect.bisect_right(ranking.nums, after_key, key=key)
        if before_key is not None:
            before_at = bisect.bisect_left(ranking.nums, before_key, key=key)
    beyond = max(after_at, before_at)  # where the matches after the window's end begin
    if last is None:
        found = _forward(ranking, members, after_at, before_at, first + 1)
        window = found[:first]
        has_next = len(found) > first or (beyond < size and bool(_forward(ranking, members, beyond, size, 1)))
        has_previous = after_at > 0 and bool(_backward(ranking, members, 0, after_at, 1))
    elif first is None:
        found = _backward(ranking, members, after_at, before_at, last + 1)
        window = found[max(0, len(found) - last):] if last else []
        has_previous = len(found) > last or (after_at > 0 and bool(_backward(ranking, members, 0, after_at, 1)))
        has_next = beyond < size and bool(_forward(ranking, members, beyond, size, 1))
    else:
        numbers = members.numbers()
        start = ranking.count(numbers, after_at)
        end = max(start, ranking.count(numbers, before_at))
        lo, hi = _bounds(start, end, first, last)
        window = _forward(ranking, members, after_at, before_at, hi - start)[lo - start:]
        has_next, has_previous = hi < len(numbers), lo > 0
    by_num = indexes.by_num
    articles = [by_num[n] for n in window]
    return Page(items=articles, cursors=list(map(cursors.of, articles)), has_next=has_next,
                has_previous=has_previous, count=members.__len__)


def _forward(ranking: Ranking, members: Matches, start: int, stop: int, want: int) -> list[int]:
    """The first ``want`` members at positions [start, stop), in order
    (fewer when there are not so many). Dense members are found by reading
    the ranking; sparse ones as the members of a stretch of it, ordered by
    label, the stretch widened until it holds them."""
    if want <= 0 or start >= stop:
        return []
    reach = want * len(ranking) / max(1.0, members.estimate())
    few = _few(members, reach)
    if few is not None:
        return _in_order(ranking, few, start, stop)[:want]
    if reach <= WALK_LIMIT:
        found = ranking.walk(members.contains, start, stop, want, min(WALK_LIMIT, max(64, int(WALK_SLACK * reach))))
        if found is not None:
            return found
    found = _stretch(ranking, members, want, start, stop, reach, lambda width: (start, min(stop, start + width)))
    return sorted(found, key=ranking.labels.__getitem__)[:want]


def _backward(ranking: Ranking, members: Matches, start: int, stop: int, want: int) -> list[int]:
    """The last ``want`` members at positions [start, stop), in order."""
    if want <= 0 or start >= stop:
        return []
    reach = want * len(ranking) / max(1.0, members.estimate())
    few = _few(members, reach)
    if few is not None:
        found = _in_order(ranking, few, start, stop)
        return found[max(0, len(found) - want):]
    if reach <= WALK_LIMIT:
        found = ranking.walk_back(members.contains, stop, start, want,
                                  min(WALK_LIMIT, max(64, int(WALK_SLACK * reach))))
        if found is not None:
            return found
    found = _stretch(ranking, members, want, stop, start, reach, lambda width: (max(start, stop - width), stop))
    found = sorted(found, key=ranking.labels.__getitem__)
    return found[max(0, len(found) - want):]


def _few(members: Matches, reach: float) -> NumberSet | None:
    """The members, when they are so few that sorting them costs less
    than a walk that reads ``reach`` positions or a search in stretches."""
    most = SORTED_MAX if reach > WALK_LIMIT else min(SORTED_MAX, int(reach / SORT_COST))
    return members.few(most) if most > 0 else None


def _in_order(ranking: Ranking, members: NumberSet, start: int, stop: int) -> list[int]:
    """The members at positions [start, stop) of the ranking, in its order."""
    labels = ranking.labels
    if start > 0 or stop < len(ranking):
        low, high = ranking.label_at(start), ranking.label_at(stop)
        members = [n for n in members if low <= labels[n] < high]
    return sorted(members, key=labels.__getitem__)


def _stretch(ranking: Ranking, members: Matches, want: int, near: int, far: int, reach: float,
             bounds: Callable[[int], tuple[int, int]]) -> NumberSet:
    """The members of the narrowest stretch of the ranking reaching from
    position ``near`` towards ``far`` that holds ``want`` of them (all of
    them up to ``far`` when it never does), or of one holding at most
    about NARROWED times as many: it is widened fourfold until it holds
    enough, then, when it holds many more (the members gather beyond a
    long empty stretch), bisected, so that few are sorted."""
    width = int(2 * reach) + 64
    short, limit = 0, abs(far - near)  # a stretch `short` wide holds fewer than want
    while True:
        found = members.within(ranking, *bounds(width))
        if len(found) >= want or width >= limit:
            break
        short, width = width, width * 4
    wide = min(width, limit)
    while len(found) > NARROWED * want and wide - short > 1:
        middle = (short + wide) // 2
        part = members.within(ranking, *bounds(middle))
        if len(part) >= want:
            wide, found = middle, part
        else:
            short = middle
    return found
