"""The search index beside the store: one directory per data version.

    news.json.search/<version>-<token>/public/       the published articles' index
                                      /hidden/       the others' (when there are any)
                                      /version.json  what the directory holds

A load makes the next version's directory from the one the store names:
its files hard-linked (tantivy writes each file once, and its commit point,
meta.json, is copied, so no file two directories share ever changes),
then patched with only the articles the load added, changed or removed,
committed, and renamed from a temporary name into place. Only then is the
store published, its meta naming the directory (``searchIndex``). A reader
opens the directory its store names, so it never pairs a store with the
index of another version, and a load killed at any moment leaves the old
store with its directory untouched, or the new store with its complete one.

The next load removes the directories no longer named, except the one the
store named before, which a server may be about to open: a server that
opened one keeps reading it (its files stay mapped after they are
unlinked), and one that finds its directory gone reads the store again
(graph/state.py).
"""
from __future__ import annotations

import logging
import os
import secrets
import shutil
import time

import orjson

from . import searchdocs, searchindex
from .db import Store
from .snapshot import Snapshot

log = logging.getLogger("newsgraph")

META_KEY = "searchIndex"
TEMP = ".tmp-"
# tantivy's lock files are the writer's and the reader's of one directory.
_NOT_SHARED = (".tantivy-writer.lock", ".tantivy-meta.lock", "version.json")
# Replaced by tantivy with a new file renamed over it: copied, so that a
# directory's commit point is its own from the start.
_COPIED = ("meta.json", ".managed.json")


class Gone(Exception):
    """The directory a store named is gone: a newer load replaced it."""


def folder(store: Store) -> str:
    return store.path + ".search"


def _info(path: str) -> dict | None:
    try:
        with open(os.path.join(path, "version.json"), "rb") as handle:
            info = orjson.loads(handle.read())
    except (OSError, orjson.JSONDecodeError):
        return None
    return info if isinstance(info, dict) and info.get("format") == searchindex.FORMAT else None


def publish(store: Store, before: dict, snapshot: Snapshot) -> None:
    """Write the search index of ``snapshot`` (sealed, not yet published)
    and name its directory in the snapshot's meta: made from the directory
    ``before`` (the store's meta until now) names, patched with what the
    snapshot changed, or made whole when there is none that fits. A failure
    (a full disk) names none: servers then index the store themselves."""
    snapshot.meta.pop(META_KEY, None)
    root = folder(store)
    name = f"{snapshot.data_version}-{secrets.token_hex(4)}"
    temp = os.path.join(root, TEMP + name)
    previous = before.get(META_KEY)
    source = os.path.join(root, previous) if previous else None
    sites = {root_: entry.get("name") for root_, entry in (snapshot.meta.get("sites") or {}).items()}
    began = time.perf_counter()
    try:
        os.makedirs(root, exist_ok=True)
        info = _info(source) if source else None
        whole = info is None or info.get("dataVersion") != before.get("dataVersion") or info.get("sites") != sites
        if whole:
            searchindex.write_whole(temp, searchdocs.record_documents(snapshot, snapshot.articles))
        else:
            touched = _touched(snapshot, source)
            # Each article's document goes by the number it had (a removed
            # one's) and the one it has.
            numbers = [snapshot.articles.gone.get(k) for k in touched] + \
                [snapshot.articles.nums.get(k) for k in touched]
            _link(source, temp)
            searchindex.patch(temp, [n for n in numbers if n is not None], searchdocs.record_documents(
                snapshot, sorted(k for k in touched if k in snapshot.articles)))
        with open(os.path.join(temp, "version.json"), "wb") as out:
            out.write(orjson.dumps({"format": searchindex.FORMAT, "dataVersion": snapshot.data_version,
                                    "sites": sites}))
        _sync_tree(temp)
        os.rename(temp, os.path.join(root, name))
        _sync(root)
    except Exception as exc:
        log.warning("no search index written (%s: %s); servers will index the store themselves",
                    type(exc).__name__, exc)
        shutil.rmtree(temp, ignore_errors=True)
        return
    snapshot.meta[META_KEY] = name
    log.debug("search index %s %s in %.3f s", name, "made" if whole else "patched",
              time.perf_counter() - began)


def _touched(snapshot: Snapshot, source: str) -> set[str]:
    """The articles whose documents change: those the load added, changed
    or removed, and those of a provider whose organisation file changed
    (its name is in their documents)."""
    touched = snapshot.articles.changed | snapshot.articles.dropped
    domains = sorted(snapshot.providers.changed | snapshot.providers.dropped)
    if domains:
        numbers = searchindex.numbers_with(source, "domain", domains)
        touched |= {key for key, num in snapshot.articles.nums.items() if num in numbers}
    return touched


def _link(source: str, target: str) -> None:
    for dirpath, _, files in os.walk(source):
        into = os.path.join(target, os.path.relpath(dirpath, source))
        os.makedirs(into, exist_ok=True)
        for name in files:
            if name in _NOT_SHARED:
                continue
            copy = shutil.copyfile if name in _COPIED else os.link
            copy(os.path.join(dirpath, name), os.path.join(into, name))


def _sync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(path: str) -> None:
    """What ``path`` holds, on disk before it is renamed into place: the
    rename must not reach the disk before what it names. tantivy syncs
    every file it writes (and the folder, when it commits); the files
    shared with the previous directory are on disk already; so only the
    files copied or written here, and the folders' entries."""
    for dirpath, _, files in os.walk(path):
        for name in files:
            if name in _COPIED or name == "version.json":
                _sync(os.path.join(dirpath, name))
        _sync(dirpath)


def retire(store: Store, keep: set[str | None]) -> None:
    """Remove the directories not in ``keep``, and what killed loads left.
    For the holder of the store's lock, the one writer."""
    root = folder(store)
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return
    for name in names:
        if name not in keep:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def open_for(store: Store, model) -> searchindex.SearchIndex | None:
    """The index of ``model``'s data version, from the directory its store
    named; None when the store named none, or one that does not fit (then
    the model is indexed in memory). Raises Gone when the directory is
    gone: the store has moved on, read it again."""
    name = getattr(model, "search_index", None)
    if not name:
        return None
    path = os.path.join(folder(store), name)
    if not os.path.isdir(path):
        raise Gone(path)
    info = _info(path)
    if info is None or info.get("dataVersion") != model.data_version:
        log.warning("search index %s does not fit the store; indexing the store in memory", path)
        return None
    try:
        return searchindex.SearchIndex.open(path, model)
    except (OSError, ValueError) as exc:
        log.warning("search index %s cannot be opened (%s); indexing the store in memory", path, exc)
        return None
