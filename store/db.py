"""The store file: one TinyDB database, read whole and written whole.

Loads are rare and reads are many, so the store is read once into a snapshot
(the read model is built from it) and written once per load with an atomic
replace. A lock file keeps two loads from writing at the same time.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import gc
import hashlib
import os
import socket
import time
from dataclasses import dataclass, field

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware

from .errors import StoreCorrupt, StoreError, StoreLocked
from .storage import AtomicOrjsonStorage, temp_prefix

ENTITY_TABLES = ("articles", "topics", "providers")
FORMAT = 1


@dataclass
class Snapshot:
    """Everything in the store, as plain records."""

    articles: dict[str, dict] = field(default_factory=dict)   # by article id
    topics: dict[str, dict] = field(default_factory=dict)     # by slug (from _data/topics)
    providers: dict[str, dict] = field(default_factory=dict)  # by domain (from _data/organizations)
    files: dict[str, dict] = field(default_factory=dict)      # by "root\0path"
    meta: dict = field(default_factory=dict)

    @property
    def data_version(self) -> str:
        return self.meta.get("dataVersion", "empty")

    def seal(self) -> None:
        """Stamp a content-derived data version: identical data, identical
        version, so caches and ETags survive a no-op reload."""
        digest = hashlib.sha256()
        for table in ENTITY_TABLES:
            records = getattr(self, table)
            for key in sorted(records):
                digest.update(f"{table}\0{key}\0{records[key]['_hash']}\n".encode())
        self.meta = {
            "format": FORMAT,
            "dataVersion": digest.hexdigest()[:16],
            "loadedAt": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        }


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


def _doc(value) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"a record is {type(value).__name__}, not an object")
    return value


def file_key(root: str, path: str) -> str:
    return f"{root}\0{path}"


class Store:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def signature(self) -> tuple[int, int, int] | None:
        """Changes whenever a load publishes: the replace gives a new inode."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def read(self) -> Snapshot:
        if not self.exists():
            return Snapshot()
        # TinyDB's own Storage, read directly: its tables are {doc id: document},
        # and TinyDB's Table would copy every document twice on the way out.
        with paused_gc():
            tables = AtomicOrjsonStorage(self.path).read() or {}
            snapshot = Snapshot()
            try:
                for table, key in (("articles", "id"), ("topics", "slug"), ("providers", "domain")):
                    setattr(snapshot, table, {_doc(doc)[key]: doc
                                              for doc in (tables.get(table) or {}).values()})
                snapshot.files = {file_key(_doc(doc)["root"], doc["path"]): doc
                                  for doc in (tables.get("files") or {}).values()}
                metas = [_doc(doc) for doc in (tables.get("meta") or {}).values()]
            except StoreError:
                raise
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise StoreCorrupt(self.path, f"unexpected record shape ({type(exc).__name__}: {exc})") from None
        snapshot.meta = dict(metas[0]) if metas else {}
        if snapshot.meta.get("format", FORMAT) != FORMAT:
            raise StoreCorrupt(self.path, f"store format {snapshot.meta.get('format')} is not {FORMAT}")
        return snapshot

    def write(self, snapshot: Snapshot, before_replace=None) -> None:
        """Publish a whole snapshot with one atomic replace.

        ``before_replace(data, spans)`` runs when the new file is complete
        but not yet in place: what TinyDB wrote, and where each document is
        in the file (see storage.py)."""
        storage = CachingMiddleware(AtomicOrjsonStorage)
        db = TinyDB(self.path, storage=storage, before_replace=before_replace)
        with paused_gc():
            try:
                # The previous contents are replaced wholesale, so never read them.
                storage.cache = {}
                for table in ("articles", "topics", "providers", "files"):
                    records = getattr(snapshot, table)
                    db.table(table).insert_multiple(records[k] for k in sorted(records))
                db.table("meta").insert(snapshot.meta)
            finally:
                db.close()  # flushes: the one write, atomic

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
            yield
        finally:
            handle.close()  # closing releases the flock, also when the process dies


    def _remove_stale_temps(self) -> None:
        """Only the lock holder writes, so a temporary file found now was
        left by a load that was killed mid-write."""
        folder = os.path.dirname(os.path.abspath(self.path))
        prefix = temp_prefix(self.path)
        for name in os.listdir(folder):
            if name.startswith(prefix):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))


def _holder(lock_path: str) -> str:
    try:
        with open(lock_path) as handle:
            return handle.read().strip() or "unknown holder"
    except OSError:
        return "unknown holder"
