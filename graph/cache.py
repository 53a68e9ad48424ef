"""Bounded LRU caches: answers by request, and APQ documents by hash."""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock


class ResponseCache:
    """Serialized answers keyed by (data version, preview, document, variables,
    operation). Bounded by bytes; emptied when the data version changes, so
    an answer from an older version is never served."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.version: str | None = None
        self.size = 0
        # key -> (status, body, note): the note says what the answer was
        # (graph/observe.Note), for the metrics and the access log of a hit.
        self.entries: OrderedDict[tuple, tuple[int, bytes, object]] = OrderedDict()
        self.lock = Lock()
        self.hits = 0
        self.misses = 0

    def _switch(self, version: str) -> None:
        if version != self.version:
            self.entries.clear()
            self.size = 0
            self.version = version

    def get(self, version: str, key: tuple) -> tuple[int, bytes, object] | None:
        if not self.max_bytes:  # off (--response-cache-mb 0): costs nothing
            return None
        with self.lock:
            self._switch(version)
            hit = self.entries.get(key)
            if hit is None:
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return hit

    @staticmethod
    def _cost(key: tuple, body: bytes) -> int:
        return len(body) + sum(len(k) for k in key if isinstance(k, (str, bytes))) + 200

    def put(self, version: str, key: tuple, status: int, body: bytes, note=None) -> None:
        if not self.max_bytes:
            return
        cost = self._cost(key, body)
        if cost > self.max_bytes // 8:
            return  # one huge answer must not flush everything else
        with self.lock:
            self._switch(version)
            if key in self.entries:
                return
            self.entries[key] = (status, body, note)
            self.size += cost
            while self.size > self.max_bytes and self.entries:
                old_key, (_, old_body, _) = self.entries.popitem(last=False)
                self.size -= self._cost(old_key, old_body)


class PersistedQueries:
    """Apollo APQ: sha256 hash -> document, bounded by count."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[str, str] = OrderedDict()
        self.lock = Lock()

    def get(self, digest: str) -> str | None:
        with self.lock:
            query = self.entries.get(digest)
            if query is not None:
                self.entries.move_to_end(digest)
            return query

    def put(self, digest: str, query: str) -> None:
        with self.lock:
            self.entries[digest] = query
            self.entries.move_to_end(digest)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
