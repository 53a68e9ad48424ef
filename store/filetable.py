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
columns until one is asked for (store/filecolumns.py), and are found by
the index the key file holds: a load that finds a file unchanged by its
size and mtime never makes its entry, and a question of the indexes costs
what it asks, not a pass over every file.
"""
from __future__ import annotations

import os
from collections.abc import MutableMapping

from loaders.files import JSON_SUFFIXES, YAML_SUFFIXES

from .filecolumns import FileColumns

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


class FileTable(MutableMapping):
    """The files table: entries by key, noting the keys set or removed
    since it was read (what a publish writes). An entry changed in place
    is marked with ``touch``, which only a new size and mtime may do: any
    other change is an assignment, so the indexes follow it.

    Entries still in their key files' columns are asked of those columns'
    indexes (store/filecolumns.py); the others (set by this load, or read
    from a segment without a key file) of an index built over them alone
    on the first question and kept up to date by every change after it.
    ``counts``: how many ids of each kind the files claim, as the store's
    meta recorded it (each publish records it: store/db.py), kept up to
    date by every change; None: counted on the first question."""

    def __init__(self, entries: dict | None = None, columns: FileColumns | None = None,
                 counts: dict | None = None) -> None:
        # An int item is the entry's position in ``columns``, not yet made.
        self._items: dict[str, dict | int] = dict(entries or {})
        self._columns = columns
        self._made: dict[str, int] = {}  # entries made from the columns: their positions
        self.changed: set[str] = set()
        self.dropped: set[str] = set()
        self.before: dict[str, str | None] = {}
        # The index of the loose entries (not in the columns), built on the first question.
        self._claims: dict[str, dict[str, set[str]]] | None = None  # kind -> id -> file keys
        self._noted: set[str] = set()            # loose keys with notes
        self._data_articles: dict[str, int] = {}  # article id -> loose data files claiming it
        self._roots: dict[str, set[str]] | None = None  # root -> its file keys
        valid = isinstance(counts, dict) and all(type(n) is int for n in counts.values())
        self._counts: dict[str, int] | None = dict(counts) if valid else None

    # -- the mapping

    def __getitem__(self, key: str) -> dict:
        item = self._items[key]
        if type(item) is int:
            self._made[key] = item  # its claims are still the columns'
            item = self._items[key] = self._columns.entry(key, item)
        return item

    def __setitem__(self, key: str, entry: dict) -> None:
        ids = {(kind, ident) for kind, ident, _ in entry["keys"]}
        counting = self._counting(key, ids)
        if key in self._items:
            self._unindex(key)
        self._items[key] = entry
        self._made.pop(key, None)
        self._index(key)
        self.touch(key)
        self._counted(counting)

    def __delitem__(self, key: str) -> None:
        counting = self._counting(key, set())
        self._unindex(key)
        del self._items[key]
        self._made.pop(key, None)
        self.dropped.add(key)
        self.changed.discard(key)
        self._counted(counting)

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
        return self._columns.claims(item) if type(item) is int else item["keys"]

    def notes_of(self, key: str) -> dict | None:
        item = self._items[key]
        return self._columns.notes(item) if type(item) is int else item.get("notes")

    # -- indexes

    def claimers(self, kind: str, ident: str) -> set[str]:
        """The keys of the files claiming ``ident`` as a ``kind``."""
        self._build()
        found = set(self._claims.get(kind, {}).get(ident, ()))
        if self._columns is not None:
            for chunk in self._columns.chunks:
                for local in chunk.claims.claimers(kind, ident):
                    key = chunk.keys[local]
                    if self._current(key, chunk.start + local):
                        found.add(key)
        return found

    def claimed_counts(self) -> dict[str, int]:
        """How many ids of each kind some file claims."""
        if self._counts is None:
            ids: dict[str, set[str]] = {}
            for key in self._items:
                for kind, ident, _ in self.claims_of(key):
                    ids.setdefault(kind, set()).add(ident)
            self._counts = {kind: len(found) for kind, found in ids.items()}
        return {kind: count for kind, count in self._counts.items() if count}

    def noted(self) -> set[str]:
        """The keys of the entries with notes (for the summary)."""
        self._build()
        found = set(self._noted)
        for chunk, local, key in self._current_of("noted"):
            found.add(key)
        return found

    def data_articles(self) -> set[str]:
        """The ids of the articles data files (API pages) describe."""
        self._build()
        found = set(self._data_articles)
        for chunk, local, _ in self._current_of("data"):
            found.update(ident for kind, ident, _ in chunk.claims.of_file(local) if kind == "article")
        return found

    def _current(self, key: str, at: int) -> bool:
        """Whether the table holds the entry at ``at`` of the columns for
        ``key`` still (not one a newer segment or this load put there)."""
        item = self._items.get(key)
        return item == at if type(item) is int else self._made.get(key) == at

    def _current_of(self, column: str):
        """(chunk, position in it, key) of each entry a column of the
        chunks' claims names (``noted``, ``data``) that is current."""
        if self._columns is None:
            return
        for chunk in self._columns.chunks:
            for local in getattr(chunk.claims, column):
                key = chunk.keys[local]
                if self._current(key, chunk.start + local):
                    yield chunk, local, key

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

    def _loose(self, key: str) -> bool:
        return type(self._items[key]) is not int and key not in self._made

    def _build(self) -> None:
        if self._claims is not None:
            return
        self._claims, self._noted, self._data_articles = {}, set(), {}
        made = self._made
        for key, item in self._items.items():
            if type(item) is not int and key not in made:
                self._add(key)

    def _add(self, key: str) -> None:
        item = self._items[key]
        claims = self._claims
        for kind, ident, _ in item["keys"]:
            by = claims.get(kind)
            if by is None:
                by = claims[kind] = {}
            found = by.get(ident)
            if found is None:
                by[ident] = {key}
            else:
                found.add(key)
        if item.get("notes") is not None:
            self._noted.add(key)
        if is_data(key):
            counts = self._data_articles
            for kind, ident, _ in item["keys"]:
                if kind == "article":
                    counts[ident] = counts.get(ident, 0) + 1

    def _index(self, key: str) -> None:
        if self._claims is not None:
            self._add(key)
        if self._roots is not None:
            self._roots.setdefault(root_of(key), set()).add(key)

    def _unindex(self, key: str) -> None:
        if self._claims is not None and self._loose(key):
            for kind, ident, _ in self._items[key]["keys"]:
                by = self._claims.get(kind, {})
                found = by.get(ident)
                if found is not None:
                    found.discard(key)
                    if not found:
                        del by[ident]
            self._noted.discard(key)
            if is_data(key):
                counts = self._data_articles
                for kind, ident, _ in self._items[key]["keys"]:
                    if kind == "article" and ident in counts:
                        counts[ident] -= 1
                        if not counts[ident]:
                            del counts[ident]
        if self._roots is not None:
            self._roots.get(root_of(key), set()).discard(key)

    # -- the counts of claimed ids, kept by every change

    def _counting(self, key: str, ids: set) -> dict | None:
        """Before a change of ``key``'s entry to one claiming ``ids``:
        whether each id it touches is claimed now."""
        if self._counts is None:
            return None
        if key in self._items:
            ids = ids | {(kind, ident) for kind, ident, _ in self.claims_of(key)}
        return {pair: bool(self.claimers(*pair)) for pair in ids}

    def _counted(self, before: dict | None) -> None:
        if before is None:
            return
        counts = self._counts
        for (kind, ident), was in before.items():
            counts[kind] = counts.get(kind, 0) + bool(self.claimers(kind, ident)) - was
