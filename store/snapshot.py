"""A snapshot: the store's records as a load holds them, noting what it
changes (what a publish writes), and the data version's sum.

Article records are most of a store and a load changes few of them, so a
snapshot keeps each article record as the bytes its segment has, and parses
one only when it is asked for (``RecordTable``); an unchanged record is
written back as the same bytes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

import orjson

from .errors import StoreCorrupt
from .filetable import FileTable
from .keyfiles import ArticleColumns
from .segments import FORMAT, Manifest
from .storage import Raw


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

    def spill(self, spill) -> None:
        """Records set from now on with ``set_spilled`` are in ``spill``
        (store/spill.py): a load holds their places, not their bytes."""
        if self._columns is None:
            self._columns = ArticleColumns()
        self._columns.spilling(spill)

    def set_spilled(self, key: str, digest: str, offset: int, length: int) -> None:
        self._number(key)
        self._items[key] = self._columns.append(digest, offset, length)

    def settle(self) -> None:
        """Hold the spilled records as bytes: their spill is about to go,
        and this table is kept (a watching load's next snapshot)."""
        columns = self._columns
        first = columns.spilled_from() if columns is not None else None
        if first is None:
            return
        for key, item in self._items.items():
            if type(item) is int and item >= first:
                self._items[key] = columns.raw(item)

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
            return self._columns.hash(item)
        return item.hash if type(item) is Raw else item["_hash"]

    def stored(self, key: str) -> dict | Raw:
        """As the writer takes it: a dict, or a Raw that storage.py writes
        back as the very bytes it was read as."""
        item = self._items[key]
        if type(item) is int:
            raw = self._columns.raw(item)
            # A view of a mapped segment is kept (it costs no copy); a record
            # read back from a spill is bytes of its own, and a walk over
            # every record must hold one at a time.
            if raw.at >= 0:
                self._items[key] = raw
            return raw
        return item


class SegmentArticles(Mapping):
    """The records ``keys`` of ``table`` as a segment's ``articles`` table
    (documents under their numbers, in the order of ``keys``), each read
    when the writer comes to it: a load's spilled records are never all in
    memory at once (storage.py writes ``items()`` one by one, and the key
    file takes ``hashes()``)."""

    def __init__(self, table: RecordTable, keys: list[str]) -> None:
        self.table = table
        self.keys = keys

    def __iter__(self):
        nums = self.table.nums
        return (str(nums[key]) for key in self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, number: str):
        raise KeyError(number)  # the writer walks items(); nothing looks one up

    def items(self):
        nums, stored = self.table.nums, self.table.stored
        return ((str(nums[key]), stored(key)) for key in self.keys)

    def values(self):
        stored = self.table.stored
        return (stored(key) for key in self.keys)

    def hashes(self) -> list[str]:
        return [self.table.hash_of(key) for key in self.keys]


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
