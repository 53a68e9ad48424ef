"""Which parts of an ``ArticleWhere`` the search engine tests itself.

A search narrowed by ``where`` is fastest when the engine drops the hits
that fail it before they are ranked, counted and mapped to articles. The
conditions on values the index holds as raw terms or fast fields (ids,
as the articles' numbers; type, collection, provider domain, topics,
tags, site name, publication, images, related items, quality, heat,
dates, and nested text searches) become conditions of our own here,
which store/search.py turns into tantivy queries; the
rest (substring tests, provider names, anything new) stays a ``where``
that the planner tests on each hit (store/planner.py). A
part under OR or NOT goes to the engine only when all of it can.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from loaders.values import slugify

from .errors import BadQuery
from .predicates import parse_duration

RAW_FIELDS = ("type", "collection", "domain", "topic", "tag", "site")
FLAG_FIELDS = ("visible", "images", "related")
INT_FIELDS = ("quality", "heat")


@dataclass(frozen=True)
class Term:
    """The field holds one of ``values`` (no values: never)."""
    field: str
    values: tuple


@dataclass(frozen=True)
class Range:
    field: str
    lower: float | int | None
    upper: float | int | None
    include_lower: bool = True
    include_upper: bool = True


@dataclass(frozen=True)
class Not:
    part: object


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


@dataclass(frozen=True)
class Text:
    query: str


_STRING_FIELDS = {"type": "type", "collection": "collection"}
_FLAGS = {"published": "visible", "hasImages": "images", "hasRelated": "related"}


def _unknown(ident: str) -> None:
    return None


def split(where: dict | None, now: dt.datetime | None,
          number_of: Callable[[str], int | None] = _unknown) -> tuple[list, dict | None]:
    """(conditions the engine tests, the rest of ``where`` or None): both
    must hold. ``number_of`` gives the number of the article of an id (None:
    no article of the view has it): the index knows articles by number."""
    if not where:
        return [], None
    conditions: list = []
    rest: dict = {}
    for key, spec in where.items():
        if spec is None:
            continue
        condition = _condition(key, spec, now, number_of)
        if condition is not None:
            conditions.append(condition)
        elif key == "AND" and isinstance(spec, list):
            left = []
            for part in spec:
                inner, remaining = split(part, now, number_of)
                conditions.extend(inner)
                if remaining:
                    left.append(remaining)
            if left:
                rest["AND"] = left
        else:
            rest[key] = spec
    return conditions, rest or None


def _whole(where: dict | None, now, number_of) -> object | None:
    """``where`` as one condition, or None when any part of it is not the
    engine's."""
    conditions, rest = split(where, now, number_of)
    return None if rest else AllOf(tuple(conditions))


def _condition(key: str, spec, now, number_of) -> object | None:
    if key == "id":
        condition = _strings("num", spec)
        return None if condition is None else _numbered(condition, number_of)
    if key in _STRING_FIELDS:
        return _strings(_STRING_FIELDS[key], spec)
    if key in _FLAGS:
        return Term(_FLAGS[key], (bool(spec),))
    if key in INT_FIELDS:
        return _ints(key, spec)
    if key == "publishedAt":
        return _dates(spec, now)
    if key == "topics":
        return _names("topic", spec, slugify)
    if key == "tags":
        return _names("tag", spec, str.casefold)
    if key == "site":
        if not isinstance(spec, dict) or set(k for k, v in spec.items() if v is not None) != {"name"}:
            return None
        return _strings("site", spec["name"])
    if key == "provider":
        # A domain matches every provider of that domain (each name of a
        # platform). Which provider of a platform an article belongs to (its
        # key, its id) is decided by the read model over every article, so a
        # load may change it for articles it did not touch: not in the index.
        live = {k: v for k, v in spec.items() if v is not None} if isinstance(spec, dict) else {}
        if set(live) != {"domain"}:
            return None
        return _strings("domain", live["domain"], lower=True)
    if key == "text":
        return Text(spec) if isinstance(spec, str) else None
    if key == "OR" and isinstance(spec, list):
        parts = [_whole(part, now, number_of) for part in spec]
        return None if any(p is None for p in parts) else AnyOf(tuple(parts))
    if key == "NOT" and isinstance(spec, dict):
        part = _whole(spec, now, number_of)
        return None if part is None else Not(part)
    return None


def _strings(field: str, spec, lower: bool = False) -> object | None:
    """A StringFilter's exact operators; None when it uses another."""
    if not isinstance(spec, dict):
        return None
    live = {op: v for op, v in spec.items() if v is not None}
    if not set(live) <= {"eq", "ne", "in", "notIn"}:
        return None
    fold = (lambda v: v.lower() if isinstance(v, str) else v) if lower else (lambda v: v)
    if not all(isinstance(v, str) for op, v in live.items() if op in ("eq", "ne")) or \
            not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                    for op, v in live.items() if op in ("in", "notIn")):
        return None
    parts: list = []
    if "eq" in live:
        parts.append(Term(field, (fold(live["eq"]),)))
    if "in" in live:
        parts.append(Term(field, tuple(fold(v) for v in live["in"])))
    if "ne" in live:
        parts.append(Not(Term(field, (fold(live["ne"]),))))
    if "notIn" in live:
        parts.append(Not(Term(field, tuple(fold(v) for v in live["notIn"]))))
    return AllOf(tuple(parts))


def _ints(field: str, spec) -> object | None:
    if not isinstance(spec, dict):
        return None
    live = {op: v for op, v in spec.items() if v is not None}
    if not set(live) <= {"eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte"}:
        return None
    values = [v for op, v in live.items() if op not in ("in", "notIn")] + \
        [x for op in ("in", "notIn") for x in live.get(op, ())]
    if not all(type(v) is int for v in values):
        return None
    # A fast field alone (store/searchindex.py): each value is a range of one.
    parts: list = []
    if "eq" in live:
        parts.append(Range(field, live["eq"], live["eq"]))
    if "in" in live:
        parts.append(AnyOf(tuple(Range(field, v, v) for v in live["in"])))
    if "ne" in live:
        parts.append(Not(Range(field, live["ne"], live["ne"])))
    if "notIn" in live:
        parts.append(Not(AnyOf(tuple(Range(field, v, v) for v in live["notIn"]))))
    for op, bound in (("gt", "lower"), ("gte", "lower"), ("lt", "upper"), ("lte", "upper")):
        if op in live:
            inclusive = op.endswith("e")
            parts.append(Range(field, live[op] if bound == "lower" else None,
                               live[op] if bound == "upper" else None,
                               include_lower=inclusive, include_upper=inclusive))
    return AllOf(tuple(parts))


def _dates(spec, now) -> object | None:
    if not isinstance(spec, dict):
        return None
    live = {op: v for op, v in spec.items() if v is not None}
    if not set(live) <= {"eq", "gt", "gte", "lt", "lte", "within"}:
        return None
    for op, value in live.items():
        if op != "within" and not isinstance(value, dt.datetime):
            raise BadQuery(f"publishedAt.{op}: {value!r} is not a date-time")
    bounds = {op: value.timestamp() for op, value in live.items() if op != "within"}
    if "within" in live:
        if now is None:
            return None
        since = (now - parse_duration(live["within"])).timestamp()
        bounds["gte"] = max(bounds.get("gte", since), since)
        bounds["lte"] = min(bounds.get("lte", now.timestamp()), now.timestamp())
    parts: list = []
    if "eq" in bounds:
        parts.append(Range("published", bounds["eq"], bounds["eq"]))
    for op in ("gt", "gte"):
        if op in bounds:
            parts.append(Range("published", bounds[op], None, include_lower=op == "gte"))
    for op in ("lt", "lte"):
        if op in bounds:
            parts.append(Range("published", None, bounds[op], include_upper=op == "lte"))
    return AllOf(tuple(parts))


def _numbered(condition, number_of) -> object:
    """``condition`` (an id's, of terms) on the numbers of the articles named."""
    if type(condition) is Term:
        return Term(condition.field, tuple(n for n in map(number_of, condition.values) if n is not None))
    if type(condition) is Not:
        return Not(_numbered(condition.part, number_of))
    return AllOf(tuple(_numbered(part, number_of) for part in condition.parts))


def _names(field: str, spec, key) -> object | None:
    """A TopicsFilter or TagsFilter (some, every, none) on the values ``key``
    makes of the names given: topic slugs, tags folded to lower case."""
    if not isinstance(spec, dict):
        return None
    live = {op: v for op, v in spec.items() if v is not None}
    if not set(live) <= {"some", "every", "none"} or \
            not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in live.values()):
        return None
    parts: list = []
    if "some" in live:
        parts.append(Term(field, tuple(sorted({key(n) for n in live["some"]}))))
    if "every" in live:
        parts.extend(Term(field, (value,)) for value in sorted({key(n) for n in live["every"]}))
    if "none" in live:
        parts.append(Not(Term(field, tuple(sorted({key(n) for n in live["none"]})))))
    return AllOf(tuple(parts))
