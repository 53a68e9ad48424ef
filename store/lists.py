"""The providers and topics lists, as a sidebar shows them: filtered on
having articles (for the audience asking), ordered by article count or
name, and paged with cursors that keep their place.

Without an order they are listed by key (a provider's domain or platform
key, a topic's slug), with the cursors they always had.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .errors import BadQuery
from .query import Page, _Desc, _string_filter, decode_cursor, encode_cursor, paginate

# Each field's value, the direction it sorts in when the order gives none,
# and the type of its value in a cursor.
FIELDS: dict[str, tuple[Callable, str, type]] = {
    "ARTICLE_COUNT": (lambda entity, count: count, "DESC", int),
    "NAME": (lambda entity, count: entity.name.casefold(), "ASC", str),
}


def topic_predicate(spec: dict | None, counts: dict[str, int]) -> Callable:
    """A ``TopicWhere``: slug and name, and whether the topic has articles."""
    spec = spec or {}
    tests: list[Callable] = []
    for field in ("slug", "name"):
        if spec.get(field) is not None:
            test = _string_filter(spec[field])
            tests.append(lambda t, test=test, field=field: test(getattr(t, field)))
    if spec.get("hasArticles") is not None:
        tests.append(lambda t, want=bool(spec["hasArticles"]): (counts.get(t.slug, 0) > 0) == want)
    return lambda t: all(test(t) for test in tests)


def normalise(order: Sequence[tuple[str, str | None]] | None) -> tuple[tuple[str, str], ...]:
    found = []
    for field, direction in order or ():
        if field not in FIELDS or direction not in (None, "ASC", "DESC"):
            raise BadQuery(f"cannot order by {field} {direction}")
        found.append((field, direction or FIELDS[field][1]))
    return tuple(found)


def page(items: list, key: Callable[[object], str], counts: dict[str, int], tag: str,
         order, *, first: int | None, after: str | None, limit: int) -> Page:
    """``items`` (in key order) filtered already, sorted by ``order`` (ties
    by key) and paged; ``counts`` are the audience's article counts by key."""
    order = normalise(order)
    if not order:
        return paginate(items, key, lambda item: encode_cursor(tag, [key(item)]),
                        lambda cursor: _checked(cursor, decode_cursor(cursor, tag, 1), (str,))[0],
                        first=first, after=after, last=None, before=None, limit=limit)
    tag = tag + ":" + ",".join(f"{f}:{d}" for f, d in order)

    def values(item) -> list:
        count = counts.get(key(item), 0)
        return [FIELDS[field][0](item, count) for field, _ in order] + [key(item)]

    def sort_key(values_: list) -> tuple:
        *parts, ident = values_
        return tuple(_component(v, d) for v, (_, d) in zip(parts, order)) + (ident,)

    types = tuple(FIELDS[field][2] for field, _ in order) + (str,)

    def decode(cursor: str) -> tuple:
        return sort_key(_checked(cursor, decode_cursor(cursor, tag, len(order) + 1), types))

    ordered = sorted(items, key=lambda item: sort_key(values(item)))
    return paginate(ordered, lambda item: sort_key(values(item)),
                    lambda item: encode_cursor(tag, values(item)), decode,
                    first=first, after=after, last=None, before=None, limit=limit)


def _checked(cursor: str, values: list, types: tuple) -> list:
    # bool is an int to isinstance, but no count is true or false.
    if not all(type(v) is t for v, t in zip(values, types)):
        raise BadQuery(f"invalid cursor {cursor[:60]!r}")
    return values


def _component(value, direction: str):
    if direction == "ASC":
        return value
    return -value if isinstance(value, int) else _Desc(value)
