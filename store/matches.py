"""The articles a filter keeps, as the planner leaves them: a set, and
maybe ranges not yet applied to it.

Making a wide range's set costs the same whatever the answer (at a million
articles, a set of half of them is a hundred kilobytes written), so the
planner leaves a range of an AND about as large as what the other
conditions leave (store/planner.py) as an interval of its ranking. Each is
applied only as far as the request needs: a page tests the members it
reads against the ranges' labels, a count counts the set before the last
range's two ends (store/ranking.py ``Ranking.count``), and the set itself
is made only when asked for (facets, a page between two cursors).

A smaller range, the last an AND applies, is left ``pending``: totalCount
alone counts the members of what the rest left before each of its two
ends (a few intersection counts, no set made); anything else applies it
first, as it would have been.
"""
from __future__ import annotations

from typing import Callable

from .ranking import Ranking
from .numbersets import NumberSet

# So few members are tested one by one against the ranges' labels.
TESTED = 256


class Interval:
    """Positions [i, j) of a ranking, as the labels between which its
    members' labels lie."""

    __slots__ = ("ranking", "i", "j", "low", "high")

    def __init__(self, ranking: Ranking, i: int, j: int) -> None:
        self.ranking, self.i, self.j = ranking, i, j
        self.low, self.high = ranking.label_at(i), ranking.label_at(j)

    def __len__(self) -> int:
        return self.j - self.i

    def apply(self, members: NumberSet) -> NumberSet:
        return self.ranking.within(members, self.i, self.j)

    def count(self, members: NumberSet) -> int:
        ranking = self.ranking
        return ranking.count(members, self.j) - ranking.count(members, self.i)


class Matches:
    """``base`` restricted to ``pending`` (a Span, store/conditions.py) and
    to each of ``intervals`` (the narrowest first)."""

    __slots__ = ("base", "intervals", "pending", "_numbers", "_count", "_contains", "_unmade", "_counted")

    def __init__(self, base: NumberSet | None, intervals: list[Interval] = (), pending=None, *,
                 unmade: Callable[[], tuple] | None = None,
                 counted: Callable[[], int | None] | None = None) -> None:
        """``unmade``: instead of the three, what makes them, called when
        anything but a count is asked for; ``counted``: what counts them
        without making them (None when it cannot)."""
        self._unmade, self._counted = unmade, counted
        self._count: int | None = None
        self._contains: Callable[[int], bool] | None = None
        if unmade is None:
            self._made(base, intervals, pending)

    def _made(self, base: NumberSet, intervals, pending) -> None:
        self.base = base
        self.intervals = sorted(intervals, key=len)
        self.pending = pending
        self._numbers = None if self.intervals or pending is not None else base

    def _make(self) -> None:
        if self._unmade is not None:
            unmade, self._unmade = self._unmade, None
            self._made(*unmade())

    def _settle(self) -> None:
        """Apply the pending range: everything but a count reads the set."""
        self._make()
        pending = self.pending
        if pending is not None:
            self.base = pending.run(self.base)
            self.pending = None
            if not self.intervals:
                self._numbers = self.base

    @property
    def contains(self) -> Callable[[int], bool]:
        if self._contains is None:
            self._settle()
            self._contains = self.base.__contains__ if not self.intervals else self._test()
        return self._contains

    def _test(self) -> Callable[[int], bool]:
        has = self.base.__contains__
        if len(self.intervals) == 1:
            (one,) = self.intervals
            labels, low, high = one.ranking.labels, one.low, one.high
            return lambda n: has(n) and low <= labels[n] < high
        if len(self.intervals) == 2:  # spelled out: a generator per number costs as much again
            (one, two) = self.intervals
            labels, low, high = one.ranking.labels, one.low, one.high
            labels2, low2, high2 = two.ranking.labels, two.low, two.high
            return lambda n: has(n) and low <= labels[n] < high and low2 <= labels2[n] < high2
        bounds = [(i.ranking.labels, i.low, i.high) for i in self.intervals]
        return lambda n: has(n) and all(low <= labels[n] < high for labels, low, high in bounds)

    def numbers(self) -> NumberSet:
        """The set itself (made once)."""
        self._settle()
        if self._numbers is None:
            members = self.base
            for interval in self.intervals:
                members = interval.apply(members)
            self._numbers = members
        return self._numbers

    def __len__(self) -> int:
        if self._count is None and self._unmade is not None and self._counted is not None:
            self._count = self._counted()
        if self._count is None:
            self._make()
            if self._numbers is not None:
                self._count = len(self._numbers)
            elif self.pending is not None and not self.intervals:
                pending, base = self.pending, self.base
                ranking = pending.ranking
                self._count = ranking.count(base, pending.j) - ranking.count(base, pending.i)
            else:
                self._settle()
                members = self.base
                for interval in self.intervals[:-1]:
                    members = interval.apply(members)
                self._count = self.intervals[-1].count(members)
        return self._count

    def estimate(self) -> float:
        """About how many there are, without counting: the ranges taken as
        independent of the set and of each other."""
        if self._count is not None:
            return self._count
        self._settle()
        estimate = float(len(self.base))
        for interval in self.intervals:
            estimate *= len(interval) / max(1, len(interval.ranking))
        return estimate

    def few(self, most: int) -> NumberSet | None:
        """The set, when no interval is left to apply (a pending range is
        applied, as a page would apply it anyway) and it holds at most
        ``most`` members; else None."""
        self._make()
        if self.intervals and self._numbers is None:
            return None
        self._settle()
        numbers = self._numbers
        return numbers if len(numbers) <= most else None

    def within(self, ranking: Ranking, i: int, j: int) -> NumberSet:
        """The members at positions [i, j) of ``ranking``."""
        self._settle()
        if self._numbers is not None:
            return ranking.within(self._numbers, i, j)
        members = ranking.within(self.base, i, j)
        if len(members) <= TESTED:
            return NumberSet(filter(self.contains, members))
        for interval in self.intervals:
            members = interval.apply(members)
        return members

    def __contains__(self, num: int) -> bool:
        return self.contains(num)
