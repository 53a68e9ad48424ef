"""The read-model image: the read model of a store, saved beside it.

Building the read model means parsing every record, which takes most of a
minute at 100k articles. A load of 5,000 articles or more (smaller models
build in a moment: store/ingest.py) already has every record in memory, so
it builds the model once more and saves it, without article details (bodies,
related lists, extra keys), as ``<store>.image``. A server then starts by
unpickling the image, and reads an article's details from the store file,
by the offsets the image keeps, only when a query asks for them.

The search index is built there too and saved with the model.

The image is a cache, never the record: it names the store file it was made
for (data version, load time, size and mtime) and the code that made it, and
anything that does not match (another load, an edit of the store, another
newsgraph, a damaged file) is ignored with a log line, and the model is
built from the store.
It is written by the load that writes the store, with the same trust: a
pickle, so never point a server at an image from somewhere else.
"""
from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import pickle
import sys
import tempfile

import orjson

from loaders import normalize

from . import readmodel
from .db import Snapshot, Store, paused_gc
from .readmodel import ReadModel
from .search import SearchIndex

log = logging.getLogger("newsgraph")

# Below this many articles the image is built in the loading process; above,
# in a forked child, while the parent writes the store file.
FORK_THRESHOLD = 5000
HEAD_BYTES = 1 << 16


def _fingerprint() -> str:
    """Changes with the code that shapes the model, and with Python."""
    digest = hashlib.sha256(repr(sys.version_info[:2]).encode())
    for module in (normalize, readmodel, sys.modules[__name__]):
        with open(module.__file__, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


FINGERPRINT = _fingerprint()


def path_for(store: Store) -> str:
    return store.path + ".image"


def _stamp(meta: dict, file: tuple[int, int]) -> dict:
    """What an image must match: this code, and the very store file it was
    made for (its data version and load time, and its size and mtime, which
    any edit of the file changes)."""
    return {"code": FINGERPRINT, "dataVersion": meta.get("dataVersion"),
            "loadedAt": meta.get("loadedAt"), "file": list(file)}


class ImageWriter:
    """Builds the image of ``snapshot`` while the store file is written.

    Use it as a context around the store's write, and pass it as the
    write's ``before_replace`` hook: it gets the offsets of every record,
    saves the image, and only then is the store file put in place, so a
    server that sees the new store finds its image ready. A failure leaves
    no image (servers build the model themselves) and never stops the store
    from being published.
    """

    def __init__(self, store: Store, snapshot: Snapshot) -> None:
        self.target = path_for(store)
        self.meta = snapshot.meta
        self.process = self.model = self.error = None
        if len(snapshot.articles) >= FORK_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
            # The child shares the snapshot's memory and builds the model on
            # the other core while this process serialises and writes.
            context = multiprocessing.get_context("fork")
            self.channel, child_end = context.Pipe()
            self.process = context.Process(target=_child, args=(self, snapshot, child_end),
                                           daemon=True)
            self.process.start()
            child_end.close()
        else:
            try:
                self.model = ReadModel(snapshot, details=False)
            except Exception as exc:  # a shape the model refuses: the server will name it
                self.error = exc

    def __enter__(self) -> "ImageWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process is not None and self.process.exitcode is None:
            # The store write failed before asking for the image: the child
            # must not outlive it (it would hold the store's lock too).
            self.channel.close()
            self.process.terminate()
            self.process.join()
        self.model = None

    def __call__(self, spans: dict, file: tuple[int, int]) -> None:
        where, stamp = spans["articles"], _stamp(self.meta, file)
        if self.process is not None:
            try:
                self.channel.send((where, stamp))
            except OSError:
                pass  # the child died before asking: its exit code says so below
            self.channel.close()
            self.process.join()
            ok = self.process.exitcode == 0
            reason = f"the image builder exited with {self.process.exitcode}"
        else:
            ok, reason = self.error is None, f"{type(self.error).__name__}: {self.error}"
            if ok:
                try:
                    save(self.target, self.model, where, stamp)
                except Exception as exc:
                    ok, reason = False, f"{type(exc).__name__}: {exc}"
            self.model = None
        if not ok:
            log.warning("no read-model image written (%s); servers will build the model "
                        "from the store", reason)
            remove(self.target)


def _child(writer: ImageWriter, snapshot: Snapshot, channel) -> None:
    try:
        writer.channel.close()  # the parent's end: closing it lets recv see the parent give up
        model = ReadModel(snapshot, details=False)
        # This process's hold on the records: with the parent's (dropped once
        # the store is written) gone too, their memory is free for the index.
        snapshot.articles.clear()
        where, stamp = channel.recv()
        save(writer.target, model, where, stamp)
    except BaseException:
        os._exit(1)  # no cleanup handlers of the parent's: just fail
    os._exit(0)


def save(target: str, model: ReadModel, where: dict[str, tuple[int, int]], stamp: dict) -> None:
    for article in model.all_articles:
        article._span = tuple(where[article.id])
    with paused_gc():
        # The search index too, in its own compact form: a server that had
        # to build it would read every article's body back from the store.
        search = SearchIndex(model).to_bytes()
        payload = pickle.dumps((model, search), protocol=pickle.HIGHEST_PROTOCOL)
    folder = os.path.dirname(os.path.abspath(target))
    handle, tmp = tempfile.mkstemp(prefix=os.path.basename(target) + ".tmp-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(orjson.dumps(stamp) + b"\n")
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        remove(tmp)
        raise


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def store_meta(fd: int) -> dict | None:
    """The store's meta record, from the first lines of the file (the
    layout storage.py writes); None for any other layout."""
    lines = os.pread(fd, HEAD_BYTES, 0).split(b"\n", 2)
    if len(lines) < 3 or lines[0] != b'{"meta":{' or not lines[1].startswith(b'"1":'):
        return None
    try:
        meta = orjson.loads(lines[1][4:])
    except orjson.JSONDecodeError:
        return None
    return meta if isinstance(meta, dict) else None


def load(store: Store) -> ReadModel | None:
    """The store's read model from its image, or None when there is no
    image that fits this store file and this code."""
    target = path_for(store)
    if not os.path.exists(target) or not store.exists():
        return None
    fd = os.open(store.path, os.O_RDONLY)
    try:
        meta = store_meta(fd)
        written = os.fstat(fd)
        with open(target, "rb") as handle:
            stamp = orjson.loads(handle.readline())
            if meta is None or stamp != _stamp(meta, (written.st_size, written.st_mtime_ns)):
                log.info("read-model image %s does not fit the store; building the model", target)
                os.close(fd)
                return None
            with paused_gc():
                model, search = pickle.load(handle)
                model._search_index = SearchIndex.from_bytes(model, search)
                # Straight to the oldest generation, unscanned: the first
                # young collection would otherwise walk every new object.
                gc.freeze()
                gc.unfreeze()
    except Exception as exc:
        os.close(fd)
        log.warning("read-model image %s cannot be used (%s: %s); building the model",
                    target, type(exc).__name__, exc)
        return None
    model.records.open(store.path, fd)
    return model
