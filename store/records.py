"""Article details read back from the store file, for a model that came
from an image (store/image.py)."""
from __future__ import annotations

import os
import weakref
from threading import Lock
from typing import TYPE_CHECKING

import orjson

from .errors import StoreCorrupt
from .objects import Article, Details, RelatedItem, _base

if TYPE_CHECKING:
    from .readmodel import ReadModel


class Records:
    """Article details read from the store file, for a model that came from
    an image: each article knows where its record is (``_span``); the last
    few thousand details read stay cached, so a page's articles cost one read
    each only the first time."""

    CACHE = 4096

    def __init__(self, model: "ReadModel") -> None:
        self.model = model
        self._reset()

    # The model it resolves providers with, held weakly as View holds its own.
    model = property(lambda self: self._model(),
                     lambda self, model: setattr(self, "_model", weakref.ref(model)))

    def _reset(self) -> None:
        self.path: str | None = None
        self.fd: int | None = None
        self.cache: dict[int, Details] = {}
        self.lock = Lock()

    def __getstate__(self) -> dict:
        return {"model": "set by ReadModel.__setstate__"}  # not empty: pickle skips __setstate__ then

    def __setstate__(self, state: dict) -> None:
        self._reset()

    def open(self, path: str, fd: int) -> None:
        """Read from ``fd``: the store file the image was made for, opened
        before it was checked, so a later load replacing the file does not
        change what this model reads."""
        self.path, self.fd = path, fd
        weakref.finalize(self, os.close, fd)

    def details(self, article: Article) -> Details:
        details = self.cache.get(article.num)
        if details is not None:
            return details
        offset, length = article._span
        try:
            record = orjson.loads(os.pread(self.fd, length, offset))
            if record.get("id") != article.id:
                raise ValueError(f"found {str(record.get('id'))[:80]!r}")
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
            raise StoreCorrupt(self.path, f"record of {article.id!r} at byte {offset} "
                                          f"does not match the image ({exc})") from None
        provider_for = self.model.provider_for
        base = _base(article.site)
        related = [RelatedItem(r, provider_for((r.get("provider") or {}).get("domain"),
                                               (r.get("provider") or {}).get("name")), base, article.num)
                   for r in record.get("related") or ()]
        details = Details(record, related)
        with self.lock:
            if len(self.cache) >= self.CACHE:
                del self.cache[next(iter(self.cache))]  # the oldest
            self.cache[article.num] = details
        return details
