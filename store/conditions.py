"""Compiled conditions: the nodes of the set algebra that ``where``
compiles to (store/planner.py). Each keeps, of the articles it is given
(the audience, or what an enclosing AND left), those it holds for: a
posting set (``Fixed``), a rank interval (``Span``), the candidates of a
text filter by its words (``Words``), a test of each article (``Test``),
and AND, OR and NOT of them. ``size`` estimates how many articles of the
whole collection a node keeps, so that an AND runs its parts the most
selective first and its tests last.
"""
from __future__ import annotations

from itertools import compress
from typing import Callable

from .numbersets import NumberSet, union
from .ranking import Ranking
from .objects import Article
from .words import WordIndex

# A range condition tests the candidates' values one by one, instead of
# making its set, when there are this many times fewer candidates than
# articles in the range (and at most SPAN_TESTS).
SPAN_TEST_RATIO = 8
SPAN_TESTS = 4096
UNKNOWN = float("inf")  # the estimated size of a test: it runs last
# Candidates of a text filter are tested without making their set when
# this many times fewer are left than the set would hold.
WORDS_TEST_RATIO = 4


class Node:
    """A compiled condition. ``size`` estimates how many articles of the
    whole collection it keeps; ``run(domain)`` keeps those of ``domain``."""

    size: float

    def run(self, domain: NumberSet) -> NumberSet:
        raise NotImplementedError


class Everything(Node):
    def __init__(self, size: int) -> None:
        self.size = size

    def run(self, domain: NumberSet) -> NumberSet:
        return domain


class Fixed(Node):
    """A set known from the indexes (a posting set or a union of them)."""

    def __init__(self, members: NumberSet) -> None:
        self.members = members
        self.size = len(members)

    def run(self, domain: NumberSet) -> NumberSet:
        return domain & self.members


class Span(Node):
    """The articles at positions [i, j) of a ranking."""

    def __init__(self, ranking: Ranking, i: int, j: int) -> None:
        self.ranking, self.i, self.j = ranking, i, max(i, j)
        self.size = self.j - self.i

    def run(self, domain: NumberSet) -> NumberSet:
        if not self.size:
            return NumberSet()
        if len(domain) * SPAN_TEST_RATIO < min(self.size, SPAN_TESTS):
            labels = self.ranking.labels
            low, high = self.ranking.label_at(self.i), self.ranking.label_at(self.j)
            return NumberSet(n for n in domain if low <= labels[n] < high)
        return self.ranking.within(domain, self.i, self.j)


class Words(Node):
    """The candidates of a text filter: the articles whose field has, for
    each word of the pattern, a word containing it (store/words.py). A test
    must follow: this only narrows. When a few candidates are already left,
    testing them beats making the set, and it passes them through."""

    def __init__(self, index: WordIndex, found: list[NumberSet], size: int) -> None:
        self.index, self.found, self.size = index, found, size

    def run(self, domain: NumberSet) -> NumberSet:
        if len(domain) * WORDS_TEST_RATIO < self.size:
            return domain
        for words in self.found:
            domain = domain & self.index.articles(words)
        return domain


class Test(Node):
    """A test of each candidate's article: what no index answers."""

    size = UNKNOWN

    def __init__(self, test: Callable[[Article], bool], by_num: list) -> None:
        self.test, self.by_num = test, by_num

    def run(self, domain: NumberSet) -> NumberSet:
        return filtered(domain, self.test, self.by_num)


class All(Node):
    def __init__(self, parts: list[Node], size: int) -> None:
        self.parts = sorted(parts, key=lambda part: part.size)
        self.size = min((part.size for part in parts), default=size)

    def run(self, domain: NumberSet) -> NumberSet:
        for part in self.parts:
            if not domain:
                break
            domain = part.run(domain)
        return domain


class Any(Node):
    def __init__(self, parts: list[Node]) -> None:
        self.parts = parts
        self.size = sum(part.size for part in parts)

    def run(self, domain: NumberSet) -> NumberSet:
        return union(part.run(domain) for part in self.parts)


class Without(Node):
    def __init__(self, part: Node, size: int) -> None:
        self.part = part
        self.size = max(0, size - part.size) if part.size != UNKNOWN else size

    def run(self, domain: NumberSet) -> NumberSet:
        return domain - self.part.run(domain)


def filtered(members: NumberSet, test: Callable[[Article], bool], by_num: list) -> NumberSet:
    """The members whose article passes ``test``."""
    numbers = members.to_array()
    return NumberSet(compress(numbers, map(test, map(by_num.__getitem__, numbers))))
