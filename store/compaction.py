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
in a process of its own that keeps the store's lock, so the next load waits
for it, and readers go on reading the version it merges, which it does not
change. Its commit point
is the manifest, as a publish's: a kill leaves the segments before or after
the merge, never a mix.

    python -m store.compaction STORE           # compact now, if due (tests, operators)
    python -m store.compaction STORE --whole   # one segment, and a new image
"""
from __future__ import annotations

import os
import sys

from . import image
from .db import Snapshot, Store, read_file, record_key
from .image import ImageWriter
from .segments import (Manifest, remove_strays, segment_name, segment_path, used_generations, write_manifest,
                       write_segment)

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


def write_whole(store: Store, snapshot: Snapshot) -> None:
    """``snapshot`` as the store's only segment, with the read-model image
    of a store large enough to want one. Empties the snapshot's articles."""
    if len(snapshot.articles) >= IMAGE_MIN_ARTICLES:
        store.write(snapshot, before_replace=ImageWriter(store, snapshot.meta, snapshot.articles.nums),
                    free_records=True)
    else:
        store.write(snapshot)
        image.remove(image.path_for(store))  # it could only be stale now


def compact(store: Store) -> bool:
    """Merge what is due (see ``plan``); for the holder of the store's lock.
    Returns whether anything was merged."""
    manifest = store.manifest()
    first = plan(manifest.segments) if manifest is not None else None
    if first is None:
        return False
    if first == 0:
        snapshot = store.read()
        write_whole(store, snapshot)
    else:
        _merge_newest(store, manifest, first)
    return True


def _merge_newest(store: Store, manifest: Manifest, first: int) -> None:
    """Segments ``first`` and newer as one segment: the newest record of
    each key, and the removals of keys that older segments may hold."""
    records: dict[str, dict] = {"articles": {}, "topics": {}, "providers": {}, "files": {}}
    nums: dict[str, int] = {}
    removed: dict[tuple[str, str], dict] = {}
    meta: dict = {}
    for segment in manifest.segments[first:]:
        tables, articles, numbers = read_file(segment_path(store.path, segment["name"]))
        for doc in (tables.get("removed") or {}).values():
            records[doc["table"]].pop(doc["key"], None)
            if doc["table"] == "articles":
                nums.pop(doc["key"], None)
            removed[(doc["table"], doc["key"])] = doc
        for key, stored in articles.items():
            records["articles"][key] = stored
            removed.pop(("articles", key), None)
        nums.update(numbers)
        for table in ("topics", "providers", "files"):
            for doc in (tables.get(table) or {}).values():
                key = record_key(table, doc)
                records[table][key] = doc
                removed.pop((table, key), None)
        meta = next(iter((tables.get("meta") or {}).values()), meta)
    generation = max([manifest.generation] + used_generations(store.path)) + 1
    meta = dict(meta, generation=generation)
    articles = records.pop("articles")
    data = {"meta": {"1": meta},
            "articles": {str(nums[key]): articles[key] for key in sorted(articles, key=nums.__getitem__)}}
    for table, by_key in records.items():
        data[table] = {str(n): by_key[key] for n, key in enumerate(sorted(by_key), 1)}
    data["removed"] = {str(n): doc for n, doc in enumerate(removed.values(), 1)}
    entry = write_segment(store.path, segment_name(generation), data)
    merged = Manifest(dict(manifest.meta, generation=generation), manifest.segments[:first] + [entry])
    write_manifest(store.path, merged)
    remove_strays(store.path, merged)


def after_publish(store: Store) -> None:
    """Compact, if due: a small store at once (SMALL_STORE_BYTES), a larger
    one in a process of its own that goes on after this one exits. Call it
    holding the store's lock: the process shares the lock (an flock belongs
    to the open file, which it inherits) and keeps it until it is done, so
    no other writer starts meanwhile."""
    manifest = store.manifest()
    if manifest is None or plan(manifest.segments) is None:
        return
    if sum(s["bytes"] for s in manifest.segments) <= SMALL_STORE_BYTES or not hasattr(os, "fork"):
        compact(store)
        return
    child = os.fork()
    if child:
        os.waitpid(child, 0)  # the child only forks the compactor and exits
        return
    try:
        if os.fork() == 0:  # the compactor: an orphan, reaped by the system
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
    with store.lock():
        if whole:  # one segment, and the image a server starts from
            write_whole(store, store.read())
            merged = True
        else:
            merged = compact(store)
    print("compacted" if merged else "nothing to compact")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
