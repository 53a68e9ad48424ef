"""The store: TinyDB files behind one path (store/segments.py), read into a
snapshot and published by writing what changed.

A load reads the store once into a snapshot, changes it, and publishes the
records it set or removed as one more segment and a new manifest; a
compaction (store/compaction.py) writes the segments it merges as one. A
lock file keeps two writers from writing at the same time.

Article records are most of the file and a load changes few of them, so a
snapshot keeps each article record as the bytes the file has, and parses one
only when it is asked for (``RecordTable``); an unchanged record is written
back as the same bytes.
"""
from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import gc
import hashlib
import os
import re
import socket
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field

import orjson

from .errors import StoreCorrupt, StoreError, StoreLocked
from .segments import (FORMAT, Manifest, folder_of, read_manifest, remove_strays, segment_name, segment_path,
                       used_generations, write_manifest, write_segment)
from . import keyfiles
from .filetable import FileColumns, FileTable, file_key
from .keyfiles import ArticleColumns
from .storage import AtomicOrjsonStorage, Raw, map_file, remove_temps

ENTITY_TABLES = ("articles", "topics", "providers")


class RecordTable(MutableMapping):
    """Records by key; those read from the file stay bytes until asked for.

    Reading a record parses it anew each time (nothing is kept), so walking
    every record costs the memory of one at a time.

    Each record has a number for life (``nums``): its TinyDB document id,
    given when the key is first stored and never given again, not even
    after the record is removed (``next_num`` is kept in the store's meta).
    Posting sets, the search index and every server process name an
    article by it.
    """

    def __init__(self, path: str = "") -> None:
        self.path = path
        # An int item is the record's position in ``_columns`` (read through
        # a segment's key file): made a Raw when it is asked for.
        self._items: dict[str, dict | Raw | int] = {}
        self._columns: ArticleColumns | None = None
        self.nums: dict[str, int] = {}
        self.next_num = 1
        # Keys set and removed since the records were read: what a publish writes.
        self.changed: set[str] = set()
        self.dropped: set[str] = set()
        # The hash each changed or dropped key had when read (None: it was
        # not there): what the data version's sum takes out (Snapshot.seal).
        self.before: dict[str, str | None] = {}
        # The number each removed key had when read: what the search index
        # deletes (it knows articles by number alone).
        self.gone: dict[str, int] = {}

    def __getitem__(self, key: str) -> dict:
        item = self._items[key]
        if type(item) is int:
            item = self.stored(key)
        if type(item) is not Raw:
            return item
        try:
            record = orjson.loads(item.data)
        except orjson.JSONDecodeError as exc:
            raise StoreCorrupt(self.path, f"the record of {key!r} is not JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise StoreCorrupt(self.path, f"the record of {key!r} is not an object")
        return record

    def __setitem__(self, key: str, record: dict) -> None:
        self._number(key)
        self._items[key] = record

    def set_raw(self, key: str, raw: Raw) -> None:
        self._number(key)
        self._items[key] = raw

    def _number(self, key: str) -> None:
        if key not in self.before:
            self.before[key] = self.hash_of(key) if key in self._items else None
        self.changed.add(key)
        self.dropped.discard(key)
        if key not in self.nums:
            self.nums[key] = self.next_num
            self.next_num += 1

    def take(self, items: dict[str, Raw | int], nums: dict[str, int], next_num: int,
             columns: ArticleColumns | None = None) -> None:
        """Hold ``items`` (records by key, or their positions in ``columns``)
        numbered ``nums``, as they are: no copy. ``next_num`` is the first
        number never given (the store's meta says; records removed may have
        had higher ones)."""
        self._items = items
        self._columns = columns
        self.nums = nums
        self.next_num = max(next_num, max(nums.values(), default=0) + 1)
        self.changed, self.dropped, self.before, self.gone = set(), set(), {}, {}

    def __delitem__(self, key: str) -> None:
        if key not in self.before:
            self.before[key] = self.hash_of(key)
        self.gone.setdefault(key, self.nums[key])
        del self._items[key]
        del self.nums[key]
        self.dropped.add(key)
        self.changed.discard(key)

    def __contains__(self, key) -> bool:
        return key in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        # MutableMapping's own clear pops one key at a time. The numbers given
        # stay given (next_num), and whoever holds ``nums`` keeps them.
        self._items = {}
        self.nums = {}

    def hash_of(self, key: str) -> str:
        item = self._items[key]
        if type(item) is int:
            return self._columns.hashes[item]
        return item.hash if type(item) is Raw else item["_hash"]

    def stored(self, key: str) -> dict | Raw:
        """As the writer takes it: a dict, or a Raw that storage.py writes
        back as the very bytes it was read as."""
        item = self._items[key]
        if type(item) is int:
            item = self._items[key] = self._columns.raw(item)
        return item


class Table(dict):
    """A table's records by key, noting the keys set or removed since it
    was read (what a publish writes). A record changed in place is marked
    with ``touch``."""

    def __init__(self, *args) -> None:
        super().__init__(*args)  # what is read is not a change
        self.changed: set[str] = set()
        self.dropped: set[str] = set()
        self.before: dict[str, str | None] = {}  # as RecordTable's

    def __setitem__(self, key: str, record: dict) -> None:
        self._remember(key)
        super().__setitem__(key, record)
        self.touch(key)

    def _remember(self, key: str) -> None:
        if key not in self.before:
            self.before[key] = self[key].get("_hash") if key in self else None

    def __delitem__(self, key: str) -> None:
        self._remember(key)
        super().__delitem__(key)
        self.dropped.add(key)
        self.changed.discard(key)

    def touch(self, key: str) -> None:
        self.changed.add(key)
        self.dropped.discard(key)


@dataclass
class Snapshot:
    """Everything in the store, as plain records."""

    articles: RecordTable = field(default_factory=RecordTable)  # by article id
    topics: Table = field(default_factory=Table)     # by slug (from _data/topics)
    providers: Table = field(default_factory=Table)  # by domain (from _data/organizations)
    files: FileTable = field(default_factory=FileTable)  # by "root\0path" (store/filetable.py)
    meta: dict = field(default_factory=dict)
    # The version it was read from (None: a store of format 1, or none).
    manifest: Manifest | None = None
    # Of a part of a store's segments: the keys they remove from older ones.
    removed: set = field(default_factory=set)

    def forget_changes(self) -> None:
        for table in (self.articles, self.topics, self.providers, self.files):
            table.changed, table.dropped, table.before = set(), set(), {}
        self.articles.gone = {}

    @property
    def data_version(self) -> str:
        return self.meta.get("dataVersion", "empty")

    def seal(self) -> None:
        """Stamp a content-derived data version: identical data, identical
        version, so caches and ETags survive a no-op reload.

        The version is a digest of the sites' settings and of ``dataSum``,
        the sum of a digest per record (its table, key and hash) kept in the
        meta: a load adds the digests of the records it sets and takes out
        those they replace or it removes, so sealing costs what changed,
        not a pass over every record. A snapshot whose meta has no sum (a
        new store, or one written before the sum) is summed whole."""
        total = self.meta.get("dataSum")
        if isinstance(total, str):
            total = int(total, 16)
            for table in ENTITY_TABLES:
                records = getattr(self, table)
                hash_of = records.hash_of if table == "articles" else (lambda key: records[key]["_hash"])
                for key, old in records.before.items():
                    if old is not None:
                        total -= record_digest(table, key, old)
                    if key in records:
                        total += record_digest(table, key, hash_of(key))
        else:
            total = self.data_sum()
        total %= DIGEST_MODULUS
        digest = hashlib.sha256(f"{total:032x}".encode())
        # The sites' settings shape answers (an article's site, its images'
        # absolute URLs), so they are part of the data's version.
        sites = self.meta.get("sites")
        if sites:
            digest.update(orjson.dumps(sites, option=orjson.OPT_SORT_KEYS))
        # Every other key stays: what a load records beside the data (the
        # sites, git's commits, the search index's directory of this version).
        self.meta = {
            **self.meta,
            "format": FORMAT,
            "generation": self.meta.get("generation", 0),
            "dataSum": f"{total:032x}",
            "dataVersion": digest.hexdigest()[:16],
            "loadedAt": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
            "nextArticleNum": self.articles.next_num,
        }
        for table in ENTITY_TABLES:
            getattr(self, table).before = {}
        if not sites:
            self.meta.pop("sites", None)

    def data_sum(self) -> int:
        """The sum of every record's digest (see ``seal``), made whole."""
        total = 0
        for table in ENTITY_TABLES:
            records = getattr(self, table)
            hash_of = records.hash_of if table == "articles" else (lambda key: records[key]["_hash"])
            for key in records:
                total += record_digest(table, key, hash_of(key))
        return total % DIGEST_MODULUS


DIGEST_MODULUS = 1 << 128


def record_digest(table: str, key: str, digest: str) -> int:
    """A record's part of the data version's sum: 128 bits of a hash of its
    table, key and content hash, so that a sum over different records
    differs but for a 2^-128 chance."""
    return int.from_bytes(hashlib.blake2b(f"{table}\0{key}\0{digest}".encode(), digest_size=16).digest(), "big")


@contextlib.contextmanager
def paused_gc():
    """No cyclic garbage collection while millions of long-lived objects are
    made: each collection would scan them all again (half the time of a
    large read). Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settle() -> None:
    """Move everything alive now out of the cyclic collector's sight
    (``gc.freeze``, which costs a few pointer moves). For what lives as
    long as a data version: a read model is millions of objects, and a
    memo of a whole view a list of a million articles. Each full
    collection would scan them all again and find nothing (a stall of a
    second for a model of 100k articles, of some 100 ms per whole-view
    memo at 1M). Whatever became garbage by then is freed when the next
    data version replaces this one (graph/state.py retire)."""
    gc.freeze()


def release_free_memory() -> None:
    """Give freed memory back to the system. glibc keeps freed blocks for
    reuse, but a load frees parsed files of one size and makes records of
    another, so what it freed stayed resident, unused."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the memory stays reserved, nothing else changes


def _doc(value) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"a record is {type(value).__name__}, not an object")
    return value


def record_key(table: str, doc: dict) -> str:
    """The key a record of ``table`` (not articles) is known by."""
    if table == "files":
        return file_key(doc["root"], doc["path"])
    return doc["slug"] if table == "topics" else doc["domain"]


def read_file(path: str) -> tuple[dict, dict[str, dict | Raw], dict[str, int]]:
    """One TinyDB file of a store: its tables but articles (documents by
    number), its articles by id, and their numbers."""
    raw = map_file(path)
    split = _split_lines(raw)
    del raw
    if split is not None:  # its articles are keyed by id already
        tables, nums = split
        return tables, tables.pop("articles", {}), nums
    # Not the layout storage.py writes (another TinyDB writer, an older
    # newsgraph, a damaged file): parse it whole, which also names the line
    # of any JSON error.
    tables = AtomicOrjsonStorage(path).read() or {}
    articles, nums = {}, {}
    try:
        for number, doc in (tables.pop("articles", None) or {}).items():
            articles[_doc(doc)["id"]] = doc
            nums[doc["id"]] = int(number)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreCorrupt(path, f"unexpected record shape ({type(exc).__name__}: {exc})") from None
    return tables, articles, nums


def _from_keys(path: str, made: dict, articles: ArticleColumns,
               files: FileColumns) -> tuple[dict, dict[str, int], dict[str, int], dict[str, int]]:
    """A segment's data as its key file (store/keyfiles.py) gives it: its
    small tables as documents, its articles and files as positions in the
    columns they are added to (``articles``, ``files``), and the articles'
    numbers; as ``read_file`` gives a segment read whole."""
    keys, numbers, hashes, offsets, lengths = made["articles"]
    at = articles.extend(path, hashes, offsets, lengths)
    part_articles = dict(zip(keys, range(at, at + len(keys))))
    file_keys, sizes, mtimes, sha1s, claims, notes = made["files"]
    at = files.extend(FileColumns(sizes, mtimes, sha1s, claims, notes))
    part_files = dict(zip(file_keys, range(at, at + len(file_keys))))
    part = {table: dict(enumerate(made[table])) for table in keyfiles.TABLES}
    part["meta"] = {"1": made["meta"]}
    part["removed"] = {n: {"table": table, "key": key} for n, (table, key) in enumerate(made["removed"])}
    return part, part_articles, dict(zip(keys, numbers)), part_files


def _write_keys(path: str, part: dict, articles: dict[str, dict | Raw], nums: dict[str, int]) -> None:
    """Write the key file of the segment at ``path``, read whole into
    ``part`` (``read_file``'s answer), when its articles were split by
    lines (each one's place known). A cache: a failure leaves none."""
    if any(type(record) is not Raw or record.at < 0 for record in articles.values()):
        return
    keys = sorted(articles, key=nums.__getitem__)
    data = {table: part.get(table) or {} for table in ("meta", "files", "topics", "providers", "removed")}
    data["articles"] = {str(nums[key]): articles[key] for key in keys}
    spans = {"articles": {str(nums[key]): (articles[key].at, len(articles[key].data)) for key in keys}}
    try:
        made = keyfiles.columns(data, keys)
        written = os.stat(path)
        keyfiles.write(path, made, spans, (written.st_size, written.st_mtime_ns))
    except (OSError, KeyError, TypeError, AttributeError):
        return


class Store:
    """The store at ``path``: its manifest, with its segments beside it in
    ``path + ".d"`` (store/segments.py). A store of format 1, everything in
    the one file at ``path``, is read as it is and written as segments."""

    def __init__(self, path: str | os.PathLike, keep: bool = False) -> None:
        self.path = os.fspath(path)
        self.held = None  # the lock's open file while this process holds it
        # ``keep``: the snapshot this object last published is kept, and the
        # next read takes it while the store is still that version (a
        # watching load: reading a store of 100k articles costs a second).
        self.keep = keep
        self.kept: Snapshot | None = None

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def signature(self) -> tuple[int, int, int] | None:
        """Changes whenever a load publishes: the replace gives a new inode."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def size_on_disk(self) -> int:
        """Bytes of the manifest and the segments it names."""
        manifest = self.manifest()
        names = [segment_path(self.path, s["name"]) for s in manifest.segments] if manifest else []
        return sum(os.path.getsize(path) for path in [self.path] + names if os.path.exists(path))

    def remove(self) -> None:
        """Remove the store: its manifest, segments, image and search index
        (a bench or a test starting from nothing)."""
        import shutil

        shutil.rmtree(folder_of(self.path), ignore_errors=True)
        shutil.rmtree(self.path + ".search", ignore_errors=True)
        for path in (self.path, self.path + ".image"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def manifest(self) -> Manifest | None:
        """The manifest in place now; None when there is none (no store, or
        a store of format 1)."""
        try:
            return read_manifest(self.path)
        except FileNotFoundError:
            return None

    def read(self) -> Snapshot:
        kept, self.kept = self.kept, None
        if kept is not None:
            try:
                manifest = read_manifest(self.path)
            except FileNotFoundError:
                manifest = None
            # A compaction keeps the meta and names other segments holding
            # the same data; any publish gives a new meta. After a whole
            # compaction the store is read anew: the kept records are views
            # of the files it removed, which would stay on disk.
            if manifest is not None and manifest.meta == kept.meta and manifest.segments \
                    and manifest.segments[0]["name"] == kept.manifest.segments[0]["name"]:
                kept.manifest = manifest
                return kept
        # A compaction removes the segments it replaced once its manifest is
        # in place: a reader that read the manifest before then may find one
        # gone, and reads the new manifest.
        for attempt in range(3):
            try:
                return self._read()
            except FileNotFoundError:
                if attempt == 2 or not self.exists():
                    raise
        raise AssertionError("unreachable")

    def _read(self) -> Snapshot:
        try:
            manifest = read_manifest(self.path)
        except FileNotFoundError:
            return Snapshot(articles=RecordTable(self.path))
        if manifest is None:  # format 1: one file
            return self._read_files([self.path], None)
        # The holder of the lock writes the key file a segment lacks (one
        # written before key files were), for the loads after it.
        return self._read_files([segment_path(self.path, s["name"]) for s in manifest.segments], manifest,
                                backfill=self.held is not None)

    def _read_files(self, paths: list[str], manifest: Manifest | None, backfill: bool = False) -> Snapshot:
        """The data of ``paths`` (segments, oldest first, or one whole file).
        A segment with a key file that fits it is not read: its records
        stay where they are until asked for (store/keyfiles.py)."""
        articles: dict[str, dict | Raw | int] = {}
        nums: dict[str, int] = {}
        tables: dict[str, dict] = {"topics": {}, "providers": {}}
        files: dict[str, dict | int] = {}
        article_columns, file_columns = ArticleColumns(), FileColumns()
        removed: set[tuple[str, str]] = set()  # removals older files than ``paths`` still need
        meta: dict = {}
        with paused_gc():
            for path in paths:
                made = keyfiles.read(path) if manifest is not None else None
                if made is not None:
                    part, part_articles, part_nums, part_files = _from_keys(path, made, article_columns,
                                                                            file_columns)
                else:
                    part, part_articles, part_nums = read_file(path)
                    part_files = None
                    if backfill:
                        _write_keys(path, part, part_articles, part_nums)
                try:
                    for doc in (part.get("removed") or {}).values():
                        table, key = _doc(doc)["table"], doc["key"]
                        if table == "articles":
                            articles.pop(key, None)
                            nums.pop(key, None)
                        else:
                            (files if table == "files" else tables[table]).pop(key, None)
                        removed.add((table, key))
                    articles.update(part_articles)
                    nums.update(part_nums)
                    if removed:
                        removed.difference_update(("articles", key) for key in part_articles)
                    for table in ("topics", "providers"):
                        for doc in (part.get(table) or {}).values():
                            key = record_key(table, _doc(doc))
                            tables[table][key] = doc
                            if removed:
                                removed.discard((table, key))
                    if part_files is None:
                        part_files = {record_key("files", _doc(doc)): doc
                                      for doc in (part.get("files") or {}).values()}
                    files.update(part_files)
                    if removed:
                        removed.difference_update(("files", key) for key in part_files)
                    metas = [_doc(doc) for doc in (part.get("meta") or {}).values()]
                except (KeyError, TypeError, AttributeError, ValueError) as exc:
                    raise StoreCorrupt(path, f"unexpected record shape ({type(exc).__name__}: {exc})") from None
                if metas:
                    meta = metas[0]
                if meta.get("format", FORMAT) not in (1, FORMAT):
                    raise StoreCorrupt(path, f"store format {meta.get('format')} is not {FORMAT}")
        if manifest is not None:
            meta = manifest.meta
        snapshot = Snapshot(articles=RecordTable(self.path), topics=Table(tables["topics"]),
                            providers=Table(tables["providers"]), files=FileTable(files, file_columns),
                            meta=dict(meta), manifest=manifest, removed=removed)
        snapshot.articles.take(articles, nums, meta.get("nextArticleNum", 1), article_columns)
        return snapshot

    def read_segments(self, segments: list[dict]) -> Snapshot:
        """The data of ``segments`` alone (some of the store's, oldest first),
        with the removals they make of older segments' keys (``removed``),
        and the newest one's meta: what a compaction merges."""
        return self._read_files([segment_path(self.path, s["name"]) for s in segments], None)

    def write(self, snapshot: Snapshot, before_replace=None, free_records: bool = False) -> None:
        """Publish a whole snapshot as one segment, then the manifest naming
        it alone; the segments it replaces are removed.

        The data is TinyDB's (tables of documents under string ids), handed
        to TinyDB's Storage interface directly: TinyDB's Table would copy
        every document into a dict, and unchanged records are bytes here.
        ``before_replace(spans, file, path)`` runs when the new segment is
        complete but not yet in place, with where each record is in it
        ({table: {key: (offset, length)}}, keys as the snapshot's), the
        file's (size, mtime_ns), which the replace keeps, and its temporary
        path. ``free_records`` empties the snapshot's article table once the
        file is written, before the hook: at 1M articles that is 7 GB the
        image builder can use."""
        generation = self._next_generation(snapshot)
        meta = dict(snapshot.meta, format=FORMAT, generation=generation)
        entry = self.segment_of(snapshot, segment_name(generation), meta, before_replace, free_records)
        manifest = Manifest(meta, [entry])
        write_manifest(self.path, manifest)
        snapshot.meta, snapshot.manifest = meta, manifest
        remove_strays(self.path, manifest)

    def segment_of(self, snapshot: Snapshot, name: str, meta: dict, before_replace=None,
                   free_records: bool = False) -> dict:
        """Every record of ``snapshot`` as the segment ``name`` with the
        meta record ``meta``; its manifest entry. The hook and
        ``free_records`` as ``write``'s."""
        data: dict[str, dict] = {"meta": {"1": meta}}
        keys: dict[str, list[tuple[str, int]]] = {}
        # Articles under their numbers for life, in that order (so unchanged
        # records stay where they were, one run of bytes); the other tables
        # are small and numbered anew, by key.
        nums = snapshot.articles.nums
        keys["articles"] = sorted(nums.items(), key=lambda item: item[1])
        data["articles"] = {str(n): snapshot.articles.stored(key) for key, n in keys["articles"]}
        for table in ("topics", "providers", "files"):
            records = getattr(snapshot, table)
            keys[table] = [(key, n) for n, key in enumerate(sorted(records), 1)]
            data[table] = {str(n): records[key] for key, n in keys[table]}
        count = len(nums)

        def hook(_data, spans, written, path):
            if free_records:
                data.clear()
                snapshot.articles.clear()
            if before_replace is not None:
                before_replace({table: {key: spans[table][str(n)] for key, n in names}
                                for table, names in keys.items()},
                               (written.st_size, written.st_mtime_ns), path)

        with paused_gc():
            entry = write_segment(self.path, name, data, [key for key, _ in keys["articles"]], before_replace=hook)
        entry["articles"] = count
        return entry

    def publish(self, snapshot: Snapshot) -> None:
        """Publish what changed in ``snapshot`` since it was read (records
        set or removed, by key) as one more segment, then the manifest
        naming it after the segments the snapshot was read from. A
        snapshot not read from segments (a new store, one of format 1) is
        written whole."""
        if snapshot.manifest is None:
            self.write(snapshot)
            return
        generation = self._next_generation(snapshot)
        meta = dict(snapshot.meta, format=FORMAT, generation=generation)
        data: dict[str, dict] = {"meta": {"1": meta}}
        removed: list[dict] = []
        articles = snapshot.articles
        changed = sorted(articles.changed, key=articles.nums.__getitem__)
        data["articles"] = {str(articles.nums[key]): articles.stored(key) for key in changed}
        removed += ({"table": "articles", "key": key} for key in sorted(articles.dropped))
        for table in ("topics", "providers", "files"):
            records: Table = getattr(snapshot, table)
            data[table] = {str(n): records[key] for n, key in enumerate(sorted(records.changed), 1)}
            removed += ({"table": table, "key": key} for key in sorted(records.dropped))
        data["removed"] = {str(n): doc for n, doc in enumerate(removed, 1)}
        entry = write_segment(self.path, segment_name(generation), data, changed)
        manifest = Manifest(meta, snapshot.manifest.segments + [entry])
        write_manifest(self.path, manifest)
        snapshot.meta, snapshot.manifest = meta, manifest
        snapshot.forget_changes()
        if self.keep:
            self.kept = snapshot

    def _next_generation(self, snapshot: Snapshot) -> int:
        """A number no segment of this store has had: the one after the
        snapshot's, and after every segment file there is (a snapshot
        made elsewhere, or a whole write over a damaged manifest)."""
        return max([snapshot.meta.get("generation", 0)] + used_generations(self.path)) + 1

    @contextlib.contextmanager
    def lock(self, timeout: float = 60.0, on_wait=None):
        """Hold the write lock; wait up to ``timeout`` seconds for another load.

        ``on_wait(holder)`` is called once when the lock is busy, so the CLI
        can say who holds it.
        """
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        lock_path = self.path + ".lock"
        handle = open(lock_path, "a+")
        try:
            deadline = time.monotonic() + timeout
            told = False
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    holder = _holder(lock_path)
                    if time.monotonic() >= deadline:
                        raise StoreLocked(self.path, holder) from None
                    if on_wait and not told:
                        on_wait(holder)
                        told = True
                    time.sleep(0.1)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()} since "
                         f"{dt.datetime.now().isoformat(timespec='seconds')}\n")
            handle.flush()
            self._remove_stale_temps()
            self.held = handle
            yield
        finally:
            self.held = None
            handle.close()  # closing releases the flock, also when the process dies

    @contextlib.contextmanager
    def compaction_lock(self):
        """Yields whether this process is the store's one compaction now
        (False: another one runs). Writers take the store's lock besides,
        only to put a merge's manifest in place."""
        handle = open(self.path + ".compact.lock", "a+")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                yield False
                return
            yield True
        finally:
            handle.close()

    def compacting(self) -> bool:
        """Whether a compaction runs now (it holds the compaction lock)."""
        if not os.path.exists(self.path + ".compact.lock"):
            return False
        with self.compaction_lock() as ours:
            return not ours


    def _remove_stale_temps(self) -> None:
        """Only the lock holder writes, so a temporary file found now was
        left by a load that was killed mid-write (of the store, a segment or
        the image), and a segment the manifest does not name by one killed
        before its manifest was in place."""
        for path in (self.path, self.path + ".image"):
            remove_temps(path)
        try:
            manifest = read_manifest(self.path)
        except (FileNotFoundError, StoreCorrupt):
            return  # nothing to keep segments for, or a damaged manifest: touch nothing
        # A compaction writes its segment beside the others without this
        # lock: what it writes is not a stray while it runs.
        remove_strays(self.path, manifest, keep_merges=self.compacting())


def read_written(path: str, spans: dict[str, dict[str, tuple[int, int]]], meta: dict,
                 nums: dict[str, int]) -> Snapshot:
    """The entities of a store file just written, taken by where the writer
    put each record (``spans``, as ``Store.write`` gives them to its hook)
    and numbered ``nums``: no pass over the whole file to split it, and no
    files table, which a read model never uses (together 1.2 s of an image
    build at 100k articles). For reading only: it is never sealed or
    written, so its article records carry no hash."""
    snapshot = Snapshot(articles=RecordTable(path), meta=dict(meta))
    view = memoryview(map_file(path))
    snapshot.articles.take({key: Raw(view[offset:offset + length], "")
                            for key, (offset, length) in spans["articles"].items()}, nums, 1)
    for table in ("topics", "providers"):
        setattr(snapshot, table, {key: orjson.loads(view[offset:offset + length])
                                  for key, (offset, length) in spans[table].items()})
    return snapshot


_TABLE = re.compile(rb'^\{?"([a-z_]+)":\{$')
_QUOTE, _BACKSLASH, _COMMA = ord('"'), ord("\\"), ord(",")
_ID_KEY = b'{"id":"'
_HASH_KEY = b'"_hash":"'


def _split_lines(raw: bytes) -> tuple[dict, dict[str, int]] | None:
    """The tables of a file in storage.py's layout, one document per line,
    and the articles' numbers by id; article documents stay unparsed
    (``Raw``, a view into ``raw``: no copy of the file is made) and are
    keyed by their ids, others are parsed and keyed by document number.
    None when the file is laid out any other way.

    It walks lines with the bytes' own find, and takes an article's id and
    hash by position: a regular expression per line (or one over the whole
    file) was most of a store's read, 1.3 s at 100k articles."""
    head = b'{"meta":{\n'
    if raw[:len(head)] != head or raw[-3:] != b"}}\n":
        return None
    view = memoryview(raw)
    find = raw.find
    tables: dict[str, dict] = {}
    nums: dict[str, int] = {}
    current: dict | None = None  # the table being read
    articles = False  # whether it is the articles table
    start = 0
    end = len(raw)
    try:
        while start < end:
            stop = find(b"\n", start)
            if stop < 0:
                return None
            if current is not None and raw[start] == _QUOTE:  # "<number>":<document>
                colon = find(b'":', start, stop)
                if colon < 0:
                    return None
                number = raw[start + 1:colon]
                if not number.isdigit():
                    return None
                first = colon + 2
                last = stop - 1 if raw[stop - 1] == _COMMA else stop
                if articles:
                    ident, digest = _article_keys(raw, first, last)
                    current[ident] = Raw(view[first:last], digest, first)
                    nums[ident] = int(number)
                else:
                    current[number.decode()] = orjson.loads(view[first:last])
            elif header := _TABLE.match(raw[start:stop]):
                table = header.group(1).decode()
                current = tables[table] = {}
                articles = table == "articles"
            elif raw[start:stop] in (b"},", b"}}"):
                current = None
            else:
                return None
            start = stop + 1
    except (orjson.JSONDecodeError, ValueError):
        return None
    return tables, nums


def _article_keys(raw: bytes, first: int, last: int) -> tuple[str, str]:
    """The id and hash of the article record at ``raw[first:last]``, which
    storage.py writes with the id first and the hash last; ValueError when
    it is not so."""
    begin = first + len(_ID_KEY)
    if raw[first:begin] != _ID_KEY:
        raise ValueError("an article record does not start with its id")
    quote = raw.find(b'"', begin, last)
    # A quote after a backslash is escaped, unless that backslash ends an
    # even run of them (escaped backslashes).
    while quote > 0 and raw[quote - 1] == _BACKSLASH:
        before = quote - 1
        while raw[before - 1] == _BACKSLASH:
            before -= 1
        if (quote - before) % 2 == 0:
            break
        quote = raw.find(b'"', quote + 1, last)
    if quote < 0:
        raise ValueError("an article id does not end")
    ident = raw[begin:quote]
    ident = orjson.loads(b'"' + ident + b'"') if _BACKSLASH in ident else ident.decode()
    at = raw.rfind(_HASH_KEY, max(first, last - 64), last)
    digest = raw[at + len(_HASH_KEY):last - 2]
    if at < 0 or raw[last - 2:last] != b'"}' or not digest.isalnum():
        raise ValueError("an article record does not end with its hash")
    return ident, digest.decode()


def _holder(lock_path: str) -> str:
    try:
        with open(lock_path) as handle:
            return handle.read().strip() or "unknown holder"
    except OSError:
        return "unknown holder"
