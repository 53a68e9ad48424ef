"""A segment's key file: its keys and where its records are, so that a load
need not read the segment to know what the store holds.

    news.json.d/00000007.json   a segment (store/segments.py)
    news.json.d/00000007.keys   its key file

A segment's articles are most of its bytes, and a load needs of an
unchanged one only its key, number and hash; of a file only its size and
mtime (to find it unchanged) and its claims (the indexes of
store/filetable.py). The key file holds those as columns (marshal: read at
C speed), with where each article's record is in the segment, so a load
of a large store reads a few columns instead of splitting every line of
every segment, and reads a record from its segment only when a load
changes or replaces it.

It is written with its segment, before the manifest naming the segment (a
temporary file synced and renamed: the same commit point), and it is a
cache, never the record: it names the segment it was made for (size and
mtime, which a segment of the same name written after a kill would not
share) and the format, and a reader that finds it missing, damaged or not
matching reads the segment itself. Like the read-model image it is trusted
as the store is (marshal is no format for data from elsewhere).
"""
from __future__ import annotations

import bisect
import contextlib
import marshal
import os
import sys
import tempfile

from .filetable import FileColumns, file_key
from .storage import Raw, fsync_dir, map_file, mode_of, temp_prefix

FORMAT = 1
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
    hashes = [doc.hash if type(doc) is Raw else doc["_hash"] for doc in articles.values()]
    files = FileColumns()
    keys = []
    for doc in data.get("files", {}).values():
        keys.append(file_key(doc["root"], doc["path"]))
        files.sizes.append(doc["size"])
        files.mtimes.append(doc["mtime_ns"])
        files.sha1s.append(doc["sha1"])
        files.claims.append([tuple(claim) for claim in doc["keys"]])
        files.notes.append(doc.get("notes"))
    return {
        "meta": next(iter(data.get("meta", {}).values()), {}),
        "articles": [list(article_keys), numbers, hashes],
        "files": [keys, files.sizes, files.mtimes, files.sha1s, files.claims, files.notes],
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
    payload = marshal.dumps({**made, "stamp": _STAMP, "segment": list(file),
                             "articles": made["articles"] + [offsets, lengths]})
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
    return made


class ArticleColumns:
    """Article records in segments, by position: each one's hash and where
    its bytes are, in its segment, mapped (a view into the page cache, as
    a segment read whole gives). The map is made at once, though no page
    is read until a record on it is: it keeps the file's data while a
    compaction removes the file."""

    def __init__(self) -> None:
        self.hashes: list[str] = []
        self.offsets: list[int] = []
        self.lengths: list[int] = []
        self._starts: list[int] = []   # the first position of each segment's records
        self._views: list[memoryview] = []

    def extend(self, segment: str, hashes: list[str], offsets: list[int], lengths: list[int]) -> int:
        """Add the records of ``segment``; the position of its first."""
        start = len(self.hashes)
        self.hashes += hashes
        self.offsets += offsets
        self.lengths += lengths
        self._starts.append(start)
        self._views.append(memoryview(map_file(segment, populate=False)))
        return start

    def raw(self, at: int) -> Raw:
        view = self._views[bisect.bisect_right(self._starts, at) - 1]
        offset = self.offsets[at]
        return Raw(view[offset:offset + self.lengths[at]], self.hashes[at], offset)
