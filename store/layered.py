"""A lookup map of one version of the read model that a patch changes
without copying it: the keys of many articles (ids, URLs) under the few
that versions since changed.

A server applying one change a second to a model of 100k articles copied
its maps of ids and URLs at every patch, a copy of every entry for the
few that changed; here a new version shares the ``base`` dict of the
version before and copies only ``top``, the keys changed since that base
was made (a value, or gone). Once ``top`` holds more than a sixty-fourth
of the base, a patch merges the two into a new base: a copy of the whole
now and then, not at every patch. Readers take the map as a read-only
Mapping: a lookup is two dictionary reads while ``top`` has any keys.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

_ABSENT = object()
_GONE = object()
# A patch merges ``top`` into a new base past this many keys, or past a
# sixty-fourth of the base.
MERGE_KEYS = 1024


class Layered(Mapping):
    __slots__ = ("base", "top", "size")

    def __init__(self, base: dict, top: dict | None = None, size: int | None = None) -> None:
        self.base = base
        self.top = top if top is not None else {}
        self.size = len(base) if size is None else size

    @classmethod
    def of(cls, found: Mapping) -> "Layered":
        return found if isinstance(found, Layered) else cls(found)

    def get(self, key, default=None):
        top = self.top
        if top:
            value = top.get(key, _ABSENT)
            if value is not _ABSENT:
                return default if value is _GONE else value
        return self.base.get(key, default)

    def __getitem__(self, key):
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def __contains__(self, key) -> bool:
        return self.get(key, _ABSENT) is not _ABSENT

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        top = self.top
        if not top:
            yield from self.base
            return
        for key in self.base:
            if top.get(key) is not _GONE:
                yield key
        for key, value in top.items():
            if value is not _GONE and key not in self.base:
                yield key

    def merged(self) -> dict:
        """The map as one plain dict: the base copied (in C), the top laid on."""
        found = dict(self.base)
        for key, value in self.top.items():
            if value is _GONE:
                del found[key]
            else:
                found[key] = value
        return found

    def __getstate__(self):
        return (self.merged(),)  # an image holds one plain dict

    def __setstate__(self, state) -> None:
        (self.base,) = state
        self.top, self.size = {}, len(self.base)

    def patched(self, gone: Iterable = (), put: Mapping | None = None) -> "Layered":
        """The next version: the keys of ``gone`` taken out, then those of
        ``put`` set. This one is left as it is."""
        top, size, base = dict(self.top), self.size, self.base

        def has(key) -> bool:
            value = top.get(key, _ABSENT)
            return key in base if value is _ABSENT else value is not _GONE

        for key in gone:
            if has(key):
                size -= 1
                if key in base:
                    top[key] = _GONE
                else:
                    del top[key]
        for key, value in (put or {}).items():
            if not has(key):
                size += 1
            top[key] = value
        if len(top) > max(MERGE_KEYS, len(base) >> 6):
            return Layered(Layered(base, top, size).merged())
        return Layered(base, top, size)
