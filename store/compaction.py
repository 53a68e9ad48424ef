"""Compaction: merge a store's newest segments into one, so that the number
of files and the bytes a record is rewritten stay bounded.

A publish adds one small segment. When the segments newer than some
segment add up to at least its size, that segment and all newer ones are
merged into one (``plan``): sizes then fall at least by half from each
segment to the next older one, so a store of B bytes has about log2(B / the
smallest segment) segments, and a record is rewritten about that many
times over its life, as in a binary counter. MAX_SEGMENTS caps the count
whatever the sizes. Merging everything (the oldest segment included) is a
whole write: removed records leave for good, and the read-model image is
made anew (store/image.py).

A load compacts what is due once its publish is in place (see
``after_publish``): a small store at once, a larger one in the background,
in a process of its own. The merge takes no lock that loads wait for (see
``compact``): loads go on publishing, and readers go on reading the
version it merges, which it does not change. Its commit point
is the manifest, as a publish's: a kill leaves the segments before or after
the merge, never a mix.

    python -m store.compaction STORE           # compact now, if due (tests, operators)
    python -m store.compaction STORE --whole   # one segment, and a new image
"""
from __future__ import annotations

import contextlib
import os
import sys

from .db import Store
from .snapshot import Snapshot
from .segments import Manifest, merged_name, remove_strays, write_manifest, write_segment

MAX_SEGMENTS = 10
# A store this small is kept as one segment, merged by the load itself:
# rewriting it costs less than a server's reading of two segments, and a
# TinyDB user then finds it in one file.
SMALL_STORE_BYTES = 16 << 20
# Below this many articles a server builds its model from the store about as
# fast as it reads an image (0.1 s at 1k), and building the image would only
# make the write slower: none is written.
IMAGE_MIN_ARTICLES = 5000


def plan(segments: list[dict]) -> int | None:
    """The oldest of the segments (oldest first) to merge with every newer
    one, or None when nothing is due."""
    if len(segments) > 1 and sum(s["bytes"] for s in segments) <= SMALL_STORE_BYTES:
        return 0
    first = None
    newer = 0
    for at in range(len(segments) - 1, -1, -1):
        size = segments[at]["bytes"]
        if at < len(segments) - 1 and size <= newer:
            first = at
        newer += size
    if first is None and len(segments) > MAX_SEGMENTS:
        first = len(segments) - MAX_SEGMENTS // 2
    return first


def replay(count: int, size: int, base: int) -> tuple[int, float, int]:
    """What ``plan`` costs over a stream of publishes, run on sizes alone:
    (most segments at once, bytes written per byte published, whole
    rewrites) over ``count`` publishes of ``size`` bytes onto ``base``. The
    policy's bounds are tested and measured (scripts/store_designs.py) with it."""
    segments = [{"bytes": base}]
    written = most = wholes = 0
    for _ in range(count):
        segments.append({"bytes": size})
        written += size
        first = plan(segments)
        if first is not None:
            merged = sum(s["bytes"] for s in segments[first:])
            written += merged
            wholes += first == 0
            segments = segments[:first] + [{"bytes": merged}]
        most = max(most, len(segments))
    return most, written / (count * size), wholes


def write_whole(store: Store, snapshot: Snapshot) -> None:
    """``snapshot`` as the store's only segment, with the read-model image
    of a store large enough to want one. Empties the snapshot's articles."""
    from . import image  # the read model's modules: a load that only publishes never needs them
    if len(snapshot.articles) >= IMAGE_MIN_ARTICLES:
        store.write(snapshot, before_replace=image.ImageWriter(store, snapshot.meta, snapshot.articles.nums),
                    free_records=True)
    else:
        store.write(snapshot)
        image.remove(image.path_for(store))  # it could only be stale now


def compact(store: Store, locked: bool = False) -> bool:
    """Merge what is due (see ``plan``); returns whether anything was merged.

    The merge reads segments, which never change, and writes its own (named
    by the generations it spans) without the store's lock: loads go on
    publishing meanwhile. Only putting the manifest in place takes the lock
    (``locked``: the caller holds it), with the merged segments replaced
    where they are and every segment published since kept after them. One
    compaction runs at a time (Store.compaction_lock)."""
    with store.compaction_lock() as ours:
        if not ours:
            return False
        manifest = store.manifest()
        first = plan(manifest.segments) if manifest is not None else None
        if first is None:
            return False
        merged = manifest.segments[first:]
        entry = _merge(store, merged, whole=first == 0)
        with contextlib.nullcontext() if locked else store.lock(timeout=LOCK_TIMEOUT):
            now = store.manifest()
            names = [s["name"] for s in now.segments]
            # Publishes only add segments after these, and no other compaction ran.
            assert names[first:first + len(merged)] == [s["name"] for s in merged], names
            done = Manifest(now.meta, now.segments[:first] + [entry] + now.segments[first + len(merged):])
            write_manifest(store.path, done)
            remove_strays(store.path, done, keep_merges=False)
    return True


# How long a merge waits for a load to finish before putting its manifest in place.
LOCK_TIMEOUT = 600.0


def _merge(store: Store, segments: list[dict], whole: bool) -> dict:
    """``segments`` (the newest of the store, oldest first) written as one;
    its manifest entry. ``whole``: they are all the store's segments, so
    removals have nothing left to remove, and the image is made from it."""
    from . import image  # as in write_whole; here in a compaction's own process

    name = merged_name(segments)
    snapshot = store.read_segments(segments)
    meta = dict(snapshot.meta)
    if whole:
        writer = (image.ImageWriter(store, snapshot.meta, snapshot.articles.nums)
                  if len(snapshot.articles) >= IMAGE_MIN_ARTICLES else None)
        entry = store.segment_of(snapshot, name, meta, before_replace=writer, free_records=writer is not None)
        if writer is None:
            image.remove(image.path_for(store))  # it could only be stale now
        return entry
    data = {"meta": {"1": meta}}
    articles = snapshot.articles
    keys = sorted(articles, key=articles.nums.__getitem__)
    data["articles"] = {str(articles.nums[key]): articles.stored(key) for key in keys}
    for table in ("topics", "providers", "files"):
        records = getattr(snapshot, table)
        data[table] = {str(n): records[key] for n, key in enumerate(sorted(records), 1)}
    data["removed"] = {str(n): {"table": table, "key": key}
                       for n, (table, key) in enumerate(sorted(snapshot.removed), 1)}
    return write_segment(store.path, name, data, keys)


def after_publish(store: Store) -> None:
    """Compact, if due: a small store at once (SMALL_STORE_BYTES), a larger
    one in a process of its own that goes on after this one exits. Call it
    holding the store's lock; the process lets go of it (an flock belongs
    to the open file, which it inherits), so loads go on while it merges."""
    manifest = store.manifest()
    if manifest is None or plan(manifest.segments) is None:
        return
    if sum(s["bytes"] for s in manifest.segments) <= SMALL_STORE_BYTES or not hasattr(os, "fork"):
        compact(store, locked=True)
        return
    child = os.fork()
    if child:
        os.waitpid(child, 0)  # the child only forks the compactor and exits
        return
    try:
        if os.fork() == 0:  # the compactor: an orphan, reaped by the system
            if store.held is not None:
                store.held.close()  # this process's share of the load's lock
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # whoever reads this process's output stops waiting now
                os.dup2(devnull, fd)
            compact(store)
    except BaseException:
        os._exit(1)
    os._exit(0)


def main(argv: list[str]) -> int:
    whole = "--whole" in argv
    paths = [arg for arg in argv if arg != "--whole"]
    if len(paths) != 1:
        print("usage: python -m store.compaction STORE [--whole]", file=sys.stderr)
        return 2
    store = Store(paths[0])
    if whole:  # one segment, and the image a server starts from
        with store.lock():
            write_whole(store, store.read())
        merged = True
    else:
        merged = compact(store)
    print("compacted" if merged else "nothing to compact")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
