"""The read-model image: the read model of a store, saved beside it.

Building the read model means parsing every record, which takes most of a
minute at 100k articles. A load of 5,000 articles or more (smaller models
build in a moment: store/ingest.py) builds it from the store file it has
just written, before putting that file in place, and saves it, without
article details (bodies, related lists, extra keys), as ``<store>.image``.
A server then starts by unpickling the image, and reads an article's
details from the store file, by the offsets the image keeps, only when a
query asks for them.

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

from loaders import normalize, values

from . import indexes, numbersets, objects, ordering, predicates, ranking, readmodel, records, tallies, urls, view, words
from .db import Store
from .memory import paused_gc, release_free_memory
from .reading import read_written
from .readmodel import ReadModel
from .segments import segment_path
from .storage import remove_temps, temp_prefix

log = logging.getLogger("newsgraph")

# Below this many articles the image is built in the loading process; above,
# in a forked child.
FORK_THRESHOLD = 5000
HEAD_BYTES = 1 << 16


def _fingerprint() -> str:
    """Changes with the code that shapes the model and its indexes, and
    with Python."""
    digest = hashlib.sha256(repr(sys.version_info[:2]).encode())
    for module in (values, normalize, readmodel, objects, view, records, urls, indexes, ranking, tallies,
                   words, numbersets, ordering, predicates, sys.modules[__name__]):
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
    """Builds the image of a store file once it is written, before it is
    put in place.

    Pass it as the store write's ``before_replace`` hook: it gets the new
    file's temporary path and the offsets of every record, builds the model
    from that file, saves the image, and only then is the store file put in
    place, so a server that sees the new store finds its image ready. A
    failure leaves no image (servers build the model themselves) and never
    stops the store from being published.

    The model is built from the written file, not from the records the load
    held: by then the load has let those go (at 1M articles, building from
    them while they were still held took more memory than 23 GB). Large
    models are built in a forked child, whose exit frees their millions of
    objects at once, whatever process ran the load.
    """

    def __init__(self, store: Store, meta: dict, nums: dict[str, int]) -> None:
        self.target = path_for(store)
        self.meta = meta
        self.nums = nums  # the articles' numbers: the load empties its table before the hook
        self.process = None

    def __call__(self, spans: dict, file: tuple[int, int], written: str) -> None:
        if len(spans["articles"]) >= FORK_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
            release_free_memory()  # what the load freed, before the child shares it
            context = multiprocessing.get_context("fork")
            self.process = context.Process(target=_child, args=(self.target, written, spans, self.meta, file, self.nums),
                                           daemon=True)
            self.process.start()
            self.process.join()
            ok = self.process.exitcode == 0
            reason = f"the image builder exited with {self.process.exitcode}"
        else:
            try:
                build(self.target, written, spans, self.meta, file, self.nums)
                ok = True
            except Exception as exc:  # a shape the model refuses, a full disk: the server will say
                ok, reason = False, f"{type(exc).__name__}: {exc}"
        if not ok:
            log.warning("no read-model image written (%s); servers will build the model "
                        "from the store", reason)
            remove(self.target)
            remove_temps(self.target)  # a killed child's; the load holds the lock


def _child(target: str, written: str, spans: dict, meta: dict, file: tuple[int, int],
           nums: dict[str, int]) -> None:
    try:
        build(target, written, spans, meta, file, nums)
    except BaseException:
        os._exit(1)  # no cleanup handlers of the parent's: just fail
    os._exit(0)


def build(target: str, written: str, spans: dict[str, dict[str, tuple[int, int]]], meta: dict,
          file: tuple[int, int], nums: dict[str, int]) -> None:
    """Build the model of the store file at ``written``, whose records are
    at ``spans`` and numbered ``nums``, whose meta record is ``meta`` and
    whose (size, mtime_ns) is ``file``, and save its image at ``target``."""
    snapshot = read_written(written, spans, meta, nums)
    model = ReadModel(snapshot, details=False)
    snapshot.articles.clear()  # the records are parsed: their memory is free for the pickle
    with paused_gc():
        where = spans["articles"]
        for article in model.all_articles:
            article._span = tuple(where[article.id])
        save(target, _stamp(meta, file), model)


def save(target: str, stamp: dict, model: ReadModel) -> None:
    """The image file: the stamp line, then the pickled model, pickled into
    the file as it goes (a pickle made whole first was 1.7 GB more of the
    builder's memory at 1M articles)."""
    folder = os.path.dirname(os.path.abspath(target))
    handle, tmp = tempfile.mkstemp(prefix=temp_prefix(target), dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(orjson.dumps(stamp) + b"\n")
            pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
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
    """The read model of the store's first segment from its image, or None
    when there is no image that fits that segment and this code. An image
    is made when a store is written as one segment (a whole write:
    store/compaction.py), and fits while the manifest names that segment
    first; the model's ``segments`` name it, and the caller patches the
    newer ones in (store/patching.py)."""
    target = path_for(store)
    if not os.path.exists(target):
        return None
    manifest = store.manifest()
    if manifest is None or not manifest.segments:
        log.info("read-model image %s is of a store of segments, and the store has none now; "
                 "building the model", target)
        return None
    name = manifest.segments[0]["name"]
    path = segment_path(store.path, name)
    fd = None
    try:
        fd = os.open(path, os.O_RDONLY)
        meta = store_meta(fd)
        written = os.fstat(fd)
        with open(target, "rb") as handle:
            stamp = orjson.loads(handle.readline())
            if meta is None or stamp != _stamp(meta, (written.st_size, written.st_mtime_ns)):
                log.info("read-model image %s does not fit the store; building the model", target)
                os.close(fd)
                return None
            with paused_gc():
                model = pickle.load(handle)
                # Straight to the oldest generation, unscanned: the first
                # young collection would otherwise walk every new object.
                gc.freeze()
                gc.unfreeze()
    except Exception as exc:
        if fd is not None:
            os.close(fd)
        log.warning("read-model image %s cannot be used (%s: %s); building the model",
                    target, type(exc).__name__, exc)
        return None
    model.records.open(path, fd)
    model.segments = (name,)
    return model
