"""Parts of answers remembered per view, bounded in bytes.

The part of an answer that shows one entity (an Article, a Provider, a
Topic) or a view's facets depends only on that object and the view when no
variable reaches inside it and no ``within`` filter reads the clock
(graph/codegen.py decides which). A view belongs to one data version and
audience, so a part kept by it is never served for another; parts are kept
serialized (``orjson.Fragment``), so a later answer copies their bytes
instead of walking the objects again, and a whole answer made only of
such parts is kept as bytes too (``answer_bytes``).

All of it is held within ``--answer-parts-mb`` per view (0 turns it off):
when the bytes held pass it, everything is dropped and kept anew, which is
simpler than tracking recency and as good for a working set that fits.
"""
from __future__ import annotations

import operator

import orjson

# Objects kept besides the entities (Node types, which live as long as their
# data version): a part remembered by object keeps that object alive.
# graph/schema.py keeps the facets of its last FACETS_MEMO_SIZE filters per
# view; parts of more would keep alive facets no request shows again, one
# per request when filters are drawn anew (a 10k server grew by a gigabyte).
LONG_LIVED = {"ArticleFacets": 1024}
ENTRY_BYTES = 120  # a key tuple, a value tuple and a dict slot, roughly


def dumps(value) -> bytes:
    """The JSON of an answer or part of one that the compiled executor made
    for orjson (``Request.raw``): UTC datetimes in it are written with a Z,
    as the DateTime scalar writes them."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


def remembered(gtype) -> bool:
    """Whether the parts of answers showing an object of this type are
    remembered per view (when no variable reaches inside them)."""
    return gtype.name in LONG_LIVED or any(i.name == "Node" for i in getattr(gtype, "interfaces", ()))


class Parts:
    """One view's remembered parts and whole answers."""

    __slots__ = ("budget", "entries", "held", "counts", "lock")

    def __init__(self, budget: int, lock) -> None:
        self.budget = budget
        # (token, id(obj)) -> (obj, fragment): the entry keeps the object
        # alive, so its id cannot be reused while it is remembered.
        # (names, ids of parts) -> (parts, bytes) for whole answers.
        self.entries: dict = {}
        self.held = 0
        self.counts: dict = {}  # token -> parts held, for the LONG_LIVED types
        self.lock = lock

    def remember(self, key: tuple, obj, part: dict, most: int | None) -> orjson.Fragment:
        fragment = orjson.Fragment(raw := dumps(part))
        if most is not None and not getattr(obj, "kept", True):
            return fragment  # an object no request shows again (ArticleFacets.kept)
        with self.lock:
            if most is not None:
                count = self.counts.get(key[0], 0) + 1
                if count > most:
                    self._drop()
                    count = 1
                self.counts[key[0]] = count
            self._hold(len(raw))
            self.entries[key] = (obj, fragment)
        return fragment

    def _hold(self, size: int) -> None:
        self.held += size + ENTRY_BYTES
        if self.held > self.budget:
            self._drop()
            self.held = size + ENTRY_BYTES

    def _drop(self) -> None:
        self.entries.clear()
        self.counts.clear()
        self.held = 0

    def answer(self, body: dict) -> bytes:
        """The JSON of an answer whose every root field is a remembered part:
        it depends only on those parts and the names they answer to, so the
        next request that shows the same parts (``facets`` under the same
        filter, ``article`` by the same id) gets the same bytes object: the
        kernel sends a kept object faster than new memory."""
        data = body["data"]
        parts = tuple(data.values())
        key = (*data, *map(id, parts))
        found = self.entries.get(key)
        # The entry holds its parts, so their ids cannot be reused while it lives.
        if found is not None and all(map(operator.is_, found[0], parts)):
            return found[1]
        raw = dumps(body)
        with self.lock:
            self._hold(len(raw))
            self.entries[key] = (parts, raw)
        return raw


def parts_of(view, budget: int) -> Parts | None:
    """The view's parts (made on first use), or None when they are off."""
    if budget <= 0:
        return None
    found = view.cache.get(Parts)
    if found is None:
        found = view.cache.setdefault(Parts, Parts(budget, view.cache_lock))
    return found


def answer_bytes(body: dict, parts: Parts | None) -> bytes:
    """The JSON of an answer body: remembered by ``parts`` when it is made
    wholly of remembered parts (``Parts.answer``)."""
    if parts is None or len(body) != 1:
        return dumps(body)
    data = body.get("data")
    if data.__class__ is not dict or not data:
        return dumps(body)
    for part in data.values():
        if part.__class__ is not orjson.Fragment:
            return dumps(body)
    return parts.answer(body)
