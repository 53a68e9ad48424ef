"""Facet counts (topics, providers, types, months, tags, sites, collections) of the
articles a filter keeps, each dimension counted only when asked for.

A filter that is one range of one field (or no filter) is a rank interval
of the field's ascending ranking: the public's counts are read from the
ranking's tallies (store/tallies.py), at a cost that follows the number
of values, not of articles. Under any other filter the matching set is
made (store/planner.py) and each dimension counted from it: each value's
count is the size of its posting set's intersection with the matching
set, or, for a matching set smaller than that costs, one pass over its
members' codes. Months are listed by date, newest first; the others by
count, then by value.
"""
from __future__ import annotations

import datetime as dt
import weakref

from .conditions import Everything, Span
from .indexes import TALLIED, Indexes
from .matches import Matches
from .numbersets import NumberSet
from .planner import Compiler, matching
from .tallies import DIMENSIONS, NONE, Cut
from .view import View

# One member's codes counted in a pass cost about this many intersections
# of a value's posting set with the matching set.
PASS_COST = 0.05
# Facet name -> posting key (store/indexes.py).
KEYS = {"topics": "topic", "providers": "provider", "types": "type", "months": "month", "tags": "tag",
        "sites": "site", "collections": "collection"}


class Stretch:
    """Positions [i, j) of a tallied ranking: a one-field range filter."""

    __slots__ = ("order", "i", "j")

    def __init__(self, order, i: int, j: int) -> None:
        self.order, self.i, self.j = order, i, j


def facets_of(view: View, where: dict | None, now: dt.datetime) -> "Facets":
    """The facet counts of the articles of ``view`` matching ``where``."""
    indexes: Indexes = view.model.indexes
    node = Compiler(indexes, view, now).compile(where)
    if not view.preview:
        if isinstance(node, Everything):
            return count(view, Stretch(TALLIED[0], 0, len(indexes.rankings[TALLIED[0]])))
        if isinstance(node, Span) and node.ranking.order in indexes.tallies \
                and indexes.rankings.get(node.ranking.order) is node.ranking:
            return count(view, Stretch(node.ranking.order, node.i, node.j))
    return count(view, matching(view, where, now, node))


def count(view: View, members: NumberSet | Matches | Stretch) -> "Facets":
    """The facets of ``members``, articles of ``view`` (a Stretch only for
    the public), counted as each dimension is asked for."""
    return Facets(view, members)


class Facets:
    """``total`` and, per dimension (``self[name]``), its rows (value,
    label, count), each counted on first use and kept: a facets object
    is remembered per filter in its view's memo (graph/schema.py), so it
    holds the view weakly, as views hold their model (store/view.py)."""

    def __init__(self, view: View, members: NumberSet | Matches | Stretch) -> None:
        self._view, self.members = weakref.ref(view), members
        self._rows: dict[str, list] = {}
        self._total: int | None = None
        self._cut_made: Cut | None = None

    view = property(lambda self: self._view())

    @property
    def total(self) -> int:
        if self._total is None:
            members = self.members
            if isinstance(members, Stretch):
                self._total = self.view.model.indexes.tallies[members.order].total(self._cut())
            else:
                self._total = len(members)
        return self._total

    def __getitem__(self, name: str):
        if name == "total":
            return self.total
        found = self._rows.get(name)
        if found is None:
            found = self._rows[name] = self._ranked(name, self._counts(name))
        return found

    def _counts(self, name: str) -> dict:
        indexes = self.view.model.indexes
        dimension = indexes.dimensions[name]
        members = self.members
        if isinstance(members, Stretch):
            return dimension.counts(indexes.tallies[members.order].counts(self._cut(), name, dimension))
        numbers = self.numbers()
        postings = indexes.postings[KEYS[name]]
        if len(numbers) * PASS_COST * (3 if DIMENSIONS[name] else 1) < len(postings):
            names = dimension.names
            return {names[code]: n for code, n in dimension.counter(numbers).items() if code != NONE}
        return {value: n for value, bits in postings.items()
                if value is not None and (n := numbers.intersection_cardinality(bits))}

    def _cut(self) -> Cut:
        if self._cut_made is None:
            indexes, stretch = self.view.model.indexes, self.members
            self._cut_made = indexes.tallies[stretch.order].cut(indexes.rankings[stretch.order].nums,
                                                                indexes.visible, stretch.i, stretch.j)
        return self._cut_made

    def numbers(self) -> NumberSet:
        members = self.members
        return members.numbers() if isinstance(members, Matches) else members

    def _ranked(self, name: str, counts: dict) -> list[tuple[str, str | None, int]]:
        model = self.view.model
        if name == "months":
            return [(m, None, n) for m, n in sorted(counts.items(), reverse=True)]
        rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if name == "topics":
            topics = model.topics
            return [(s, topics[s].name, n) for s, n in rows]
        if name == "providers":
            providers = model.providers
            return [(k, providers[k].name, n) for k, n in rows]
        if name == "sites":
            sites = model.sites
            return [(s, sites[s].title, n) for s, n in rows]
        if name == "collections":
            titles = collection_titles(model.sites.values())
            return [(c, titles.get(c), n) for c, n in rows]
        return [(v, None, n) for v, n in rows]


def collection_titles(sites) -> dict[str, str]:
    """Each collection's label: the title a site's ``_config.yml`` gives it
    (the first site's that gives one, as sites share collection names)."""
    titles: dict[str, str] = {}
    for site in sites:
        for collection in site.collections:
            if collection.title:
                titles.setdefault(collection.name, collection.title)
    return titles
