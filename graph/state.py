"""The data a server answers from, and its switch to a new data version.

A request takes ``holder.model`` once and uses it to the end, so requests in
flight finish on the version they started with and no answer mixes versions.
A new version is made in a thread, by patching the model with the records
that changed (store/patching.py) or, when that cannot be done, by building
it whole (logged with the reason), then swapped in with one assignment; if
the store cannot be read the old version keeps serving.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time

from store import image, searchversions
from store.db import Store
from store.memory import settle
from store.errors import StoreCorrupt, StoreError
from store.patching import Rebuild, patch
from store.readmodel import ReadModel
from store.search import index_for

from .versionwatch import new_versions

log = logging.getLogger("newsgraph")


def read_model(store: Store) -> ReadModel:
    """The store's data as a read model, from its image when the load left
    one that fits (store/image.py); a store that cannot be read raises a
    StoreError naming the file."""
    model = image.load(store)
    if model is not None:
        # The image is of the store's first segment: the newer ones are patched in.
        try:
            return patch(model, store)
        except Rebuild as reason:
            log.info("building the model: the image cannot be patched to the store (%s)", reason)
    snapshot = store.read()
    try:
        return ReadModel(snapshot)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # Valid JSON with records of the wrong shape: name the file, not a line of ours.
        raise StoreCorrupt(store.path, f"unexpected record shape ({type(exc).__name__}: {exc})") from None


def build_model(store: Store, index_later: bool = False) -> ReadModel:
    """The read model of the store's data version, with its search index:
    the one its load wrote, or else one made in memory (``index_later``:
    in a thread, so that a server starting answers at once, and a search
    waits for the index if it must)."""
    for _ in range(3):
        model = read_model(store)
        try:
            index = searchversions.open_for(store, model)
            break
        except searchversions.Gone:  # a newer load removed it: that store is newer too
            index = None
    _searchable(model, index, index_later)
    return model


def _searchable(model: ReadModel, index, index_later: bool) -> None:
    """Give ``model`` its search index: ``index`` (its load's), or one made
    in memory, now or (``index_later``) in a thread."""
    if index is not None:
        model._search_index = index
    elif index_later:
        threading.Thread(target=_index_and_settle, args=(model,), name="search-index",
                         daemon=True).start()
    else:
        index_for(model)  # a reloaded version is searchable before it is swapped in


def _index_and_settle(model: ReadModel) -> None:
    index_for(model)
    settle()


def retire(whole: bool) -> None:
    """After a swap, at a check a reload interval later, when requests on
    the old version are done. A patched version's objects are settled
    (moved out of the collector's sight); the version it replaced was freed
    by reference counting, its containers holding no cycle (store/view.py),
    so no collection walks the model. After a model built whole the collector
    sees the old version once (its objects may hold cycles), frees it, and
    settles the new one: a collection over every object of both."""
    if whole:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


class DataHolder:
    def __init__(self, store: Store, model: ReadModel | None = None) -> None:
        self.store = store
        self.signature = store.signature()
        self.model = model if model is not None else build_model(store, index_later=True)
        self._reloading = threading.Lock()
        self._retiring: bool | None = None  # an old version awaits collection: built whole (True) or patched
        # A check finding a new version may come at once after a swap (the
        # store's watch wakes on every publish): the old version is retired
        # only at a check ``grace`` seconds after its swap, when requests on
        # it are done.
        self._swapped = 0.0
        self.grace = 1.0
        settle()

    def reload_if_changed(self) -> bool:
        """Blocking; returns True when a new version was swapped in."""
        if self._retiring is not None and time.monotonic() - self._swapped >= self.grace:
            whole, self._retiring = self._retiring, None
            retire(whole)
        signature = self.store.signature()
        if signature == self.signature or signature is None:
            return False
        with self._reloading:
            if signature == self.signature:
                return False
            try:
                model, whole = self._next_model()
            except (StoreError, OSError, ValueError) as exc:
                log.warning("store changed but cannot be read; still serving %s: %s",
                            self.model.data_version, exc)
                self.signature = signature  # do not retry the same broken file in a loop
                return False
            if model is self.model:  # the same data (a compaction): nothing to swap
                self.signature = signature
                return False
            old = self.model.data_version
            self.model = model
            self.signature = signature
            # Two swaps within the grace: the collection the first needs is kept.
            self._retiring = whole or bool(self._retiring)
            self._swapped = time.monotonic()
            log.info("data version %s -> %s (%d articles)", old, model.data_version,
                     len(model.all_articles))
            return True

    def _next_model(self) -> tuple[ReadModel, bool]:
        """The store's version now, and whether it was built whole: the
        model patched with what changed, or else built whole, with the
        reason logged."""
        began = time.perf_counter()
        try:
            model = patch(self.model, self.store)
            if model is self.model:
                return model, False
            index = searchversions.open_for(self.store, model)
        except Rebuild as reason:
            log.info("building the model whole: %s", reason)
            return build_model(self.store), True
        except searchversions.Gone:  # a newer load came meanwhile: build that one
            return build_model(self.store), True
        # Its load's index, or else one made in memory (searches wait for it).
        _searchable(model, index, True)
        # Out of the collector's sight now, not at the next check: a patch
        # pauses the collector (store/patching.py), and the first collections
        # after it would walk its new lists of every article.
        settle()
        log.info("patched the model in %.3f s", time.perf_counter() - began)
        return model, False

    async def watch(self, interval: float) -> None:
        """Check the store whenever a publish lands (graph/versionwatch.py)
        and every ``interval`` seconds."""
        self.grace = interval
        async for _ in new_versions(self.store.path, interval):
            try:
                await asyncio.to_thread(self.reload_if_changed)
            except Exception:  # the watcher must outlive any one bad reload
                log.exception("reload failed; still serving %s", self.model.data_version)
