"""The store: TinyDB files behind one path (store/segments.py), read into a
snapshot (store/snapshot.py) and published by writing what changed.

A load reads the store once into a snapshot, changes it, and publishes the
records it set or removed as one more segment and a new manifest; a
compaction (store/compaction.py) writes the segments it merges as one. A
lock file keeps two writers from writing at the same time.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import socket
import time

from . import spill
from .errors import StoreCorrupt, StoreLocked
from .filetable import FileTable
from .memory import paused_gc, release_free_memory
from .reading import read_files
from .segments import (FORMAT, Manifest, folder_of, read_manifest, remove_strays, segment_name, segment_path,
                       used_generations, write_manifest, write_segment)
from .snapshot import RecordTable, SegmentArticles, Snapshot
from .storage import remove_temps


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
            return read_files(self.path, [self.path], None)
        # The holder of the lock writes the key file a segment lacks (one
        # written before key files were), for the loads after it.
        return read_files(self.path, [segment_path(self.path, s["name"]) for s in manifest.segments], manifest,
                                backfill=self.held is not None)

    def read_segments(self, segments: list[dict]) -> Snapshot:
        """The data of ``segments`` alone (some of the store's, oldest first),
        with the removals they make of older segments' keys (``removed``),
        and the newest one's meta: what a compaction merges."""
        return read_files(self.path, [segment_path(self.path, s["name"]) for s in segments], None)

    def write(self, snapshot: Snapshot, before_replace=None, free_records: bool = False) -> None:
        """Publish a whole snapshot as one segment, then the manifest naming
        it alone; the segments it replaces are removed.

        The data is TinyDB's (tables of documents under string ids), handed
        to TinyDB's Storage interface directly: TinyDB's Table would copy
        every document into a dict, and unchanged records are bytes here.
        ``before_replace(spans, file, path)`` runs when the new segment is
        complete but not yet in place, with where each entity is in it
        ({table: {key: (offset, length)}} for articles, topics and
        providers, keys as the snapshot's; files are no entity), the
        file's (size, mtime_ns), which the replace keeps, and its temporary
        path. ``free_records`` empties the snapshot's article and files
        tables once the file is written, before the hook: what the load
        held is then not held beside the image builder (a forked process,
        whose resident set counts the pages it shares with the load)."""
        generation = self._next_generation(snapshot)
        meta = _meta(snapshot, generation)
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
        data["articles"] = SegmentArticles(snapshot.articles, [key for key, _ in keys["articles"]])
        for table in ("topics", "providers", "files"):
            records = getattr(snapshot, table)
            keys[table] = [(key, n) for n, key in enumerate(sorted(records), 1)]
            data[table] = {str(n): records[key] for key, n in keys[table]}
        records = None  # a cell of the comprehension: it would keep the files table past free_records
        count = len(nums)

        def hook(_data, spans, written, path):
            where = {table: {key: spans[table][str(n)] for key, n in keys[table]}
                     for table in ("articles", "topics", "providers")} if before_replace is not None else None
            if free_records:
                spans.clear()
                keys.clear()
                data.clear()
                snapshot.articles.clear()
                snapshot.files = FileTable()
                release_free_memory()
            if before_replace is not None:
                before_replace(where, (written.st_size, written.st_mtime_ns), path)

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
        meta = _meta(snapshot, generation)
        data: dict[str, dict] = {"meta": {"1": meta}}
        removed: list[dict] = []
        articles = snapshot.articles
        changed = sorted(articles.changed, key=articles.nums.__getitem__)
        data["articles"] = SegmentArticles(articles, changed)
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
            snapshot.articles.settle()  # the load's spill goes when it ends
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
        spill.remove_strays(self.path)
        try:
            manifest = read_manifest(self.path)
        except (FileNotFoundError, StoreCorrupt):
            return  # nothing to keep segments for, or a damaged manifest: touch nothing
        # A compaction writes its segment beside the others without this
        # lock: what it writes is not a stray while it runs.
        remove_strays(self.path, manifest, keep_merges=self.compacting())


def _meta(snapshot: Snapshot, generation: int) -> dict:
    """The meta a publish of ``snapshot`` writes: with how many ids of each
    kind its files claim, which the next load then need not count
    (store/filetable.py)."""
    return dict(snapshot.meta, format=FORMAT, generation=generation,
                claimedIds=snapshot.files.claimed_counts())


def _holder(lock_path: str) -> str:
    try:
        with open(lock_path) as handle:
            return handle.read().strip() or "unknown holder"
    except OSError:
        return "unknown holder"
