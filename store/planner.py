"""``where`` compiled to set algebra over the indexes (store/indexes.py),
whose nodes are in store/conditions.py.

AND is an intersection, OR a union, NOT a difference from what the
condition is evaluated on (the audience, or what an enclosing AND left).
A condition an index answers is a posting set or a rank interval of a
ranking: ranges, dates (``within`` too), a title's prefix. The tests no
index answers (text operators on titles, excerpts and ids) run only on the
candidates the other conditions of their AND leave, as every condition of
an AND runs on what the ones before it left, the most selective first.

The reference evaluator (store/predicates.py) gives the same answers;
tests/test_planner.py compares the two on generated filters.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import attrgetter
from typing import Callable

from .errors import BadQuery
from .conditions import All, Any, Everything, Fixed, Node, Span, Test, Without, Words
from . import crossed
from .indexes import TALLIED, Indexes
from .matches import Interval, Matches
from .numbersets import EMPTY, NumberSet, union
from .predicates import (SITE_FIELDS, date_bounds, fold, locations_predicate, lower_domains, slugs,
                         string_filter, tag_keys)
from .ranking import Ranking
from .objects import Article
from .view import View

# A range of an AND is left as an interval (store/matches.py) when it and
# what the conditions before it left are within this factor of each other
# in size: intersecting a set with a much smaller one is cheap, and a much
# narrower range makes a small set that every later step gains from. Only
# a range of at least DEFER_MIN articles is left so: a smaller one's set
# is made in a few microseconds, less than testing the labels of the
# articles a page reads, one by one in Python, costs.
DEFER_RATIO = 4
DEFER_MIN = 1 << 17
# The last range an AND applies is left pending (store/matches.py).
PENDING = True
# An IntFilter's one-sided bounds: (whether it bounds from below, inclusive).
BOUNDS = {"gt": (True, False), "gte": (True, True), "lt": (False, False), "lte": (False, True)}


def text_numbers(view: View, text: str) -> NumberSet:
    """The articles the ``text`` filter keeps, by number: the one place
    where filters meet the search engine."""
    from .search import text_matches  # search imports the planner for what it cannot test
    return NumberSet(text_matches(view, text))


@dataclass
class Compiler:
    indexes: Indexes
    view: View
    now: dt.datetime

    def __post_init__(self) -> None:
        self.total = len(self.indexes.universe)

    def all(self, parts: list[Node]) -> Node:
        # AND is associative: one level, so that every test runs after every
        # index's condition, on what they all left.
        flat = [inner for part in parts for inner in (part.parts if isinstance(part, All) else (part,))]
        return flat[0] if len(flat) == 1 else All(flat, self.total)

    def without(self, part: Node) -> Node:
        return Without(part, self.total)

    def compile(self, where: dict | None) -> Node:
        if not where:
            return Everything(self.total)
        parts: list[Node] = []
        for key, spec in where.items():
            if spec is None:
                continue
            if key == "AND":
                parts.append(self.all([self.compile(w) for w in spec]) if spec else Everything(self.total))
            elif key == "OR":
                parts.append(Any([self.compile(w) for w in spec]))
            elif key == "NOT":
                parts.append(self.without(self.compile(spec)))
            elif key == "id":
                parts.append(self.ids(spec))
            elif key == "title":
                parts.append(self.titles(spec))
            elif key == "excerpt":
                parts.append(self.text("excerpt", spec, ("contains", "startsWith", "endsWith")))
            elif key in ("type", "collection"):
                parts.append(self.keyed(key, spec))
            elif key in ("quality", "heat"):
                parts.append(self.numbers(key.upper(), spec))
            elif key == "publishedAt":
                parts.append(self.numbers("PUBLISHED_AT", date_bounds(spec, self.now)))
            elif key == "published":
                # `removed: true` counts as unpublished, as everywhere else.
                parts.append(self.flag("visible", spec))
            elif key == "provider":
                parts.append(self.provider(spec))
            elif key == "topics":
                parts.append(self.topics(spec))
            elif key == "tags":
                parts.append(self.members_of("tagKey", spec, tag_keys))
            elif key == "site":
                parts.append(self.site(spec))
            elif key == "locations":
                # Few articles have one (news feeds' items): tested, not indexed.
                parts.append(Test(locations_predicate(spec), self.indexes.by_num))
            elif key in ("hasImages", "hasRelated"):
                parts.append(self.flag(key, spec))
            elif key == "hasItems":
                # Few articles are playlists: the view lists those it may see.
                playlists = Fixed(NumberSet(a.num for a in self.view.playlists))
                parts.append(playlists if spec else self.without(playlists))
            elif key == "text":
                parts.append(Fixed(text_numbers(self.view, spec)))
            else:
                raise BadQuery(f"unknown filter field {key!r}")
        if not parts:
            return Everything(self.total)
        return self.all(parts)

    # --- conditions ------------------------------------------------------------

    def flag(self, key: str, want) -> Node:
        members = Fixed(self.indexes.posting(key, True))
        return members if want else self.without(members)

    def keyed(self, key: str, spec: dict, many: bool = False) -> Node:
        """A StringFilter on a value with a posting set per value (``many``:
        a set of values per article, where any may match and none may match
        a negative operator; the sets then overlap, and the rule is the same)."""
        values = self.indexes.postings[key]
        parts: list[Node] = []
        if spec.get("eq") is not None:
            parts.append(Fixed(values.get(spec["eq"], EMPTY)))
        if spec.get("in") is not None:
            parts.append(Fixed(union(values.get(v, EMPTY) for v in spec["in"])))
        for op in ("contains", "startsWith", "endsWith"):
            if spec.get(op) is not None:
                test = string_filter({op: spec[op]})
                parts.append(Fixed(union(bits for value, bits in values.items()
                                         if value is not None and test(value))))
        negatives = []
        if spec.get("ne") is not None:
            negatives.append(values.get(spec["ne"], EMPTY))
        if spec.get("notIn") is not None:
            negatives.extend(values.get(v, EMPTY) for v in spec["notIn"])
        if negatives:
            parts.append(self.without(Fixed(union(negatives))))
        return self.all(parts) if parts else Everything(self.total)

    def test(self, spec: dict, value: Callable[[Article], object]) -> Node:
        check = string_filter(spec)
        return Test(lambda a: check(value(a)), self.indexes.by_num)

    def ids(self, spec: dict) -> Node:
        by_id = self.view.model.preview.by_id

        def numbers(ids) -> NumberSet:
            return NumberSet(a.num for a in map(by_id.get, ids) if a is not None)

        parts: list[Node] = []
        if spec.get("eq") is not None:
            parts.append(Fixed(numbers([spec["eq"]])))
        if spec.get("in") is not None:
            parts.append(Fixed(numbers(spec["in"])))
        negatives = [spec["ne"]] if spec.get("ne") is not None else []
        negatives += spec.get("notIn") or []
        if negatives:
            parts.append(self.without(Fixed(numbers(negatives))))
        rest = {op: spec[op] for op in ("contains", "startsWith", "endsWith") if spec.get(op) is not None}
        if rest:
            parts.append(self.test(rest, lambda a: a.id))
        return self.all(parts) if parts else Everything(self.total)

    def titles(self, spec: dict) -> Node:
        """Titles by the TITLE ranking (titles ignoring case, in order): an
        exact title within the interval of its case-folded form, a prefix
        as an interval; contains and endsWith are tested."""
        ranking = self.indexes.ranking((("TITLE", "ASC"),))
        by_num = self.indexes.by_num

        def exactly(title: str) -> Node:
            key = fold(title)
            return self.all([self.span(ranking, (key, True), (key, True)),
                             Test(lambda a: a.title == title, by_num)])

        parts: list[Node] = []
        if spec.get("eq") is not None:
            parts.append(exactly(spec["eq"]))
        if spec.get("in") is not None:
            parts.append(Any([exactly(t) for t in spec["in"]]))
        if spec.get("startsWith") is not None:
            parts.append(self.prefixed(ranking, fold(spec["startsWith"])))
        negatives = [spec["ne"]] if spec.get("ne") is not None else []
        negatives += spec.get("notIn") or []
        if negatives:
            parts.append(self.without(Any([exactly(t) for t in negatives])))
        if spec.get("contains") is not None or spec.get("endsWith") is not None:
            parts.append(self.text("title", {op: spec.get(op) for op in ("contains", "endsWith")},
                                   ("contains", "endsWith")))
        return self.all(parts) if parts else Everything(self.total)

    def text(self, field: str, spec: dict, looking: tuple[str, ...]) -> Node:
        """A StringFilter on a text field, its operators that look inside
        the text (``looking``) narrowed by the field's words first."""
        index = self.indexes.words[field]
        parts: list[Node] = []
        for op in looking:
            if spec.get(op) is not None:
                found = index.candidates(spec[op])
                if found is not None:
                    parts.append(Words(index, *found))
        parts.append(self.test(spec, attrgetter(field)))
        return self.all(parts)

    @staticmethod
    def span(ranking: Ranking, lower, upper) -> Span:
        """The interval of an ascending ranking of one field (over its
        articles with a value) whose values lie between the bounds, each
        (value, inclusive) or None."""
        values = ranking.values
        i, j = 0, len(values)
        if lower is not None:
            i = (bisect_left if lower[1] else bisect_right)(values, lower[0])
        if upper is not None:
            j = (bisect_right if upper[1] else bisect_left)(values, upper[0])
        return Span(ranking, i, j)

    @staticmethod
    def prefixed(ranking: Ranking, prefix: str) -> Span:
        """The interval of the values that start with ``prefix``: those up
        to ``prefix`` and the last code point, then any after it that still
        start so (the last code point itself follows the prefix)."""
        values = ranking.values
        i = bisect_left(values, prefix)
        j = bisect_left(values, prefix + "\U0010ffff", i)
        while j < len(values) and values[j].startswith(prefix):
            j += 1
        return Span(ranking, i, j)

    def numbers(self, field: str, spec: dict) -> Node:
        """An IntFilter (or a DateTimeFilter's bounds) by the field's
        ascending ranking: a missing value fails every operator but ne and
        notIn, as in the reference."""
        ranking = self.indexes.ranking(((field, "ASC"),))
        if len(spec) == 1:
            # One bound, as most filters write it: straight to its interval.
            ((op, value),) = spec.items()
            bound = BOUNDS.get(op)
            if bound is not None and value is not None:
                inclusive = bound[1]
                return self.span(ranking, (value, inclusive), None) if bound[0] else \
                    self.span(ranking, None, (value, inclusive))

        def equal(x) -> Span:
            return self.span(ranking, (x, True), (x, True))

        lowers = [(spec[op], op != "gt") for op in ("eq", "gt", "gte") if spec.get(op) is not None]
        uppers = [(spec[op], op != "lt") for op in ("eq", "lt", "lte") if spec.get(op) is not None]
        parts: list[Node] = []
        if lowers or uppers:
            # The tightest bound: the larger lower one (exclusive before
            # inclusive at one value), the smaller upper one.
            lower = max(lowers, key=lambda b: (b[0], not b[1])) if lowers else None
            upper = min(uppers, key=lambda b: (b[0], b[1])) if uppers else None
            parts.append(self.span(ranking, lower, upper))
        if spec.get("in") is not None:
            parts.append(Any([equal(x) for x in spec["in"]]))
        negatives = [spec["ne"]] if spec.get("ne") is not None else []
        negatives += spec.get("notIn") or []
        if negatives:
            parts.append(self.without(Any([equal(x) for x in negatives])))
        return self.all(parts) if parts else Everything(self.total)

    def provider(self, spec: dict) -> Node:
        parts: list[Node] = []
        # Identities are in lower case, so every operator ignores case; a
        # domain matches each provider of the domain (a platform's names).
        for field, key in (("domain", "domain"), ("key", "provider")):
            if spec.get(field) is not None:
                parts.append(self.keyed(key, lower_domains(spec[field])))
        providers = self.view.model.providers
        if spec.get("id") is not None:
            parts.append(self.valued("provider", spec["id"], lambda key: providers[key].id))
        if spec.get("name") is not None:
            # An article's provider answers to its own name and the provider's.
            parts.append(self.keyed("providerName", spec["name"], many=True))
        if spec.get("hasArticles") is not None:
            # As on the providers list; an article without a provider has none.
            counts, want = self.view.provider_counts, bool(spec["hasArticles"])
            parts.append(Fixed(union(bits for key, bits in self.indexes.postings["provider"].items()
                                     if key is not None and (counts.get(key, 0) > 0) == want)))
        return self.all(parts) if parts else Everything(self.total)

    def valued(self, key: str, spec: dict, value: Callable) -> Node:
        """A StringFilter on what ``value`` gives for each posting key (not
        None: no value) of a value that is one per article, tested once per
        key: an article passes when its key's value does."""
        test = string_filter(spec)
        return Fixed(union(bits for k, bits in self.indexes.postings[key].items()
                           if test(value(k) if k is not None else None)))

    def topics(self, spec: dict) -> Node:
        return self.members_of("topic", spec, slugs)

    def members_of(self, key: str, spec: dict, keys: Callable) -> Node:
        """A some/every/none filter on a set of values per article (topics,
        tags), ``keys`` making the values' keys of what the filter names."""
        values = self.indexes.postings[key]
        parts: list[Node] = []
        if spec.get("some") is not None:
            parts.append(Fixed(union(values.get(k, EMPTY) for k in keys(spec["some"]))))
        if spec.get("every") is not None:
            parts.extend(Fixed(values.get(k, EMPTY)) for k in keys(spec["every"]))
        if spec.get("none") is not None:
            parts.append(self.without(Fixed(union(values.get(k, EMPTY) for k in keys(spec["none"])))))
        return self.all(parts) if parts else Everything(self.total)

    def site(self, spec: dict) -> Node:
        sites = self.view.model.sites
        parts = [self.valued("site", spec[field], lambda name, a=attribute: getattr(sites[name], a))
                 for field, attribute in SITE_FIELDS.items() if spec.get(field) is not None]
        return self.all(parts) if parts else Everything(self.total)


def matching(view: View, where: dict | None, now: dt.datetime, node: Node | None = None) -> Matches:
    """The articles of ``view`` that ``where`` keeps (``node``: ``where``
    compiled already). A range of an AND about as large as what the
    conditions before it left is left as an interval (store/matches.py),
    applied as far as the request needs. Tests run on a set, after every
    range."""
    indexes = view.model.indexes
    audience = indexes.audience(view.preview)
    if not where:
        return Matches(audience)
    if node is None:
        node = Compiler(indexes, view, now).compile(where)
    parts = node.parts if isinstance(node, All) else [node]
    if any(isinstance(part, (Test, Words)) for part in parts):
        return Matches(node.run(audience))

    def made() -> tuple:
        domain, deferred, pending = audience, [], None
        for index, part in enumerate(parts):
            if isinstance(part, Span) and part.size >= max(1, DEFER_MIN) and \
                    max(part.size, len(domain)) <= DEFER_RATIO * min(part.size, len(domain)):
                deferred.append(Interval(part.ranking, part.i, part.j))
            elif isinstance(part, Span) and index == len(parts) - 1 and not deferred and PENDING:
                pending = part  # counted without its set, or applied when more is asked
            elif domain:
                domain = part.run(domain)
        return domain, deferred if domain else [], pending if domain else None

    pair = _crossing(indexes, parts) if not view.preview and crossed.CROSSED else None
    if pair is None:
        return Matches(*made())
    first, second = pair
    # totalCount alone under two ranges is counted from the crossed
    # ranking (store/crossed.py); anything else makes the set as above.

    def counted() -> int | None:
        made_already = indexes.crossed(first.ranking, second.ranking)
        return None if made_already is None else made_already.count(first.i, first.j, second.i, second.j)

    return Matches(None, unmade=made, counted=counted)


def _crossing(indexes: Indexes, parts: list[Node]) -> tuple[Span, Span] | None:
    """The two ranges, in the order their crossed ranking is kept, when
    ``parts`` are two ranges of two fields that facets tally (the fields
    ranges filter on)."""
    if len(parts) != 2 or not all(isinstance(part, Span) for part in parts):
        return None
    first, second = sorted(parts, key=lambda part: part.ranking.order)
    if first.ranking.order == second.ranking.order:
        return None
    for part in (first, second):
        if part.ranking.order not in TALLIED or indexes.rankings.get(part.ranking.order) is not part.ranking:
            return None
    return first, second
