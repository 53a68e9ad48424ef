"""The reference evaluator of ``where``: one Python predicate per
condition, run over articles one by one.

``where`` is a plain dict shaped like the GraphQL ``ArticleWhere`` input.
Requests are answered by the planner (store/planner.py) from indexes; this
module is what the planner must agree with, answer for answer
(tests/test_planner.py), and gives it the tests of the conditions no index
answers and the bounds of date filters.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable

from loaders.values import slugify

from .errors import BadQuery
from .objects import Article
from .view import View

Predicate = Callable[[Article], bool]


_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> dt.timedelta:
    """ISO-8601 duration; a year is 365 days and a month 30, as for "P1M" in
    a "last month" filter nobody expects calendar arithmetic."""
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if not match:
        raise BadQuery(f"within: {text!r} is not an ISO-8601 duration such as \"P7D\" or \"PT12H\"")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    days = parts.get("years", 0) * 365 + parts.get("months", 0) * 30 + parts.get("weeks", 0) * 7 \
        + parts.get("days", 0)
    return dt.timedelta(days=days, hours=parts.get("hours", 0), minutes=parts.get("minutes", 0),
                        seconds=parts.get("seconds", 0))


def fold(value: str) -> str:
    return value.casefold()


def string_filter(spec: dict, many: bool = False) -> Callable:
    """A test on one value (or, with ``many``, on a set of values where any
    may match; negative operators then require that none match)."""
    tests: list[Callable] = []
    if "eq" in spec and spec["eq"] is not None:
        tests.append(lambda v, x=spec["eq"]: v == x)
    if "in" in spec and spec["in"] is not None:
        tests.append(lambda v, xs=frozenset(spec["in"]): v in xs)
    if spec.get("contains") is not None:
        tests.append(lambda v, x=fold(spec["contains"]): v is not None and x in fold(v))
    if spec.get("startsWith") is not None:
        tests.append(lambda v, x=fold(spec["startsWith"]): v is not None and fold(v).startswith(x))
    if spec.get("endsWith") is not None:
        tests.append(lambda v, x=fold(spec["endsWith"]): v is not None and fold(v).endswith(x))
    negatives: list[Callable] = []
    if "ne" in spec and spec["ne"] is not None:
        negatives.append(lambda v, x=spec["ne"]: v == x)
    if "notIn" in spec and spec["notIn"] is not None:
        negatives.append(lambda v, xs=frozenset(spec["notIn"]): v in xs)
    if not many:
        return lambda v: all(t(v) for t in tests) and not any(n(v) for n in negatives)
    return lambda vs: (all(any(t(v) for v in vs) for t in tests)
                       and not any(n(v) for n in negatives for v in vs))


def _int_filter(spec: dict) -> Callable:
    tests: list[Callable] = []
    ops = {"eq": lambda v, x: v == x, "ne": lambda v, x: v != x,
           "gt": lambda v, x: v is not None and v > x, "gte": lambda v, x: v is not None and v >= x,
           "lt": lambda v, x: v is not None and v < x, "lte": lambda v, x: v is not None and v <= x}
    for op, fn in ops.items():
        if spec.get(op) is not None:
            tests.append(lambda v, x=spec[op], fn=fn: fn(v, x))
    if spec.get("in") is not None:
        tests.append(lambda v, xs=frozenset(spec["in"]): v in xs)
    if spec.get("notIn") is not None:
        tests.append(lambda v, xs=frozenset(spec["notIn"]): v not in xs)
    return lambda v: all(t(v) for t in tests)


def date_bounds(spec: dict, now: dt.datetime) -> dict[str, float]:
    """A DateTimeFilter's bounds as timestamps, by operator (``within``
    narrows gte and lte)."""
    bounds = {op: spec[op] for op in ("eq", "gt", "gte", "lt", "lte") if spec.get(op) is not None}
    for op, value in bounds.items():
        if not isinstance(value, dt.datetime):
            raise BadQuery(f"publishedAt.{op}: {value!r} is not a date-time")
    if spec.get("within") is not None:
        since = now - parse_duration(spec["within"])
        bounds["gte"] = max(bounds.get("gte", since), since)
        bounds["lte"] = min(bounds.get("lte", now), now)
    return {op: value.timestamp() for op, value in bounds.items()}


def date_filter(spec: dict, now: dt.datetime) -> Callable:
    return _int_filter(date_bounds(spec, now))


def slugs(names) -> frozenset[str]:
    return frozenset(slugify(n) for n in names or ())


def compile_where(where: dict | None, view: View, now: dt.datetime) -> Predicate:
    if not where:
        return lambda a: True
    tests: list[Predicate] = []
    for key, spec in where.items():
        if spec is None:
            continue
        if key == "AND":
            parts = [compile_where(w, view, now) for w in spec]
            tests.append(lambda a, ps=parts: all(p(a) for p in ps))
        elif key == "OR":
            parts = [compile_where(w, view, now) for w in spec]
            tests.append(lambda a, ps=parts: any(p(a) for p in ps))
        elif key == "NOT":
            part = compile_where(spec, view, now)
            tests.append(lambda a, p=part: not p(a))
        elif key in ("id", "title", "excerpt", "type", "collection"):
            test = string_filter(spec)
            tests.append(lambda a, t=test, attr=key: t(getattr(a, attr)))
        elif key in ("quality", "heat"):
            test = _int_filter(spec)
            tests.append(lambda a, t=test, attr=key: t(getattr(a, attr)))
        elif key == "publishedAt":
            test = date_filter(spec, now)
            tests.append(lambda a, t=test: t(a.published_ts))
        elif key == "published":
            # `removed: true` counts as unpublished, as everywhere else.
            tests.append(lambda a, want=bool(spec): a.visible == want)
        elif key == "provider":
            tests.append(_provider_predicate(spec, view.provider_counts))
        elif key == "topics":
            tests.append(_topics_predicate(spec))
        elif key == "tags":
            tests.append(_tags_predicate(spec))
        elif key == "site":
            tests.append(_site_predicate(spec))
        elif key == "locations":
            tests.append(locations_predicate(spec))
        elif key == "hasImages":
            tests.append(lambda a, want=bool(spec): bool(a.images) == want)
        elif key == "hasRelated":
            tests.append(lambda a, want=bool(spec): bool(a.related_count) == want)
        elif key == "hasItems":
            # A playlist whose items the audience may see (store/playlists.py).
            tests.append(lambda a, want=bool(spec): bool(a.items_all and view.linked(a.items_all)) == want)
        elif key == "text":
            from .planner import text_numbers  # the planner imports this module
            found = text_numbers(view, spec)
            tests.append(lambda a, found=found: a.num in found)
        else:
            raise BadQuery(f"unknown filter field {key!r}")
    if len(tests) == 1:
        return tests[0]
    return lambda a: all(t(a) for t in tests)


def _identity_tests(spec: dict) -> list[Callable]:
    """Tests on a provider's domain, key and id (see objects.Provider):
    identities in lower case, so every operator ignores case. A domain
    matches every provider of that domain, each name of a platform too."""
    tests: list[Callable] = []
    for field in ("domain", "key"):
        if spec.get(field) is not None:
            test = string_filter(lower_domains(spec[field]))
            tests.append(lambda p, t=test, field=field: t(getattr(p, field) if p else None))
    if spec.get("id") is not None:
        test = string_filter(spec["id"])
        tests.append(lambda p, t=test: t(p.id if p else None))
    return tests


def _provider_predicate(spec: dict, counts: dict[str, int]) -> Predicate:
    tests: list[Predicate] = [lambda a, t=t: t(a.provider) for t in _identity_tests(spec)]
    if spec.get("name") is not None:
        # An article's provider answers to its own name and the provider's.
        test = string_filter(spec["name"], many=True)
        tests.append(lambda a, t=test: t(provider_names(a)))
    if spec.get("hasArticles") is not None:
        # As on the providers list; an article without a provider has none.
        tests.append(lambda a, want=bool(spec["hasArticles"]):
                     a.provider is not None and (counts.get(a.provider.key, 0) > 0) == want)
    return lambda a: all(t(a) for t in tests)


def provider_predicate(spec: dict | None, counts: dict[str, int] | None = None) -> Callable:
    """A ``ProviderWhere`` on the providers themselves (the ``providers``
    list): the same identity rules as the article filter, the provider's
    name, and whether it has articles (``counts``: the view's, by key)."""
    spec = spec or {}
    tests = _identity_tests(spec)
    if spec.get("name") is not None:
        test = string_filter(spec["name"])
        tests.append(lambda p, t=test: t(p.name))
    if spec.get("hasArticles") is not None:
        counts = counts or {}
        tests.append(lambda p, want=bool(spec["hasArticles"]): (counts.get(p.key, 0) > 0) == want)
    return lambda p: all(t(p) for t in tests)


def lower_domains(spec: dict) -> dict:
    out = {}
    for op, value in spec.items():
        if isinstance(value, str):
            value = value.lower()
        elif isinstance(value, list):
            value = [v.lower() if isinstance(v, str) else v for v in value]
        out[op] = value
    return out


def provider_names(article: Article) -> tuple:
    names = []
    if article.provider is not None:
        names.append(article.provider.name)
    if article.provider_name and article.provider_name not in names:
        names.append(article.provider_name)
    return tuple(names) or (None,)


def _topics_predicate(spec: dict) -> Predicate:
    tests: list[Predicate] = []
    if spec.get("some") is not None:
        some = slugs(spec["some"])
        tests.append(lambda a, s=some: not s.isdisjoint(a.topic_slugs))
    if spec.get("every") is not None:
        every = slugs(spec["every"])
        tests.append(lambda a, s=every: s <= a.topic_slugs)
    if spec.get("none") is not None:
        none = slugs(spec["none"])
        tests.append(lambda a, s=none: s.isdisjoint(a.topic_slugs))
    return lambda a: all(t(a) for t in tests)


def tag_keys(tags) -> frozenset[str]:
    """Tags match ignoring case (``us-la`` finds ``US-LA``)."""
    return frozenset(t.casefold() for t in tags)


def _tags_predicate(spec: dict) -> Predicate:
    tests: list[Predicate] = []
    if spec.get("some") is not None:
        some = tag_keys(spec["some"])
        tests.append(lambda a, s=some: not s.isdisjoint(a.tag_keys))
    if spec.get("every") is not None:
        every = tag_keys(spec["every"])
        tests.append(lambda a, s=every: s <= a.tag_keys)
    if spec.get("none") is not None:
        none = tag_keys(spec["none"])
        tests.append(lambda a, s=none: s.isdisjoint(a.tag_keys))
    return lambda a: all(t(a) for t in tests)


SITE_FIELDS = {"name": "name", "title": "title", "url": "address"}


LOCATION_FIELDS = {"isoCode": "iso_code", "countryOrRegion": "country_or_region",
                   "provinceOrState": "province_or_state", "county": "county"}


def locations_predicate(spec: dict) -> Predicate:
    """One of the article's locations passes every field given (an article
    without one passes none: `NOT` finds those outside a place)."""
    tests = [(attr, string_filter(spec[field])) for field, attr in LOCATION_FIELDS.items()
             if spec.get(field) is not None]
    return lambda a: any(all(t(getattr(place, attr)) for attr, t in tests) for place in a.locations)


def _site_predicate(spec: dict) -> Predicate:
    """``url`` is the site's address (url and baseurl together); an article
    of no site has no name, title or address."""
    tests: list[Predicate] = []
    for field, attr in SITE_FIELDS.items():
        if spec.get(field) is not None:
            test = string_filter(spec[field])
            tests.append(lambda a, t=test, attr=attr: t(getattr(a.site, attr) if a.site else None))
    return lambda a: all(t(a) for t in tests)
