"""Lists other than articles, ordered and paged with cursors that keep
their place: providers and topics as a sidebar shows them (filtered on
having articles for the audience asking, ordered by article count or
name), and people and events (store/people.py, store/events.py).

Without an order, providers and topics are listed by key (a provider's
domain or platform key, a topic's slug), with the cursors they always had.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .errors import BadQuery
from .ordering import Desc
from .paging import Page, decode_cursor, encode_cursor, paginate
from .predicates import compile_where, date_filter, provider_predicate, string_filter

# A field: its value, the direction it sorts in when the order gives none,
# and the type of its value in a cursor.
Fields = dict[str, tuple[Callable, str, type]]


def entity_fields(key: Callable[[object], str], counts: dict[str, int]) -> Fields:
    """How providers and topics sort; ``counts`` are the audience's."""
    return {"ARTICLE_COUNT": (lambda entity: counts.get(key(entity), 0), "DESC", int),
            "NAME": (lambda entity: entity.name.casefold(), "ASC", str)}


def topic_predicate(spec: dict | None, counts: dict[str, int]) -> Callable:
    """A ``TopicWhere``: slug and name, and whether the topic has articles."""
    spec = spec or {}
    tests: list[Callable] = []
    for field in ("slug", "name"):
        if spec.get(field) is not None:
            test = string_filter(spec[field])
            tests.append(lambda t, test=test, field=field: test(getattr(t, field)))
    if spec.get("hasArticles") is not None:
        tests.append(lambda t, want=bool(spec["hasArticles"]): (counts.get(t.slug, 0) > 0) == want)
    return lambda t: all(test(t) for test in tests)


def normalise(fields: Fields, order: Sequence[tuple[str, str | None]] | None) -> tuple[tuple[str, str], ...]:
    found = []
    for field, direction in order or ():
        if field not in fields or direction not in (None, "ASC", "DESC"):
            raise BadQuery(f"cannot order by {field} {direction}")
        found.append((field, direction or fields[field][1]))
    return tuple(found)


def by_key(items: list, key: Callable[[object], str], tag: str, *, first: int | None,
           after: str | None, last: int | None = None, before: str | None = None, limit: int) -> Page:
    """``items`` in key order, paged by key."""
    return paginate(items, key, lambda item: encode_cursor(tag, [key(item)]),
                    lambda cursor: _checked(cursor, decode_cursor(cursor, tag, 1), (str,))[0],
                    first=first, after=after, last=last, before=before, limit=limit)


def sorted_page(items: Sequence, fields: Fields, order, ident: Callable[[object], str], tag: str, *,
                first: int | None, after: str | None, last: int | None = None,
                before: str | None = None, limit: int) -> Page:
    """``items`` sorted by ``order`` (pairs of a field of ``fields`` and a
    direction; missing values last whichever the direction; ties by
    ``ident``) and paged by cursors made of the order's values."""
    order = normalise(fields, order)
    tag = tag + ":" + ",".join(f"{f}:{d}" for f, d in order)
    getters = [fields[field][0] for field, _ in order]
    types = tuple(fields[field][2] for field, _ in order) + (str,)

    def values(item) -> list:
        return [get(item) for get in getters] + [ident(item)]

    def sort_key(found: list) -> tuple:
        *parts, last_part = found
        return tuple(_component(v, d) for v, (_, d) in zip(parts, order)) + (last_part,)

    def decode(cursor: str) -> tuple:
        return sort_key(_checked(cursor, decode_cursor(cursor, tag, len(order) + 1), types))

    keys = {id(item): sort_key(values(item)) for item in items}
    ordered = sorted(items, key=lambda item: keys[id(item)])
    return paginate(ordered, lambda item: keys[id(item)], lambda item: encode_cursor(tag, values(item)),
                    decode, first=first, after=after, last=last, before=before, limit=limit)


def _checked(cursor: str, values: list, types: tuple) -> list:
    # A value is missing (None) or of its field's type; bool is an int to
    # isinstance, but no count is true or false.
    if not all(v is None or type(v) is t or (t is float and type(v) is int)
               for v, t in zip(values, types)) or values[-1] is None:
        raise BadQuery(f"invalid cursor {cursor[:60]!r}")
    return values


def _component(value, direction: str) -> tuple:
    # Missing values sort last whichever the direction.
    if value is None:
        return (1,)
    if direction == "ASC":
        return (0, value)
    return (0, -value) if isinstance(value, (int, float)) else (0, Desc(value))


# --- people and events --------------------------------------------------------------

def _typed_predicate(where: dict | None, view, now, own: dict[str, Callable], shared: frozenset[str]) -> Callable:
    """A filter on people or events: ``own`` fields test the typed object;
    ``shared`` ones are the article filter's (store/predicates.py), applied to
    the object's article, so they mean what they mean for articles."""
    if not where:
        return lambda item: True
    tests: list[Callable] = []
    for key, spec in where.items():
        if spec is None:
            continue
        if key in ("AND", "OR"):
            parts = [_typed_predicate(w, view, now, own, shared) for w in spec]
            combine = all if key == "AND" else any
            tests.append(lambda item, ps=parts, combine=combine: combine(p(item) for p in ps))
        elif key == "NOT":
            part = _typed_predicate(spec, view, now, own, shared)
            tests.append(lambda item, p=part: not p(item))
        elif key in own:
            tests.append(own[key](spec))
        elif key in shared:
            test = compile_where({key: spec}, view, now)
            tests.append(lambda item, t=test: t(item.article))
        else:
            raise BadQuery(f"unknown filter field {key!r}")
    return lambda item: all(t(item) for t in tests)


def _attribute(attr: str) -> Callable:
    def make(spec: dict) -> Callable:
        test = string_filter(spec)
        return lambda item: test(getattr(item, attr))
    return make


def _affiliation(view) -> Callable:
    def make(spec: dict) -> Callable:
        test = provider_predicate(spec, view.provider_counts)
        return lambda person: person.affiliation is not None and test(person.affiliation)
    return make


def _moment(attr: str, now) -> Callable:
    def make(spec: dict) -> Callable:
        test = date_filter(spec, now)
        return lambda event: test(getattr(event, attr))
    return make


PERSON_SHARED = frozenset({"topics", "tags", "site", "heat", "published", "text"})
EVENT_SHARED = frozenset({"title", "excerpt", "type", "provider", "topics", "tags", "site", "heat",
                          "published", "text"})


def person_predicate(where: dict | None, view, now) -> Callable:
    own = {"id": _attribute("id"), "name": _attribute("name"), "bio": _attribute("bio"),
           "location": _attribute("location"), "affiliation": _affiliation(view)}
    return _typed_predicate(where, view, now, own, PERSON_SHARED)


def event_predicate(where: dict | None, view, now) -> Callable:
    own = {"id": _attribute("id"), "location": _attribute("location"),
           "startsAt": _moment("starts_ts", now), "endsAt": _moment("ends_ts", now),
           "online": lambda spec: (lambda event, want=bool(spec): event.online is want)}
    return _typed_predicate(where, view, now, own, EVENT_SHARED)
