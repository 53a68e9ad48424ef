"""The store's ``files`` table: what each loaded file gave, by "root\\0path",
with the indexes a load asks it by, so that a load costs what changed.

An entry is ``{"root", "path", "size", "mtime_ns", "sha1", "keys",
"notes"?}``; ``keys`` are the file's claims, ``[kind, id, rank]``. A load
asks the table which files claim an id (the duplicate check, and the
files to parse again for an article several files describe), which files
a folder holds (``load --watch`` told of a few paths, ``--prune``), which
files carry notes for the summary, and which articles data files (API
pages) describe. Each answer is an index built on the first question and
kept up to date by every change after it, so a watching load, which
keeps its snapshot, never passes over every file again.

Entries read through a segment's key file (store/keyfiles.py) stay in its
columns until one is asked for (``FileColumns``): a load that finds a
file unchanged by its size and mtime never makes its entry.
"""
from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from loaders.files import JSON_SUFFIXES, YAML_SUFFIXES

DATA_SUFFIXES = JSON_SUFFIXES | YAML_SUFFIXES
_DATA_TAILS = tuple(DATA_SUFFIXES)


def file_key(root: str, path: str) -> str:
    return f"{root}\0{path}"


def root_of(key: str) -> str:
    return key.partition("\0")[0]


def is_data(path: str) -> bool:
    """A JSON or YAML file (API pages, data files), parsed in a load's first
    pass. Works on a path or a file key (it reads the end alone)."""
    # The tail first: nearly every path is a page's (.md), and splitext on
    # each of a large site's stored files was a tenth of a re-load's passes.
    return path[-5:].lower().endswith(_DATA_TAILS) and os.path.splitext(path)[1].lower() in DATA_SUFFIXES


@dataclass
class FileColumns:
    """File entries as columns (a segment's key file), by position."""

    sizes: list[int] = field(default_factory=list)
    mtimes: list[int] = field(default_factory=list)
    sha1s: list[str] = field(default_factory=list)
    claims: list[list] = field(default_factory=list)   # per file: [(kind, id, rank), ...]
    notes: list[dict | None] = field(default_factory=list)

    def extend(self, other: "FileColumns") -> int:
        """Append ``other``; the position its first entry now has."""
        start = len(self.sizes)
        for name in ("sizes", "mtimes", "sha1s", "claims", "notes"):
            getattr(self, name).extend(getattr(other, name))
        return start

    def entry(self, key: str, at: int) -> dict:
        root, _, path = key.partition("\0")
        entry = {"root": root, "path": path, "size": self.sizes[at], "mtime_ns": self.mtimes[at],
                 "sha1": self.sha1s[at], "keys": [list(claim) for claim in self.claims[at]]}
        if self.notes[at] is not None:
            entry["notes"] = self.notes[at]
        return entry


class FileTable(MutableMapping):
    """The files table: entries by key, noting the keys set or removed
    since it was read (what a publish writes). An entry changed in place
    is marked with ``touch``, which only a new size and mtime may do: any
    other change is an assignment, so the indexes follow it."""

    def __init__(self, entries: dict | None = None, columns: FileColumns | None = None) -> None:
        # An int item is the entry's position in ``columns``, not yet made.
        self._items: dict[str, dict | int] = dict(entries or {})
        self._columns = columns
        self.changed: set[str] = set()
        self.dropped: set[str] = set()
        self.before: dict[str, str | None] = {}
        self._claims: dict[str, dict[str, set[str]]] | None = None  # kind -> id -> file keys
        self._noted: set[str] = set()            # keys of entries with notes (with _claims)
        self._data_articles: dict[str, int] = {}  # article id -> data files claiming it (with _claims)
        self._roots: dict[str, set[str]] | None = None  # root -> its file keys

    # -- the mapping

    def __getitem__(self, key: str) -> dict:
        item = self._items[key]
        if type(item) is int:
            item = self._items[key] = self._columns.entry(key, item)
        return item

    def __setitem__(self, key: str, entry: dict) -> None:
        if key in self._items:
            self._unindex(key)
        self._items[key] = entry
        self._index(key)
        self.touch(key)

    def __delitem__(self, key: str) -> None:
        self._unindex(key)
        del self._items[key]
        self.dropped.add(key)
        self.changed.discard(key)

    def __contains__(self, key) -> bool:
        return key in self._items

    def __iter__(self):
        return iter(list(self._items))  # entries are made while a caller walks

    def __len__(self) -> int:
        return len(self._items)

    def keys_view(self):
        """Every key, as a set-like view (subset tests at C speed)."""
        return self._items.keys()

    def touch(self, key: str) -> None:
        self.changed.add(key)
        self.dropped.discard(key)

    # -- reading without making entries

    def stat(self, key: str) -> tuple[int, int] | None:
        """The (size, mtime_ns) recorded for ``key``, or None."""
        item = self._items.get(key)
        if item is None:
            return None
        if type(item) is int:
            return self._columns.sizes[item], self._columns.mtimes[item]
        return item["size"], item["mtime_ns"]

    def differing(self, prefix: str, listed: list[tuple[str, int, int]]) -> tuple[list[str], list[int]]:
        """The keys of the files ``listed`` ((path, size, mtime_ns), the
        path under ``prefix``), and the positions in it of those whose size
        and mtime are not the ones recorded. One loop, for every file of a
        walked site."""
        get = self._items.get
        columns = self._columns
        sizes, mtimes = (columns.sizes, columns.mtimes) if columns is not None else ((), ())
        keys: list[str] = []
        differ: list[int] = []
        for at, (path, size, mtime) in enumerate(listed):
            key = prefix + path
            keys.append(key)
            item = get(key)
            if item is None:
                differ.append(at)
            elif type(item) is int:
                if sizes[item] != size or mtimes[item] != mtime:
                    differ.append(at)
            elif item["size"] != size or item["mtime_ns"] != mtime:
                differ.append(at)
        return keys, differ

    def claims_of(self, key: str) -> list:
        item = self._items[key]
        return self._columns.claims[item] if type(item) is int else item["keys"]

    def notes_of(self, key: str) -> dict | None:
        item = self._items[key]
        return self._columns.notes[item] if type(item) is int else item.get("notes")

    # -- indexes

    def claimers(self, kind: str, ident: str) -> set[str]:
        """The keys of the files claiming ``ident`` as a ``kind``."""
        self._build()
        return self._claims.get(kind, {}).get(ident, set())

    def claimed(self, kind: str) -> dict[str, set[str]]:
        """Every id of ``kind`` some file claims, with its files."""
        self._build()
        return self._claims.get(kind, {})

    def noted(self) -> set[str]:
        """The keys of the entries with notes (for the summary)."""
        self._build()
        return self._noted

    def data_articles(self):
        """The ids of the articles data files (API pages) describe: a
        set-like view."""
        self._build()
        return self._data_articles.keys()

    def in_root(self, root: str) -> set[str]:
        """The keys of the files of the folder ``root`` (do not change it)."""
        if self._roots is None:
            roots: dict[str, set[str]] = {}
            for key in self._items:
                root_ = key.partition("\0")[0]
                found = roots.get(root_)
                if found is None:
                    roots[root_] = {key}
                else:
                    found.add(key)
            self._roots = roots
        return self._roots.get(root, set())

    def roots(self) -> set[str]:
        self.in_root("")
        return {root for root, keys in self._roots.items() if keys}

    def _build(self) -> None:
        if self._claims is not None:
            return
        self._claims, self._noted, self._data_articles = {}, set(), {}
        columns = self._columns
        lazy_claims, lazy_notes = (columns.claims, columns.notes) if columns is not None else ((), ())
        for key, item in self._items.items():
            if type(item) is not int:
                self._add(key)
            else:  # still in its key file's columns: read them, not the entry
                self._enter(key, lazy_claims[item], lazy_notes[item] is not None)

    def _add(self, key: str) -> None:
        self._enter(key, self.claims_of(key), self.notes_of(key) is not None)

    def _enter(self, key: str, its_claims, noted: bool) -> None:
        claims = self._claims
        for kind, ident, _ in its_claims:
            by = claims.get(kind)
            if by is None:
                by = claims[kind] = {}
            found = by.get(ident)
            if found is None:
                by[ident] = {key}
            else:
                found.add(key)
        if noted:
            self._noted.add(key)
        if key[-5:].lower().endswith(_DATA_TAILS) and is_data(key):
            counts = self._data_articles
            for kind, ident, _ in its_claims:
                if kind == "article":
                    counts[ident] = counts.get(ident, 0) + 1

    def _index(self, key: str) -> None:
        if self._claims is not None:
            self._add(key)
        if self._roots is not None:
            self._roots.setdefault(root_of(key), set()).add(key)

    def _unindex(self, key: str) -> None:
        if self._claims is not None:
            for kind, ident, _ in self.claims_of(key):
                by = self._claims.get(kind, {})
                found = by.get(ident)
                if found is not None:
                    found.discard(key)
                    if not found:
                        del by[ident]
            self._noted.discard(key)
            if is_data(key):
                counts = self._data_articles
                for kind, ident, _ in self.claims_of(key):
                    if kind == "article" and ident in counts:
                        counts[ident] -= 1
                        if not counts[ident]:
                            del counts[ident]
        if self._roots is not None:
            self._roots.get(root_of(key), set()).discard(key)
