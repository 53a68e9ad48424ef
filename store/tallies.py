"""Facet counts over stretches of a ranking, at a cost that follows the
number of values counted, not the number of articles in the stretch.

Each facet dimension (topics, providers, ...) numbers its values (a
``Dimension``: value <-> code, and each article's codes by its number).
``Tallies`` keep, for one ranking, at block boundaries every ``stride``
positions, how many of the public's articles stand before the boundary
and, per dimension, how many of those have each value: a vector per
boundary. The counts of a rank
interval [i, j) are the difference of the vectors at the boundaries
nearest to j and to i, corrected by counting the few articles between each
end and its boundary. A range filter of one field (``heat``, ``quality``,
``publishedAt``) is such an interval of the field's ascending ranking
(store/planner.py), so facets under it cost two vector reads and two short
counts (store/facets.py).

Only the public audience is tallied: a preview's facets are counted from
its matching set. Tallies are patched per article as rankings are
(``Tallies.insert``, ``Tallies.remove``: the boundaries after the position
move with it, and their vectors are to count the article or no longer do,
which ``Tallies.settle`` applies once for all of a patch's articles), on
copies, so a request holding the previous version keeps seeing it.
"""
from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from itertools import chain, compress, repeat
from operator import add, sub
from typing import Iterable

from .layered import Layered
from .numbersets import NumberSet
from .objects import Article

# Facet name -> whether an article has several values of it.
DIMENSIONS = {"topics": True, "providers": False, "types": False, "months": False, "tags": True,
              "sites": False, "collections": False}
# Boundaries at least this far apart, and at most about MAX_BLOCKS of them
# per tally: the vectors' memory is blocks x values, and a range's two
# corrections count up to half a block each.
MIN_STRIDE = 128
MAX_BLOCKS = 2048
NONE = 0  # the code of no value
# Values' changes a patch leaves uncounted in the tallies' vectors (read as
# corrections), before it counts them all in: a pass over every boundary
# (about 2,000 at 1M) for every PENDING changes, not for each.
PENDING = 128


def stride_for(size: int) -> int:
    stride = MIN_STRIDE
    while size > stride * MAX_BLOCKS:
        stride *= 2
    return stride


def values_of(article: Article, name: str):
    """The article's value of the dimension (None for none), or, for a
    dimension of several, its distinct values: what the posting sets of
    store/indexes.py count it under."""
    if name == "topics":
        return [topic.slug for topic in article.topics]
    if name == "tags":
        return list(dict.fromkeys(article.tags))
    if name == "providers":
        return article.provider.key if article.provider is not None else None
    if name == "types":
        return article.type
    if name == "months":
        return article.month
    if name == "sites":
        return article.site.name if article.site is not None else None
    return article.collection


class Dimension:
    """The values of one facet dimension numbered from 1 (``names[code]``,
    ``ids[value]``) and the codes of each article by its number (``of``:
    one code, NONE for none, or a tuple of codes for a dimension of
    several), every article's, whatever its audience."""

    __slots__ = ("name", "many", "names", "ids", "of", "_new")

    def __init__(self, name: str, articles: Iterable[Article], size: int) -> None:
        self.name, self.many = name, DIMENSIONS[name]
        self.names: list = [None]
        self.ids: dict = {}
        self._new = None  # while a patch makes it: the values it numbers (copy)
        self.of = [()] * size if self.many else array("I", bytes(4 * size))
        for article in articles:
            self.of[article.num] = self.codes(article)

    def code(self, value) -> int:
        if value is None:
            return NONE
        new = self._new
        found = self.ids.get(value) if new is None else new.get(value, self.ids.get(value))
        if found is None:
            found = len(self.names)
            (self.ids if new is None else new)[value] = found
            self.names.append(value)
        return found

    def codes(self, article: Article):
        values = values_of(article, self.name)
        return tuple(map(self.code, values)) if self.many else self.code(values)

    def counter(self, nums: Iterable[int]) -> Counter:
        """How many of ``nums`` have each code (NONE included)."""
        if self.many:
            return Counter(chain.from_iterable(map(self.of.__getitem__, nums)))
        return Counter(map(self.of.__getitem__, nums))

    def counts(self, vector) -> dict:
        """``vector`` (a count per code) as {value: count}, zeros left out."""
        found = dict(zip(compress(self.names, vector), compress(vector, vector)))
        found.pop(None, None)  # NONE's name
        return found

    # --- patching --------------------------------------------------------------

    def copy(self) -> "Dimension":
        """A dimension to patch (``assign``, then ``settle``). Codes only
        grow, so ``names`` is shared and a new value appended to it in
        place (a version made before never meets a code it did not give),
        and the map of values is laid over this one's (store/layered.py)
        instead of copied whole."""
        other = Dimension.__new__(Dimension)
        other.name, other.many = self.name, self.many
        other.names, other.ids, other._new = self.names, Layered.of(self.ids), {}
        other.of = list(self.of) if self.many else array("I", self.of)
        return other

    def settle(self) -> None:
        if self._new:
            self.ids = self.ids.patched(put=self._new)
        self._new = None

    def assign(self, num: int, article: Article | None) -> None:
        """Number ``num`` is now ``article`` (None: no article)."""
        if num >= len(self.of):
            self.of.extend(repeat(() if self.many else NONE, num + 1 - len(self.of)))
        self.of[num] = (() if self.many else NONE) if article is None else self.codes(article)


class Cut:
    """A rank interval [i, j) of a tallied ranking, as the tallies read it:
    the boundaries nearest to its ends (``high``, ``low``) and the public's
    articles between each end and its boundary, to count in (``plus``)
    or out (``minus``)."""

    __slots__ = ("low", "high", "plus", "minus")

    def __init__(self, low: int, high: int, plus: list[int], minus: list[int]) -> None:
        self.low, self.high, self.plus, self.minus = low, high, plus, minus


class Tallies:
    """The counts of one ranking's public articles before each block
    boundary (``starts[b]``, a position): how many (``visible[b]``) and,
    per dimension, how many have each value (``prefix[name][b]``, a count
    per code), but for the patches' changes not yet counted into those
    vectors (``pending[name]``: (first boundary, code, step), each adding
    ``step`` at boundaries from the first on)."""

    __slots__ = ("starts", "visible", "prefix", "pending", "_changes")

    def __init__(self, nums: array, dimensions: dict[str, Dimension], visible: NumberSet, stride: int) -> None:
        n = len(nums)
        self.starts = array("I", range(0, n, stride))
        self.starts.append(n)
        self._changes = None
        self.pending: dict[str, tuple] = {}
        self.visible = array("I")
        vectors = {name: array("I", bytes(4 * len(d.names))) for name, d in dimensions.items()}
        self.prefix: dict[str, list[array]] = {name: [] for name in dimensions}
        previous, seen = 0, 0
        for start in self.starts:
            if start > previous:
                members = list(filter(visible.__contains__, nums[previous:start]))
                seen += len(members)
                for name, dimension in dimensions.items():
                    vector = vectors[name]
                    for code, count in dimension.counter(members).items():
                        vector[code] += count
            self.visible.append(seen)
            for name, vector in vectors.items():
                self.prefix[name].append(array("I", vector))
            previous = start

    def __getstate__(self):
        return self.starts, self.visible, self.prefix, self.pending

    def __setstate__(self, state) -> None:
        self.starts, self.visible, self.prefix = state[:3]
        self.pending = state[3] if len(state) > 3 else {}
        self._changes = None

    def _nearest(self, x: int) -> int:
        starts = self.starts
        b = bisect_right(starts, x) - 1
        if b + 1 < len(starts) and starts[b + 1] - x < x - starts[b]:
            b += 1
        return b

    def cut(self, nums: array, visible: NumberSet, i: int, j: int) -> Cut:
        """Positions [i, j) by the nearest boundaries and the public's
        articles between them and the ends."""
        low, high = self._nearest(i), self._nearest(j)
        plus: list[int] = []
        minus: list[int] = []
        for end, boundary, inside in ((j, self.starts[high], True), (i, self.starts[low], False)):
            if end != boundary:
                # Beyond the boundary, j's stretch counts in and i's out;
                # before it, the other way round.
                between = filter(visible.__contains__, nums[min(end, boundary):max(end, boundary)])
                (plus if (end > boundary) == inside else minus).extend(between)
        return Cut(low, high, plus, minus)

    def total(self, cut: Cut) -> int:
        return self.visible[cut.high] - self.visible[cut.low] + len(cut.plus) - len(cut.minus)

    def counts(self, cut: Cut, name: str, dimension: Dimension) -> list[int]:
        """A count per code of the public's articles of ``cut``."""
        vectors = self.prefix[name]
        high, low = vectors[cut.high], vectors[cut.low]
        if len(low) < len(high):
            low = low + array("I", bytes(4 * (len(high) - len(low))))
        elif len(high) < len(low):
            high = high + array("I", bytes(4 * (len(low) - len(high))))
        vector = list(map(sub, high, low))
        for members, sign in ((cut.plus, 1), (cut.minus, -1)):
            if members:
                for code, count in dimension.counter(members).items():
                    if code >= len(vector):
                        vector.extend(repeat(0, code + 1 - len(vector)))
                    vector[code] += sign * count
        for first, code, step in self.pending.get(name, ()):
            if cut.low < first <= cut.high:
                if code >= len(vector):
                    vector.extend(repeat(0, code + 1 - len(vector)))
                vector[code] += step
        return vector

    # --- patching --------------------------------------------------------------

    def copy(self) -> "Tallies":
        """Tallies to patch: boundaries copied, counts shared until
        ``settle`` changes them."""
        other = Tallies.__new__(Tallies)
        other.starts, other.visible = array("I", self.starts), self.visible
        other.prefix, other.pending = dict(self.prefix), self.pending
        other._changes = []  # the changes not yet counted: (first boundary, step, codes)
        return other

    def _moved(self, position: int, step: int, codes: dict | None) -> None:
        """Boundaries after ``position`` move by ``step``; when the article
        is public (``codes``: its codes per dimension), their counts are to
        count it once more (``step`` 1) or once less (-1). Later moves keep
        a boundary on the same side of the article, so the counts change
        once for all the patch's articles (``settle``)."""
        starts = self.starts
        first = bisect_right(starts, position)
        after = len(starts) - first
        if after:
            starts[first:] = array("I", map(add if step > 0 else sub, starts[first:], repeat(1, after)))
            if codes is not None:
                self._changes.append((first, step, codes))

    def settle(self) -> None:
        """Count the changes of the articles inserted and removed: the
        public's count at once (one pass over the boundaries after the first
        change), the values' counts into ``pending`` (a change that undoes
        another cancels it), and those into the vectors once more than
        PENDING are waiting: each vector after the first change is copied
        then, a pass over every boundary now and then, not at every patch."""
        changes, self._changes = self._changes, None
        if not changes:
            return
        begin = min(first for first, _, _ in changes)
        steps = [0] * (len(self.starts) + 1)
        for first, step, _ in changes:
            steps[first] += step
        visible, running = array("I", self.visible), 0
        for b in range(begin, len(visible)):
            running += steps[b]
            visible[b] += running
        self.visible = visible
        pending = {}
        for name in self.prefix:
            net = Counter({(first, code): step for first, code, step in self.pending.get(name, ())})
            for first, step, codes in changes:
                found = codes[name]
                for code in (found if isinstance(found, tuple) else (found,)):
                    if code != NONE:
                        net[(first, code)] += step
            kept = tuple((first, code, step) for (first, code), step in net.items() if step)
            if kept:
                pending[name] = kept
        if sum(map(len, pending.values())) <= PENDING:
            self.pending = pending
            return
        self.pending = {}
        for name, kept in pending.items():
            self._count(name, kept)

    def _count(self, name: str, changes: tuple) -> None:
        """Add ``changes`` (first boundary, code, step) into the vectors."""
        at: dict[int, list] = {}
        for first, code, step in changes:
            at.setdefault(first, []).append((code, step))
        vectors = self.prefix[name] = list(self.prefix[name])
        running_codes: dict[int, int] = {}
        for b in range(min(at), len(vectors)):
            for code, step in at.get(b, ()):
                running_codes[code] = running_codes.get(code, 0) + step
            changed = [(code, count) for code, count in running_codes.items() if count]
            if changed:
                vector = vectors[b] = array("I", vectors[b])
                for code, count in changed:
                    if code >= len(vector):
                        vector.extend(repeat(0, code + 1 - len(vector)))
                    vector[code] += count

    def insert(self, position: int, codes: dict | None) -> None:
        """An article now stands at ``position``: public with ``codes`` per
        dimension, or not (None)."""
        self._moved(position, 1, codes)

    def remove(self, position: int, codes: dict | None) -> None:
        """The article at ``position`` is gone (``codes`` as for insert)."""
        self._moved(position, -1, codes)
