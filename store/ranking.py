"""Rankings: every article of a model in one order, as numbers, with the
sets that answer questions about stretches of that order in a few set
operations, however large the collection (see ``Ranking``).

The planner (store/planner.py) finds a range of values as an interval of
a ranking; paging (store/paging.py) reads a page from one; the indexes
(store/indexes.py) hold one per order and patch it per article.
"""
from __future__ import annotations

from array import array
from bisect import bisect_right
from itertools import repeat
from operator import add, attrgetter, sub
from typing import Callable

from .numbersets import EMPTY, NumberSet
from .ordering import ATTRIBUTES, Order
from .objects import Article

# Block strides of a ranking's three levels, coarse to fine, when it is
# built; patches let blocks drift from them (see Ranking).
STRIDES = (1 << 15, 1 << 11, 1 << 7)
# Labels (``Ranking.labels``) are spaced this far apart when a ranking is
# built, so an article inserted between two takes the middle.
LABEL_GAP = 1 << 20
END_LABEL = (1 << 64) - 1
# Rank intervals this short become a set straight from the numbers.
SHORT_SPAN = 512
# Members are intersected with an interval's prefix pieces, rather than
# with the interval's set, when the interval is this many times larger.
WITHIN_RATIO = 4


class Ranking:
    """Every article in one order: ``nums[position]`` is a number, and
    ``labels[number]`` increases with the position (it orders a small set
    without a search; numbers not ranked keep stale labels).

    Positions are cut into blocks on three levels, each block of a level
    inside one of the level above. ``prefixes[level][b]`` holds the numbers
    from the start of block b's parent (position 0 on the top level) up to
    where block b starts. Every prefix of the order, positions [0, x), is
    then the disjoint union of one prefix set per level and a slice of
    ``nums`` shorter than a bottom block (``_path`` finds them): an
    interval's set (``span``), a set's members in it (``within``) and how
    many members stand before a position (``count``) are a few set
    operations each. An insertion or a
    removal shifts the block starts after it by one and touches the few
    prefix sets that cover its position, so blocks drift from STRIDES as
    patches come; ``patches`` counts them so that an owner can rebuild.
    """

    __slots__ = ("order", "nums", "labels", "present", "values", "starts", "firsts", "prefixes",
                 "patches", "_owned")

    def __init__(self, order: Order, nums: array, present: int, size: int,
                 strides: tuple[int, ...] = STRIDES, values: list | None = None) -> None:
        self.order = order
        self.nums = nums
        self.present = present  # leading positions whose first field has a value
        # An ascending order of one field keeps those values, in order, so
        # that a range of them is found by bisecting in C.
        self.values = values
        self.patches = 0
        self._owned = None
        labels = self.labels = array("Q", bytes(8 * size))
        for position, num in enumerate(nums):
            labels[num] = (position + 1) * LABEL_GAP
        n = len(nums)
        starts: list[array] = []
        firsts: list[array] = []
        prefixes: list[list[NumberSet]] = []
        parents = array("I", [0])
        for level, stride in enumerate(strides):
            level_starts = array("I")
            level_firsts = array("I")
            level_prefixes: list[NumberSet] = []
            for p, begin in enumerate(parents):
                end = parents[p + 1] if p + 1 < len(parents) else n
                level_firsts.append(len(level_starts))
                acc = EMPTY if level else NumberSet()
                for start in range(begin, max(end, begin + 1), stride):
                    if level == 0:  # the top level's prefixes all start at 0
                        if level_starts:
                            acc = acc | NumberSet(nums[level_starts[-1]:start])
                    elif start > begin:
                        acc = acc | NumberSet(nums[level_starts[-1]:start])
                    level_starts.append(start)
                    level_prefixes.append(acc)
            level_firsts.append(len(level_starts))
            starts.append(level_starts)
            firsts.append(level_firsts)
            prefixes.append(level_prefixes)
            parents = level_starts
        self.starts, self.firsts, self.prefixes = starts, firsts, prefixes

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__ if name != "_owned"}

    def __setstate__(self, state) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._owned = None

    def __len__(self) -> int:
        return len(self.nums)

    # --- reading ---------------------------------------------------------------

    def _path(self, x: int) -> list[int]:
        """The block of each level that position ``x`` falls in (the last
        block starting at or before it)."""
        starts, firsts = self.starts, self.firsts
        block = bisect_right(starts[0], x) - 1
        path = [block]
        for level in range(1, len(starts)):
            block = bisect_right(starts[level], x, firsts[level][block], firsts[level][block + 1]) - 1
            path.append(block)
        return path

    def _slice_start(self, path: list[int]) -> int:
        return self.starts[-1][path[-1]]

    def count(self, members: NumberSet, x: int) -> int:
        """How many of ``members`` stand at positions before ``x``."""
        if x <= 0 or not members:
            return 0
        if x >= len(self.nums):
            x = len(self.nums)
        path = self._path(x)
        total = 0
        for level, block in enumerate(path):
            piece = self.prefixes[level][block]
            if piece:
                total += members.intersection_cardinality(piece)
        begin = self.starts[-1][path[-1]]
        if x > begin:
            total += sum(map(members.__contains__, self.nums[begin:x]))
        return total

    def count_between(self, x: int, low: int, high: int) -> int:
        """How many of the numbers at positions before ``x`` lie in [low,
        high): for a ranking whose numbers are positions in another
        (store/crossed.py), how many of its first x stand in an interval
        of the other."""
        if x <= 0:
            return 0
        if x >= len(self.nums):
            x = len(self.nums)
        path = self._path(x)
        prefixes = self.prefixes
        total = 0
        for level, block in enumerate(path):
            total += prefixes[level][block].range_cardinality(low, high)
        begin = self.starts[-1][path[-1]]
        if x > begin:
            total += NumberSet(self.nums[begin:x]).range_cardinality(low, high)
        return total

    def span(self, i: int, j: int) -> NumberSet:
        """The numbers at positions [i, j)."""
        if j - i <= SHORT_SPAN:
            return NumberSet(self.nums[i:j]) if j > i else NumberSet()
        upper, lower = self._path(j), self._path(i)
        level = 0
        while level < len(upper) and upper[level] == lower[level]:
            level += 1
        if level == len(upper):  # one bottom block
            return NumberSet(self.nums[i:j])
        # Prefix(j) - Prefix(i), where the pieces of the levels both paths
        # share cancel out. The first differing level's piece of j holds
        # every later piece of i: subtract those from it, then add j's.
        # (Binary operators: pyroaring's in-place ones copy large sets.)
        prefixes, nums, bottom = self.prefixes, self.nums, self.starts[-1]
        lows = [prefixes[at][lower[at]] for at in range(level + 1, len(lower))]
        lows.append(NumberSet(nums[bottom[lower[-1]]:i]))
        result = (prefixes[level][upper[level]] - prefixes[level][lower[level]]) - NumberSet.union(*lows)
        highs = [prefixes[at][upper[at]] for at in range(level + 1, len(upper))]
        highs.append(NumberSet(nums[bottom[upper[-1]]:j]))
        return NumberSet.union(result, *highs)

    def within(self, members: NumberSet, i: int, j: int) -> NumberSet:
        """The members at positions [i, j): the span's set intersected with
        them, or, for members fewer than the span holds, each prefix piece
        intersected with them, so that no set as large as the span is made."""
        if j - i <= SHORT_SPAN or len(members) * WITHIN_RATIO >= j - i:
            return members & self.span(i, j)
        upper, lower = self._path(j), self._path(i)
        level = 0
        while level < len(upper) and upper[level] == lower[level]:
            level += 1
        nums, bottom = self.nums, self.starts[-1]
        if level == len(upper):
            return members & NumberSet(nums[i:j])
        prefixes = self.prefixes
        lows = [members & prefixes[at][lower[at]] for at in range(level + 1, len(lower))]
        lows.append(members & NumberSet(nums[bottom[lower[-1]]:i]))
        result = ((members & prefixes[level][upper[level]]) - prefixes[level][lower[level]]) \
            - NumberSet.union(*lows)
        highs = [members & prefixes[at][upper[at]] for at in range(level + 1, len(upper))]
        highs.append(members & NumberSet(nums[bottom[upper[-1]]:j]))
        return NumberSet.union(result, *highs)

    def walk(self, test: Callable[[int], bool], start: int, stop: int, want: int,
             budget: int) -> list[int] | None:
        """The first ``want`` numbers that pass ``test`` from position
        ``start`` on (before ``stop``; fewer when it comes first), reading
        at most ``budget`` positions; None when that was not enough."""
        found: list[int] = []
        nums = self.nums
        position, chunk = start, max(16, min(budget, 2 * want))
        limit = min(stop, start + budget)
        while position < limit:
            end = min(limit, position + chunk)
            found += filter(test, nums[position:end])
            if len(found) >= want:
                return found[:want]
            position, chunk = end, chunk * 2
        return found if position >= stop else None

    def walk_back(self, test: Callable[[int], bool], stop: int, start: int, want: int,
                  budget: int) -> list[int] | None:
        """The last ``want`` numbers that pass ``test`` before position
        ``stop`` (from ``start`` on), in order; None when ``budget``
        positions were not enough."""
        found: list[int] = []
        nums = self.nums
        position, chunk = stop, max(16, min(budget, 2 * want))
        limit = max(start, stop - budget)
        while position > limit:
            begin = max(limit, position - chunk)
            found = list(filter(test, nums[begin:position])) + found
            if len(found) >= want:
                return found[len(found) - want:]
            position, chunk = begin, chunk * 2
        return found if position <= start else None

    def label_at(self, position: int) -> int:
        return self.labels[self.nums[position]] if position < len(self.nums) else END_LABEL

    # --- patching --------------------------------------------------------------

    def copy(self) -> "Ranking":
        """A ranking to patch: arrays copied, prefix sets shared until changed."""
        other = Ranking.__new__(Ranking)
        other.order, other.present, other.patches = self.order, self.present, self.patches
        other.values = None if self.values is None else list(self.values)
        other.nums, other.labels = array("I", self.nums), array("Q", self.labels)
        other.starts = [array("I", s) for s in self.starts]
        other.firsts = self.firsts  # which blocks are children of which: patches keep it
        other.prefixes = [list(p) for p in self.prefixes]
        other._owned = set()
        return other

    def _own(self, level: int, block: int) -> NumberSet:
        piece = self.prefixes[level][block]
        if (level, block) not in self._owned:
            piece = self.prefixes[level][block] = NumberSet(piece)
            self._owned.add((level, block))
        return piece

    def _touch(self, x: int, update: str) -> None:
        """Apply ``update`` (add or discard) of the number at position ``x``
        to the prefix sets covering it: those of the later blocks in the
        same parent, on each level."""
        path = self._path(x)
        num = self.nums[x]
        for level, block in enumerate(path):
            end = self.firsts[level][path[level - 1] + 1] if level else len(self.starts[0])
            for later in range(block + 1, end):
                getattr(self._own(level, later), update)(num)

    def _shift(self, x: int, step: int) -> None:
        """Block starts after position ``x`` move by ``step``: an inserted
        number joins the block its position falls in, as its first when a
        block starts there."""
        for starts in self.starts:
            first = bisect_right(starts, x)
            if first < len(starts):
                starts[first:] = array("I", map(add if step > 0 else sub, starts[first:],
                                                repeat(1, len(starts) - first)))

    def remove(self, position: int, value) -> None:
        """Take out the number at ``position``, whose first field is ``value``."""
        self._touch(position, "discard")
        self._shift(position, -1)
        del self.nums[position]
        if value is not None:
            self.present -= 1
            if self.values is not None:
                del self.values[position]
        self.patches += 1

    def insert(self, position: int, num: int, value) -> None:
        """Put ``num``, whose first field is ``value``, at ``position``."""
        if num >= len(self.labels):
            self.labels.extend(repeat(0, num + 1 - len(self.labels)))
        before = self.labels[self.nums[position - 1]] if position else 0
        after = self.labels[self.nums[position]] if position < len(self.nums) else before + 2 * LABEL_GAP
        self.nums.insert(position, num)
        if after - before < 2:
            self._relabel()
        else:
            self.labels[num] = (before + after) // 2
        self._shift(position, +1)
        self._touch(position, "add")
        if value is not None:
            self.present += 1
            if self.values is not None:
                self.values.insert(position, value)
        self.patches += 1

    def _relabel(self) -> None:
        labels = self.labels
        for position, num in enumerate(self.nums):
            labels[num] = (position + 1) * LABEL_GAP


def rank(articles_by_id: list[Article], order: Order) -> tuple[array, int, list | None]:
    """The numbers of ``articles_by_id`` (in id order) sorted by ``order``,
    how many have a value for its first field, and, for one field in
    ascending order, those values. One stable sort per
    field, the last field first, comparing the bare values in C (a tuple
    key per article took 7 s at 1M): missing values go last in either
    direction keeping their order from the fields after, and a descending
    sort keeps ties in order too, so ties go by the later fields, then id."""
    items = articles_by_id
    present = len(items)
    for field, direction in reversed(order):
        get = attrgetter(ATTRIBUTES[field])
        values = list(map(get, items))
        kept = [a for a, v in zip(items, values) if v is not None]
        missing = [a for a, v in zip(items, values) if v is None] if len(kept) < len(items) else []
        kept.sort(key=get, reverse=direction == "DESC")
        items, present = kept + missing, len(kept)
    values = None
    if len(order) == 1 and order[0][1] == "ASC":
        values = list(map(attrgetter(ATTRIBUTES[order[0][0]]), items[:present]))
    return array("I", [a.num for a in items]), present, values
