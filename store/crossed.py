"""Counts under two ranges: the public's articles of one ranking written as
their positions in another, so that how many lie in a range of each is a
few cardinalities of prefix sets, whatever the two ranges hold.

``totalCount`` under two ranges (``heat >= h, quality <= q``) would
otherwise make the set of one range's public articles and count its
members in the other's interval: tens of set operations on sets as large
as the ranges. Here the first ranking's articles are numbered by their
positions in the second (``Crossed.positions``, a Ranking of positions,
store/ranking.py), and each prefix of the first is then a few prefix sets
of such positions: the articles of an interval of the first that lie in
an interval of the second are a range cardinality of each
(``Ranking.count_between``).

Positions change with every patch, so a crossed ranking is not patched: it
is made for the rankings of one version (``crossed``), on first use,
while a request waits when the collection is small and in the background
when it is large (the count is made the longer way until then).
"""
from __future__ import annotations

import operator
import threading
from array import array

from .numbersets import NumberSet
from .ranking import Ranking

# Collections up to this size have their crossed rankings made while the
# request that first needs one waits (tens of milliseconds); larger ones
# in the background.
MADE_WHILE_WAITING = 1 << 17
# The crossed ranking's last level of blocks is this many times finer
# than a ranking's.
FINER = 8
# Whether counts under two ranges use crossed rankings (tests turn it off
# to compare).
CROSSED = True


class Crossed:
    """Ranking ``first``'s public articles as their positions in ``second``
    (an article not public as a position past the end of ``second``, in no
    range of it)."""

    __slots__ = ("first", "second", "visible", "positions")

    def __init__(self, first: Ranking, second: Ranking, visible: NumberSet, strides: tuple[int, ...]) -> None:
        self.first, self.second, self.visible = first, second, visible
        size = len(second)
        at = array("I", bytes(4 * len(second.labels)))
        for position, num in enumerate(second.nums):
            at[num] = position
        has = visible.__contains__
        crossed = array("I", [at[num] if has(num) else size for num in first.nums])
        # One level finer than a ranking's: a count reads the positions
        # between its end and the last block start one by one.
        self.positions = Ranking(None, crossed, len(crossed), size + 1,
                                 (*strides, max(1, strides[-1] // FINER)))

    def fits(self, first: Ranking, second: Ranking, visible: NumberSet) -> bool:
        return self.first is first and self.second is second and self.visible is visible

    def count(self, i: int, j: int, k: int, m: int) -> int:
        """How many public articles stand at positions [i, j) of the first
        ranking and [k, m) of the second."""
        if i >= j or k >= m:
            return 0
        positions = self.positions
        return positions.count_between(j, k, m) - positions.count_between(i, k, m)


def crossed(cache: dict, first: Ranking, second: Ranking, visible: NumberSet,
            strides: tuple[int, ...]) -> Crossed | None:
    """The crossed ranking of ``first`` in ``second`` for these rankings
    (``cache`` keeps one per pair of orders), or None while it is being
    made in the background."""
    key = (first.order, second.order)
    found = cache.get(key)
    if isinstance(found, Crossed) and found.fits(first, second, visible):
        return found
    if isinstance(found, tuple) and all(map(operator.is_, found, (first, second, visible))):
        return None  # being made
    if len(first) <= MADE_WHILE_WAITING:
        made = cache[key] = Crossed(first, second, visible, strides)
        return made
    cache[key] = (first, second, visible)

    def make() -> None:
        cache[key] = Crossed(first, second, visible, strides)

    threading.Thread(target=make, name="crossed ranking", daemon=True).start()
    return None
