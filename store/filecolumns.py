"""The files table's entries as their segments' key files hold them
(store/keyfiles.py): columns, and an index of the files by what they claim.

A load that changes one file of a large site asks the table which files
claim a few ids (the duplicate check, the files to parse again) and how
many ids it holds. Made from every entry, that index was the one pass over
every file left in such a load; each segment's key file now holds its
own, written with it: the ids its files claim, sorted, and for each the
positions of its files (and each file's claims by position, the other
way). A question goes to each segment's index, and a file found there
counts only while the table still holds that segment's entry for it (a
newer segment, or the load itself, may have replaced it).

Columns hold numbers as arrays and strings as one string cut on demand,
so reading a key file makes few objects: a hundred thousand files' hashes
are one string until one is asked for.
"""
from __future__ import annotations

import array
import bisect
from dataclasses import dataclass, field


def ints(packed: bytes | list) -> array.array | list:
    """An int column as written (the bytes of an array, or a list of
    numbers too large for one)."""
    if type(packed) is not bytes:
        return packed
    values = array.array("q")
    values.frombytes(packed)
    return values


class Fixed:
    """Strings of one width, kept joined, cut when one is asked for."""

    __slots__ = ("width", "joined")

    def __init__(self, width: int, joined: str) -> None:
        self.width, self.joined = width, joined

    def __getitem__(self, at: int) -> str:
        width = self.width
        return self.joined[at * width:(at + 1) * width]

    def __len__(self) -> int:
        return len(self.joined) // self.width if self.width else 0


def fixed(packed) -> Fixed | list:
    return Fixed(*packed) if type(packed) is tuple else packed


@dataclass
class Claims:
    """A segment's files' claims both ways: ``ids`` ("kind\\0id", sorted),
    each with its files' positions (``files[id_at[i]:id_at[i + 1]]``);
    each file's claims, as indexes into ``ids`` with their ranks
    (``of[file_at[f]:file_at[f + 1]]``); the positions of the files with
    notes and of the data files."""

    ids: list[str]
    id_at: array.array
    files: array.array
    file_at: array.array
    of: array.array
    ranks: array.array
    noted: array.array
    data: array.array

    def claimers(self, kind: str, ident: str) -> range | list:
        """The positions of the files claiming ``ident`` as a ``kind``."""
        token = f"{kind}\0{ident}"
        at = bisect.bisect_left(self.ids, token)
        if at == len(self.ids) or self.ids[at] != token:
            return ()
        return self.files[self.id_at[at]:self.id_at[at + 1]]

    def of_file(self, local: int) -> list[tuple[str, str, int]]:
        ids, ranks = self.ids, self.ranks
        claims = []
        for j in range(self.file_at[local], self.file_at[local + 1]):
            kind, _, ident = ids[self.of[j]].partition("\0")
            claims.append((kind, ident, ranks[j]))
        return claims


def pack_claims(per_file: list[list], data: list[bool]) -> dict:
    """The claims of a segment's files (per file: (kind, id, rank), ...)
    as a key file holds them (``Claims``, its columns as lists); ``data``:
    whether each file is a data file."""
    ids = sorted({f"{kind}\0{ident}" for claims in per_file for kind, ident, _ in claims})
    index = {token: at for at, token in enumerate(ids)}
    holders: list[list[int]] = [[] for _ in ids]
    file_at, of, ranks = [0], [], []
    for position, claims in enumerate(per_file):
        for kind, ident, rank in claims:
            at = index[f"{kind}\0{ident}"]
            of.append(at)
            ranks.append(rank)
            holders[at].append(position)
        file_at.append(len(of))
    id_at, files = [0], []
    for found in holders:
        files += found
        id_at.append(len(files))
    return {"ids": ids, "id_at": id_at, "files": files, "file_at": file_at, "of": of, "ranks": ranks,
            "data": [at for at, is_data in enumerate(data) if is_data]}


@dataclass
class Chunk:
    """One segment's file entries, from its key file: at ``start`` of the
    table's positions."""

    start: int
    keys: list[str]
    sha1s: Fixed | list
    notes: list
    claims: Claims


@dataclass
class FileColumns:
    """File entries as columns (the segments' key files), by position in
    the table: sizes and mtimes whole (a walk compares every file's), the
    rest by segment."""

    sizes: array.array = field(default_factory=lambda: array.array("q"))
    mtimes: array.array = field(default_factory=lambda: array.array("q"))
    chunks: list[Chunk] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)

    def extend(self, keys: list[str], sizes: array.array, mtimes: array.array, sha1s, notes: list,
               claims: Claims) -> int:
        """Add a segment's entries; the position its first now has."""
        start = len(self.sizes)
        self.sizes.extend(sizes)
        self.mtimes.extend(mtimes)
        self.chunks.append(Chunk(start, keys, sha1s, notes, claims))
        self._starts.append(start)
        return start

    def locate(self, at: int) -> tuple[Chunk, int]:
        chunk = self.chunks[bisect.bisect_right(self._starts, at) - 1]
        return chunk, at - chunk.start

    def claims(self, at: int) -> list[tuple[str, str, int]]:
        chunk, local = self.locate(at)
        return chunk.claims.of_file(local)

    def notes(self, at: int) -> dict | None:
        chunk, local = self.locate(at)
        return chunk.notes[local]

    def entry(self, key: str, at: int) -> dict:
        chunk, local = self.locate(at)
        root, _, path = key.partition("\0")
        entry = {"root": root, "path": path, "size": self.sizes[at], "mtime_ns": self.mtimes[at],
                 "sha1": chunk.sha1s[local], "keys": [list(claim) for claim in chunk.claims.of_file(local)]}
        if chunk.notes[local] is not None:
            entry["notes"] = chunk.notes[local]
        return entry
