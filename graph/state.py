"""The data a server answers from, and its switch to a new data version.

A request takes ``holder.model`` once and uses it to the end, so requests in
flight finish on the version they started with and no answer mixes versions.
A new store file is read and indexed in a thread, then swapped in with one
assignment; if it cannot be read the old version keeps serving.
"""
from __future__ import annotations

import asyncio
import logging
import threading

from store.db import Store
from store.errors import StoreError
from store.readmodel import ReadModel
from store.search import index_for

log = logging.getLogger("newsgraph")


def build_model(store: Store) -> ReadModel:
    model = ReadModel(store.read())
    index_for(model)  # searchable from the first request
    return model


class DataHolder:
    def __init__(self, store: Store, model: ReadModel | None = None) -> None:
        self.store = store
        self.signature = store.signature()
        self.model = model if model is not None else build_model(store)
        self._reloading = threading.Lock()

    def reload_if_changed(self) -> bool:
        """Blocking; returns True when a new version was swapped in."""
        signature = self.store.signature()
        if signature == self.signature or signature is None:
            return False
        with self._reloading:
            if signature == self.signature:
                return False
            try:
                model = build_model(self.store)
            except (StoreError, OSError, ValueError) as exc:
                log.warning("store changed but cannot be read; still serving %s: %s",
                            self.model.data_version, exc)
                self.signature = signature  # do not retry the same broken file in a loop
                return False
            old = self.model.data_version
            self.model = model
            self.signature = signature
            log.info("data version %s -> %s (%d articles)", old, model.data_version,
                     len(model.all_articles))
            return True

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.reload_if_changed)
            except Exception:  # the watcher must outlive any one bad reload
                log.exception("reload failed; still serving %s", self.model.data_version)
