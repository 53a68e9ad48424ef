"""A segment's key file: its keys and where its records are, so that a load
need not read the segment to know what the store holds.

    news.json.d/00000007.json   a segment (store/segments.py)
    news.json.d/00000007.keys   its key file

A segment's articles are most of its bytes, and a load needs of an
unchanged one only its key, number and hash; of a file only its size and
mtime (to find it unchanged) and its claims, indexed by what they claim
(store/filecolumns.py). The key file holds those as columns (marshal:
read at C speed), with where each article's record is in the segment, so
a load of a large store reads a few columns instead of splitting every
line of every segment, and reads a record from its segment only when a
load changes or replaces it.

It is written with its segment, before the manifest naming the segment (a
temporary file synced and renamed: the same commit point), and it is a
cache, never the record: it names the segment it was made for (size and
mtime, which a segment of the same name written after a kill would not
share) and the format, and a reader that finds it missing, damaged or not
matching reads the segment itself. Like the read-model image it is trusted
as the store is (marshal is no format for data from elsewhere).
"""
from __future__ import annotations

import array
import bisect
import contextlib
import marshal
import os
import sys
import tempfile

from .filecolumns import Claims, fixed, ints, pack_claims
from .filetable import file_key, is_data
from .storage import Raw, fsync_dir, map_file, mode_of, temp_prefix

# 3: the files' claims indexed by what they claim (store/filecolumns.py).
FORMAT = 3
SUFFIX = ".keys"
# marshal's format changes with Python's version: a key file of another is not read.
_STAMP = (FORMAT, marshal.version, sys.version_info[:2])
TABLES = ("topics", "providers")


def path_for(segment: str) -> str:
    return segment[:-len(".json")] + SUFFIX if segment.endswith(".json") else segment + SUFFIX


def columns(data: dict, article_keys: list[str]) -> dict:
    """What the key file of the segment ``data`` (tables of documents, as
    written) holds but the records' places: taken before the write, which
    may empty ``data`` (Store.write's ``free_records``). ``article_keys``:
    the articles' keys, in the order of ``data["articles"]``."""
    articles = data.get("articles", {})
    numbers = [int(n) for n in articles]
    # A lazy table (Store.segment_of) knows its hashes without reading its records.
    hashes = articles.hashes() if hasattr(articles, "hashes") else \
        [doc.hash if type(doc) is Raw else doc["_hash"] for doc in articles.values()]
    keys, sizes, mtimes, sha1s, claims, notes = [], [], [], [], [], []
    for doc in data.get("files", {}).values():
        keys.append(file_key(doc["root"], doc["path"]))
        sizes.append(doc["size"])
        mtimes.append(doc["mtime_ns"])
        sha1s.append(doc["sha1"])
        claims.append([(kind, ident, rank) for kind, ident, rank in doc["keys"]])
        notes.append(doc.get("notes"))
    return {
        "meta": next(iter(data.get("meta", {}).values()), {}),
        "articles": [list(article_keys), numbers, hashes],
        "files": [keys, sizes, mtimes, sha1s, claims, notes],
        **{table: list(data.get(table, {}).values()) for table in TABLES},
        "removed": [(doc["table"], doc["key"]) for doc in data.get("removed", {}).values()],
    }


def write(segment: str, made: dict, spans: dict, file: tuple[int, int]) -> None:
    """The key file of the segment at ``segment``: ``made`` (``columns``),
    with where the writer put each article (``spans``) and the segment
    file's (size, mtime_ns)."""
    where = spans.get("articles", {})
    numbers = made["articles"][1]
    offsets = [where[str(n)][0] for n in numbers]
    lengths = [where[str(n)][1] for n in numbers]
    keys, numbers, hashes = made["articles"]
    file_keys, sizes, mtimes, sha1s, claims, notes = made["files"]
    index = pack_claims(claims, [is_data(key) for key in file_keys])
    index["noted"] = [at for at, note in enumerate(notes) if note is not None]
    index = {name: _strings(values, "\n") if name == "ids" else _ints(values) for name, values in index.items()}
    payload = marshal.dumps({
        **made, "stamp": _STAMP, "segment": list(file),
        "articles": [_strings(keys, "\0"), _ints(numbers), _fixed(hashes), _ints(offsets), _ints(lengths)],
        "files": [_strings(file_keys, "\n"), _ints(sizes), _ints(mtimes), _fixed(sha1s), notes, index]})
    target = path_for(segment)
    folder = os.path.dirname(os.path.abspath(target))
    handle, tmp = tempfile.mkstemp(prefix=temp_prefix(target), dir=folder)
    try:
        os.fchmod(handle, mode_of(segment))
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def read(segment: str) -> dict | None:
    """The key file of the segment at ``segment``, or None when there is
    none that fits it (then read the segment)."""
    try:
        with open(path_for(segment), "rb") as handle:
            raw = handle.read()
        st = os.stat(segment)
    except OSError:
        return None
    try:
        made = marshal.loads(raw)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(made, dict) or made.get("stamp") != _STAMP \
            or made.get("segment") != [st.st_size, st.st_mtime_ns]:
        return None
    keys, numbers, hashes, offsets, lengths = made["articles"]
    made["articles"] = [_unstrings(keys), ints(numbers), fixed(hashes), ints(offsets), ints(lengths)]
    file_keys, sizes, mtimes, sha1s, notes, index = made["files"]
    sizes, mtimes = ints(sizes), ints(mtimes)
    if type(sizes) is not array.array or type(mtimes) is not array.array:
        return None  # a size or mtime past 64 bits: the table's columns hold none such
    claims = Claims(ids=_unstrings(index["ids"]), **{name: ints(index[name]) for name in
                                                      ("id_at", "files", "file_at", "of", "ranks", "noted", "data")})
    made["files"] = [_unstrings(file_keys), sizes, mtimes, fixed(sha1s), notes, claims]
    return made


# Columns are written so that reading them makes few objects: a hundred
# thousand keys as one string split at C speed, numbers as the bytes of an
# array (read back as an array), hashes of one width as one string (cut on
# demand: store/filecolumns.py Fixed). Each falls back to a plain list when
# its values do not fit (a key holding the separator, a number past 64
# bits, hashes of several widths).

def _strings(values: list[str], sep: str) -> tuple | list:
    joined = sep.join(values)
    return (sep, joined) if values and joined.count(sep) == len(values) - 1 else list(values)


def _unstrings(packed) -> list[str]:
    return packed[1].split(packed[0]) if type(packed) is tuple else packed


def _ints(values: list[int]) -> bytes | list:
    try:
        return array.array("q", values).tobytes()
    except OverflowError:
        return list(values)


def _fixed(values: list[str]) -> tuple | list:
    width = len(values[0]) if values else 0
    return (width, "".join(values)) if width and all(len(v) == width for v in values) else list(values)


class ArticleColumns:
    """Article records in segments, by position: each one's hash and where
    its bytes are, in its segment, mapped (a view into the page cache, as
    a segment read whole gives), kept as each segment's columns. The map
    is made at once, though no page is read until a record on it is: it
    keeps the file's data while a compaction removes the file."""

    def __init__(self) -> None:
        self._count = 0
        self._starts: list[int] = []   # the first position of each source's records
        # (source, hashes, offsets, lengths) of each: a mapped segment's view, or a spill
        self._segments: list[tuple] = []

    def extend(self, segment: str, hashes, offsets, lengths) -> int:
        """Add the records of ``segment``; the position of its first."""
        start = self._count
        self._count += len(offsets)
        self._starts.append(start)
        self._segments.append((memoryview(map_file(segment, populate=False)), hashes, offsets, lengths))
        return start

    def spilling(self, spill) -> None:
        """Records added from now on (``append``) are in ``spill``
        (store/spill.py), read back into bytes when asked for."""
        self._starts.append(self._count)
        self._segments.append((spill, [], [], []))

    def append(self, digest: str, offset: int, length: int) -> int:
        """One more record of the source added last; its position."""
        _, hashes, offsets, lengths = self._segments[-1]
        hashes.append(digest)
        offsets.append(offset)
        lengths.append(length)
        self._count += 1
        return self._count - 1

    def spilled_from(self) -> int | None:
        """The first position of the records of a spill, when the source
        added last is one; else None."""
        if self._segments and type(self._segments[-1][0]) is not memoryview:
            return self._starts[-1]
        return None

    def _locate(self, at: int) -> tuple[tuple, int]:
        found = bisect.bisect_right(self._starts, at) - 1
        return self._segments[found], at - self._starts[found]

    def hash(self, at: int) -> str:
        (_, hashes, _, _), local = self._locate(at)
        return hashes[local]

    def raw(self, at: int) -> Raw:
        (source, hashes, offsets, lengths), local = self._locate(at)
        offset = offsets[local]
        if type(source) is not memoryview:  # a load's spill: bytes of its own, at no place of a segment
            return Raw(source.read(offset, lengths[local]), hashes[local])
        return Raw(source[offset:offset + lengths[local]], hashes[local], offset)
