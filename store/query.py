"""Filter, sort and page articles on a read-model view.

``where`` is a plain dict shaped like the GraphQL ``ArticleWhere`` input. It
compiles to one predicate; a top-level indexed condition (topic, provider,
type, collection, id) narrows the candidates first. Filtered, sorted lists
are memoised per view, so paging through a listing or repeating a filter with
other variables costs a bisect and a slice. A filter that is exactly one
index key (one topic, say) runs no predicate at all: its selection is the
index list, grouped once per ordering for every key.
"""
from __future__ import annotations

import base64
import bisect
import datetime as dt
import re
from array import array
from collections import Counter, OrderedDict
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Callable, Sequence

import orjson

from loaders.normalize import slugify

from .db import settle
from .errors import BadQuery
from .readmodel import Article, View, default_key

MAX_PAGE = 100
DEFAULT_PAGE = 20
MEMO_SIZE = 4096
CURSOR_ORDERINGS = 8  # orderings whose cursors are remembered, per view
MEMO_ITEMS = 200_000
# A selection this large is sorted by its articles' ranks in the whole view
# (one array of 4 bytes per article and ordering, for a few orderings).
RANKED_SORT_MIN = 2000
RANK_ORDERINGS = 8

Predicate = Callable[[Article], bool]


# --- filters -----------------------------------------------------------------

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


def _fold(value: str) -> str:
    return value.casefold()


def _string_filter(spec: dict, many: bool = False) -> Callable:
    """A test on one value (or, with ``many``, on a set of values where any
    may match; negative operators then require that none match)."""
    tests: list[Callable] = []
    if "eq" in spec and spec["eq"] is not None:
        tests.append(lambda v, x=spec["eq"]: v == x)
    if "in" in spec and spec["in"] is not None:
        tests.append(lambda v, xs=frozenset(spec["in"]): v in xs)
    if spec.get("contains") is not None:
        tests.append(lambda v, x=_fold(spec["contains"]): v is not None and x in _fold(v))
    if spec.get("startsWith") is not None:
        tests.append(lambda v, x=_fold(spec["startsWith"]): v is not None and _fold(v).startswith(x))
    if spec.get("endsWith") is not None:
        tests.append(lambda v, x=_fold(spec["endsWith"]): v is not None and _fold(v).endswith(x))
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


def _date_filter(spec: dict, now: dt.datetime) -> Callable:
    bounds = {op: spec[op] for op in ("eq", "gt", "gte", "lt", "lte") if spec.get(op) is not None}
    for op, value in bounds.items():
        if not isinstance(value, dt.datetime):
            raise BadQuery(f"publishedAt.{op}: {value!r} is not a date-time")
    if spec.get("within") is not None:
        since = now - parse_duration(spec["within"])
        bounds["gte"] = max(bounds.get("gte", since), since)
        bounds["lte"] = min(bounds.get("lte", now), now)
    spec_int = {op: value.timestamp() for op, value in bounds.items()}
    return _int_filter(spec_int)


def _slugs(names) -> frozenset[str]:
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
            test = _string_filter(spec)
            tests.append(lambda a, t=test, attr=key: t(getattr(a, attr)))
        elif key in ("quality", "heat"):
            test = _int_filter(spec)
            tests.append(lambda a, t=test, attr=key: t(getattr(a, attr)))
        elif key == "publishedAt":
            test = _date_filter(spec, now)
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
        elif key == "hasImages":
            tests.append(lambda a, want=bool(spec): bool(a.images) == want)
        elif key == "hasRelated":
            tests.append(lambda a, want=bool(spec): bool(a.related_count) == want)
        elif key == "text":
            from .search import text_matches  # search imports this module
            ids = text_matches(view, spec)
            tests.append(lambda a, ids=ids: a.ord in ids)
        else:
            raise BadQuery(f"unknown filter field {key!r}")
    if len(tests) == 1:
        return tests[0]
    return lambda a: all(t(a) for t in tests)


def _identity_tests(spec: dict) -> list[Callable]:
    """Tests on a provider's domain, key and id (see readmodel.Provider):
    identities in lower case, so every operator ignores case. A domain
    matches every provider of that domain, each name of a platform too."""
    tests: list[Callable] = []
    for field in ("domain", "key"):
        if spec.get(field) is not None:
            test = _string_filter(_lower_domains(spec[field]))
            tests.append(lambda p, t=test, field=field: t(getattr(p, field) if p else None))
    if spec.get("id") is not None:
        test = _string_filter(spec["id"])
        tests.append(lambda p, t=test: t(p.id if p else None))
    return tests


def _provider_predicate(spec: dict, counts: dict[str, int]) -> Predicate:
    tests: list[Predicate] = [lambda a, t=t: t(a.provider) for t in _identity_tests(spec)]
    if spec.get("name") is not None:
        # An article's provider answers to its own name and the provider's.
        test = _string_filter(spec["name"], many=True)
        tests.append(lambda a, t=test: t(_provider_names(a)))
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
        test = _string_filter(spec["name"])
        tests.append(lambda p, t=test: t(p.name))
    if spec.get("hasArticles") is not None:
        counts = counts or {}
        tests.append(lambda p, want=bool(spec["hasArticles"]): (counts.get(p.key, 0) > 0) == want)
    return lambda p: all(t(p) for t in tests)


def _lower_domains(spec: dict) -> dict:
    out = {}
    for op, value in spec.items():
        if isinstance(value, str):
            value = value.lower()
        elif isinstance(value, list):
            value = [v.lower() if isinstance(v, str) else v for v in value]
        out[op] = value
    return out


def _provider_names(article: Article) -> tuple:
    names = []
    if article.provider is not None:
        names.append(article.provider.name)
    if article.provider_name and article.provider_name not in names:
        names.append(article.provider_name)
    return tuple(names) or (None,)


def _topics_predicate(spec: dict) -> Predicate:
    tests: list[Predicate] = []
    if spec.get("some") is not None:
        some = _slugs(spec["some"])
        tests.append(lambda a, s=some: not s.isdisjoint(a.topic_slugs))
    if spec.get("every") is not None:
        every = _slugs(spec["every"])
        tests.append(lambda a, s=every: s <= a.topic_slugs)
    if spec.get("none") is not None:
        none = _slugs(spec["none"])
        tests.append(lambda a, s=none: s.isdisjoint(a.topic_slugs))
    return lambda a: all(t(a) for t in tests)


def _tags_predicate(spec: dict) -> Predicate:
    """Tags match ignoring case (``us-la`` finds ``US-LA``)."""
    tests: list[Predicate] = []
    if spec.get("some") is not None:
        some = frozenset(t.casefold() for t in spec["some"])
        tests.append(lambda a, s=some: not s.isdisjoint(a.tag_keys))
    if spec.get("every") is not None:
        every = frozenset(t.casefold() for t in spec["every"])
        tests.append(lambda a, s=every: s <= a.tag_keys)
    if spec.get("none") is not None:
        none = frozenset(t.casefold() for t in spec["none"])
        tests.append(lambda a, s=none: s.isdisjoint(a.tag_keys))
    return lambda a: all(t(a) for t in tests)


SITE_FIELDS = {"name": "name", "title": "title", "url": "address"}


def _site_predicate(spec: dict) -> Predicate:
    """``url`` is the site's address (url and baseurl together); an article
    of no site has no name, title or address."""
    tests: list[Predicate] = []
    for field, attr in SITE_FIELDS.items():
        if spec.get(field) is not None:
            test = _string_filter(spec[field])
            tests.append(lambda a, t=test, attr=attr: t(getattr(a.site, attr) if a.site else None))
    return lambda a: all(t(a) for t in tests)


def _candidates(where: dict | None, view: View) -> Sequence[Article]:
    """The smallest index list that must contain every match (each list is
    in the default order), or all articles."""
    best: Sequence[Article] = view.articles
    if not where:
        return best
    options: list[Sequence[Article]] = []
    topics = where.get("topics") or {}
    if topics.get("some") is not None:
        lists = [view.by_topic.get(s, ()) for s in _slugs(topics["some"])]
        options.append(_union(lists))
    if topics.get("every"):
        options.extend(view.by_topic.get(s, ()) for s in _slugs(topics["every"]))
    for field, index in (("domain", view.by_domain), ("key", view.by_provider)):
        spec = (where.get("provider") or {}).get(field) or {}
        if spec.get("eq") is not None:
            options.append(index.get(spec["eq"].lower(), ()))
        elif spec.get("in") is not None:
            options.append(_union([index.get(d.lower(), ()) for d in spec["in"]]))
    for key, index in (("type", view.by_type), ("collection", view.by_collection)):
        spec = where.get(key) or {}
        if spec.get("eq") is not None:
            options.append(index.get(spec["eq"], ()))
    site_name = ((where.get("site") or {}).get("name") or {}).get("eq")
    if site_name is not None:
        options.append(view.by_site.get(site_name, ()))
    ident = where.get("id") or {}
    if ident.get("eq") is not None:
        hit = view.by_id.get(ident["eq"])
        options.append([hit] if hit else [])
    for option in options:
        if len(option) < len(best):
            best = option
    return best


def _union(lists: list[Sequence[Article]]) -> Sequence[Article]:
    if len(lists) == 1:
        return lists[0]
    merged = {a.ord: a for lst in lists for a in lst}
    return [merged[k] for k in sorted(merged)]


# --- ordering ----------------------------------------------------------------

class _Desc:
    """Reverses comparison for values that cannot be negated (titles)."""

    __slots__ = ("v",)

    def __init__(self, v) -> None:
        self.v = v

    def __lt__(self, other: "_Desc") -> bool:
        return other.v < self.v

    def __eq__(self, other) -> bool:
        return self.v == other.v


FIELDS: dict[str, Callable[[Article], object]] = {
    "PUBLISHED_AT": lambda a: a.published_ts,
    "HEAT": lambda a: a.heat,
    "QUALITY": lambda a: a.quality,
    "TITLE": lambda a: a.title_key,
}
DEFAULT_ORDER: tuple[tuple[str, str], ...] = (("PUBLISHED_AT", "DESC"),)


def _component(value, direction: str):
    # Missing values sort last whichever the direction.
    if value is None:
        return (1,)
    if direction == "ASC":
        return (0, value)
    return (0, -value) if isinstance(value, (int, float)) else (0, _Desc(value))


def normalise_order(order: Sequence[tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    order = tuple(order or ()) or DEFAULT_ORDER
    for field, direction in order:
        if field not in FIELDS or direction not in ("ASC", "DESC"):
            raise BadQuery(f"cannot order by {field} {direction}")
    return order


def key_function(order: tuple[tuple[str, str], ...]) -> Callable[[Article], tuple]:
    if order == DEFAULT_ORDER:
        return default_key
    getters = [(FIELDS[f], d) for f, d in order]
    return lambda a: tuple(_component(g(a), d) for g, d in getters) + (a.id,)


def key_from_values(order: tuple[tuple[str, str], ...], values: list) -> tuple:
    """The sort key of a cursor: the same shape as ``key_function`` gives."""
    if order == DEFAULT_ORDER:
        ts, ident = values
        return (0, -ts, ident) if ts is not None else (1, 0.0, ident)
    *vals, ident = values
    return tuple(_component(v, d) for v, (_, d) in zip(vals, order)) + (ident,)


def values_of(order: tuple[tuple[str, str], ...], article: Article) -> list:
    return [FIELDS[f](article) for f, _ in order] + [article.id]


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


def order_tag(order: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f"{f}:{d}" for f, d in order)


# --- pages ------------------------------------------------------------------

@dataclass
class Page:
    items: list                      # Articles (or (Article, score) for search)
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


def check_page_args(first: int | None, last: int | None, limit: int = MAX_PAGE) -> None:
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= limit:
            raise BadQuery(f"{name} must be between 0 and {limit}, got {value}")


def paginate(items: Sequence, keys: Callable[[object], tuple], cursor_of: Callable[[object], str],
             decode: Callable[[str], tuple], *, first: int | None, after: str | None,
             last: int | None, before: str | None, limit: int = MAX_PAGE) -> Page:
    """Relay pagination over a sorted sequence by key (not offset), so a
    cursor keeps its place when articles are added or removed."""
    check_page_args(first, last, limit)
    if first is None and last is None:
        first = DEFAULT_PAGE
    start, end = 0, len(items)
    if after is not None:
        start = bisect.bisect_right(items, decode(after), key=keys)
    if before is not None:
        end = max(start, bisect.bisect_left(items, decode(before), key=keys))
    lo, hi = start, end
    if first is not None:
        hi = min(hi, lo + first)
    if last is not None:
        lo = max(lo, hi - last)
    window = items[lo:hi]
    return Page(items=list(window), cursors=[cursor_of(i) for i in window],
                has_next=hi < len(items), has_previous=lo > 0, total=len(items))


class Selection:
    """The articles of one view matching ``where``, sorted by ``order``."""

    def __init__(self, view: View, where: dict | None, order, now: dt.datetime) -> None:
        self.view = view
        self.order = normalise_order(order)
        self.key = key_function(self.order)
        self.tag = order_tag(self.order)
        exact = exact_index(where)
        if exact is not None:
            self.items = _index_list(view, exact, self.order)
        else:
            self.items = _memo(view, where, self.order, now, self._compute)

    def _compute(self, where, now) -> list[Article]:
        predicate = compile_where(where, self.view, now)
        matches = [a for a in _candidates(where, self.view) if predicate(a)]
        if self.order != DEFAULT_ORDER:
            if len(matches) >= RANKED_SORT_MIN:
                rank = _ranks(self.view, self.order)
                matches.sort(key=lambda a: rank[a.ord])
            else:
                matches.sort(key=self.key)
        return matches

    def cursor(self, article: Article) -> str:
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

    def decode(self, cursor: str) -> tuple:
        values = decode_cursor(cursor, self.tag, len(self.order) + 1)
        try:
            return key_from_values(self.order, values)
        except (TypeError, ValueError):
            raise BadQuery(f"invalid cursor {cursor[:60]!r}") from None

    def page(self, first=None, after=None, last=None, before=None, limit: int = MAX_PAGE) -> Page:
        return paginate(self.items, self.key, self.cursor, self.decode, first=first, after=after,
                        last=last, before=before, limit=limit)


# --- whole index lists ---------------------------------------------------------
#
# The filters a listing uses most (one topic, one provider, one type, one
# collection, or none) match exactly the articles of one index list. Such a
# selection is that list itself: no predicate runs, nothing is copied. In any
# other order, it is the same index grouped from the view sorted that way,
# built for every key at once, so each of a million articles' topics costs
# one pass per ordering and not one sort per topic.

_INDEXES = {"topic": "by_topic", "provider": "by_provider", "domain": "by_domain",
            "type": "by_type", "collection": "by_collection"}


def _live(spec) -> dict:
    return {k: v for k, v in spec.items() if v is not None} if isinstance(spec, dict) else {}


def exact_index(where: dict | None) -> tuple[str, str | None] | None:
    """(index, key) when ``where`` matches exactly one index list's
    articles; ("all", None) for no filter; None otherwise."""
    live = _live(where)
    if not live:
        return ("all", None) if where is None or isinstance(where, dict) else None
    if len(live) != 1:
        return None
    (field, spec), = live.items()
    ops = _live(spec)
    if field == "topics" and len(ops) == 1 and ("some" in ops or "every" in ops):
        slugs = _slugs(ops.get("some", ops.get("every")))
        return ("topic", next(iter(slugs))) if len(slugs) == 1 else None
    if field in ("type", "collection") and set(ops) == {"eq"} and isinstance(ops["eq"], str):
        return (field, ops["eq"])
    if field == "provider" and len(ops) == 1 and set(ops) <= {"domain", "key"}:
        (part, spec), = ops.items()
        value = _live(spec)
        if set(value) == {"eq"} and isinstance(value["eq"], str):
            return ("domain" if part == "domain" else "provider", value["eq"].lower())
    return None


def _index_list(view: View, exact: tuple[str, str | None], order) -> Sequence[Article]:
    index, value = exact
    if order == DEFAULT_ORDER:
        if index == "all":
            return view.articles
        return getattr(view, _INDEXES[index]).get(value, ())
    ordered = _sorted_view(view, order)
    if index == "all":
        return ordered
    groups = _remembered(view, "index_orders", (index, order), lambda: _group(ordered, index))
    return groups.get(value, ())


def _group(ordered: list[Article], index: str) -> dict[str, list[Article]]:
    """Each key's articles of one index, in the order of ``ordered``."""
    if index == "topic":
        keyed = ((topic.slug, a) for a in ordered for topic in a.topics)
    elif index == "provider":
        keyed = ((a.provider.key, a) for a in ordered if a.provider is not None)
    elif index == "domain":
        keyed = ((a.provider.domain, a) for a in ordered if a.provider is not None)
    else:
        keyed = ((getattr(a, index), a) for a in ordered)
    groups: dict[str, list[Article]] = {}
    for value, article in keyed:
        found = groups.get(value)
        if found is None:
            groups[value] = [article]
        else:
            found.append(article)
    return groups


def _remembered(view: View, name: str, key, make):
    """``make()``, remembered in the view's memo ``name`` under ``key``. Each
    is the size of the whole view, so only the RANK_ORDERINGS most recently
    used are kept, and, like the model, out of the collector's sight: at 1M
    articles, full collections scanning these lists took the throughput of
    the queries that came after the first ordered one down by a tenth to a
    third."""
    memos: OrderedDict = view.cache.setdefault(name, OrderedDict())
    with view.cache_lock:
        found = memos.get(key)
        if found is not None:
            memos.move_to_end(key)
            return found
    found = make()
    settle()
    with view.cache_lock:
        memos[key] = found
        while len(memos) > RANK_ORDERINGS:
            memos.popitem(last=False)
    return found


def _sorted_view(view: View, order) -> list[Article]:
    """The whole view sorted by ``order``, once per ordering (a few are kept)."""
    return _remembered(view, "orders", order, lambda: _stable_sorted(view, order))


_ATTRIBUTES = {"PUBLISHED_AT": "published_ts", "HEAT": "heat", "QUALITY": "quality",
               "TITLE": "title_key"}


def _stable_sorted(view: View, order) -> list[Article]:
    """``sorted(view.articles, key=key_function(order))``, made the fast way
    for a whole view: from the view in id order, one stable sort per field,
    the last field first, comparing the bare values in C (``key_function``
    builds a tuple per article and compares tuples: 7 s at 1M). Missing
    values go last in either direction, keeping their order from the fields
    after; a descending sort keeps ties in their order too, so ties go by
    the later fields and then by id, as in the key."""
    with view.cache_lock:
        by_id = view.cache.get("id_order")
    if by_id is None:
        by_id = sorted(view.articles, key=attrgetter("id"))
        with view.cache_lock:
            view.cache["id_order"] = by_id
    items = by_id
    for field, direction in reversed(order):
        get = attrgetter(_ATTRIBUTES[field])
        values = list(map(get, items))
        present = [a for a, v in zip(items, values) if v is not None]
        if len(present) < len(items):
            missing = [a for a, v in zip(items, values) if v is None]
        else:
            missing = []
        present.sort(key=get, reverse=direction == "DESC")
        items = present + missing
    return items


def _ranks(view: View, order) -> array:
    """Each article's position in the whole view under ``order``, by ``ord``.
    A large selection sorted by it compares small ints instead of building
    a key per article: the view is sorted once per ordering, and then every
    filter of a million articles costs a C sort. The order is the same:
    the order's key is a total order (ties go by id)."""
    return _remembered(view, "ranks", order, lambda: _rank_array(view, order))


def _rank_array(view: View, order) -> array:
    rank = array("i", bytes(4 * len(view.model.all_articles)))
    for position, article in enumerate(_sorted_view(view, order)):
        rank[article.ord] = position
    return rank


def _memo(view: View, where, order, now, compute):
    """LRU of filtered lists per view; a filter that depends on the clock
    (``within``) is computed afresh."""
    raw = orjson.dumps(where, option=orjson.OPT_SORT_KEYS) if where else b""
    if b'"within"' in raw:
        return compute(where, now)
    memo_key = (raw, order)
    cache: OrderedDict = view.cache.setdefault("selections", OrderedDict())
    with view.cache_lock:
        hit = cache.get(memo_key)
        if hit is not None:
            cache.move_to_end(memo_key)
            return hit
    result = compute(where, now)
    # Bounded by the articles the lists hold as well as by count, so one
    # filter per topic stays remembered at any size, and memory stays a
    # small multiple of the view.
    budget = max(MEMO_ITEMS, 4 * len(view.articles))
    with view.cache_lock:
        replaced = cache.get(memo_key)
        cache[memo_key] = result
        held = view.cache.get("selections_held", 0) + len(result) - len(replaced or ())
        view.cache["selections_held"] = held
        while len(cache) > 1 and (len(cache) > MEMO_SIZE or held > budget):
            _, dropped = cache.popitem(last=False)
            held = view.cache["selections_held"] = held - len(dropped)
    return result


# --- facets ------------------------------------------------------------------

_topics_of = attrgetter("topics")
_tags_of = attrgetter("tags")
_site_of = attrgetter("site")
_provider_of = attrgetter("provider")
_type_of = attrgetter("type")
_month_of = attrgetter("month")


def facets_of(view: View, where: dict | None, now: dt.datetime) -> dict:
    """The facet counts of the articles matching ``where``."""
    exact = exact_index(where)
    if exact is not None and view.index_facets is not None:
        found = view.index_facets.get(exact)
        if found is not None:
            return found
    return facets(Selection(view, where, None, now).items)


def precount_facets(view: View) -> None:
    """Count the facets of the whole view and of each topic once, ahead of
    any request: a topic's first facet request at 1M articles counted up to
    270k of them (0.5 s), and a page of topics asks for each. Other indexes
    (providers, types) are left to be counted on request and remembered:
    counting them all ahead would add seconds to every large load."""
    counted = {("all", None): facets(view.articles)}
    for slug, items in view.by_topic.items():
        counted[("topic", slug)] = facets(items)
    view.index_facets = counted


def facets(items: Sequence[Article]) -> dict:
    # Counted by C loops over attributes (a topic's share of 1M articles is
    # tens of thousands): topics and providers are shared objects, so their
    # labels come from the objects counted.
    topics = Counter(chain.from_iterable(map(_topics_of, items)))
    providers = Counter(map(_provider_of, items))
    providers.pop(None, None)
    types = Counter(map(_type_of, items))
    months = Counter(map(_month_of, items))
    months.pop(None, None)
    tags = Counter(chain.from_iterable(map(_tags_of, items)))
    sites = Counter(map(_site_of, items))
    sites.pop(None, None)
    labels_site = {site.name: site.title for site in sites}
    sites = Counter({site.name: count for site, count in sites.items()})
    labels_topic = {topic.slug: topic.name for topic in topics}
    labels_provider = {provider.key: provider.name for provider in providers}
    topics = Counter({topic.slug: count for topic, count in topics.items()})
    providers = Counter({provider.key: count for provider, count in providers.items()})

    def ranked(counter: Counter, labels: dict | None = None) -> list[tuple[str, str | None, int]]:
        return [(value, (labels or {}).get(value), count)
                for value, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]

    return {"total": len(items), "topics": ranked(topics, labels_topic),
            "providers": ranked(providers, labels_provider), "types": ranked(types),
            "months": ranked(months), "tags": ranked(tags), "sites": ranked(sites, labels_site)}
