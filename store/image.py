"""The read-model image: the read model of a store, saved beside it.

Building the read model means parsing every record, which takes most of a
minute at 100k articles. A load of 5,000 articles or more (smaller models
build in a moment: store/ingest.py) builds it from the store file it has
just written, before putting that file in place, and saves it, without
article details (bodies, related lists, extra keys), as ``<store>.image``.
A server then starts by unpickling the image, and reads an article's
details from the store file, by the offsets the image keeps, only when a
query asks for them.

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

import ctypes
import functools
import gc
import hashlib
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile

import orjson

from loaders import normalize

from . import indexes, numbersets, ordering, predicates, readmodel, search
from .db import Snapshot, Store, paused_gc, read_written, release_free_memory
from .readmodel import ReadModel
from .search import Indexing, SearchIndex
from .segments import segment_path
from .storage import remove_temps, temp_prefix

log = logging.getLogger("newsgraph")

# Below this many articles the image is built in the loading process; above,
# in a forked child.
FORK_THRESHOLD = 5000
# From this many articles on, with two cores or more, a forked indexer makes
# the search index while the builder makes the model (see build), and a
# helper of the indexer's makes HELPER_SHARE of the postings.
SPLIT_THRESHOLD = 20_000
HELPER_SHARE = 0.5
HEAD_BYTES = 1 << 16


def _fingerprint() -> str:
    """Changes with the code that shapes the model, its indexes and the
    search index saved with it, and with Python."""
    digest = hashlib.sha256(repr(sys.version_info[:2]).encode())
    for module in (normalize, readmodel, indexes, numbersets, ordering, predicates, search,
                   sys.modules[__name__]):
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
            # A helper killed with its indexer leaves the file the indexer
            # made for its part; the load holds the lock, so none is in use.
            remove_temps(self.target)


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
    whose (size, mtime_ns) is ``file``, and save its image at ``target``.

    The search index takes longer than the model, and the model must also
    be pickled. So from SPLIT_THRESHOLD articles on, with two cores or
    more, a forked indexer makes the index (``_search_bytes``: the part of
    the model it reads, the words, and the postings with a helper of its
    own) while this process makes the model and pickles it: both cores work
    from the start, where one did for most of the build. At 100k articles
    (traced): the model 5.9 s, the facet counts 0.6 s, the pickle 3.1 s
    here; the indexer's model 4.2 s, the words 3.2 s, the postings 6.2 s
    (beside the pickle at first). 12-14 s in all, against 16-18 s when
    this process also read the words, and pickled before the postings were
    split in two (the same store, in-process, alternating).
    """
    snapshot = read_written(written, spans, meta, nums)
    indexer = None
    if len(spans["articles"]) >= SPLIT_THRESHOLD and hasattr(os, "fork") and (os.cpu_count() or 1) > 1:
        # Forked before this process makes anything large. Pickling writes to
        # every object of the model (reference counts), and each page written
        # while a forked process still shares it is copied: with the model
        # made after the fork, no page of it is shared.
        indexer = _Helper(target, functools.partial(_search_bytes, target, snapshot))
    try:
        model = ReadModel(snapshot, details=False, bodies=indexer is None)
        snapshot.articles.clear()  # the records are parsed: their memory is free for the index
        with paused_gc():
            if indexer is None:
                # Saved in its own compact form: a server that had to build
                # the index would read every article's body back from the store.
                search = SearchIndex(model).to_bytes()
            where = spans["articles"]
            for article in model.all_articles:
                article._span = tuple(where[article.id])
                article._details = None  # any bodies were for the index, which has them
            pickled = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            if indexer is not None:
                search = indexer.result()
    finally:
        if indexer is not None:
            indexer.close()
    save(target, _stamp(meta, file), pickled, search)


def _search_bytes(target: str, snapshot: Snapshot) -> bytes:
    """The saved form of the search index of ``snapshot``'s model, made in
    an indexer process (see ``build``), which builds as much of the same
    model as the index reads (names the model resolves, and the articles'
    order, which numbers them).
    A helper of its own makes the later words' postings: they are made for
    ranges of the vocabulary independently."""
    model = ReadModel(snapshot, details=False, linked=False)
    snapshot.articles.clear()
    with paused_gc():
        indexing = Indexing(model)
        vocabulary = indexing.vocabulary
        cut = indexing.cut(1 - HELPER_SHARE)
        helper = _Helper(target, functools.partial(indexing.postings, cut, len(vocabulary)))
        try:
            parts = [indexing.postings(0, cut), helper.result()]
        finally:
            helper.close()
        return SearchIndex.joined(model, vocabulary, parts).to_bytes()


class _Helper:
    """``work()`` done in a forked process, its result handed back through
    a temporary file beside the image."""

    def __init__(self, target: str, work) -> None:
        folder = os.path.dirname(os.path.abspath(target))
        handle, self.path = tempfile.mkstemp(prefix=temp_prefix(target), dir=folder)
        os.close(handle)
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                _die_with_parent(parent)
                result = work()
                with open(self.path, "wb") as out:
                    pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                os._exit(1)  # no cleanup handlers of the parent's: just fail
            os._exit(0)

    def result(self):
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"an image helper exited with {code}")
        with open(self.path, "rb") as handle:
            return pickle.load(handle)

    def close(self) -> None:
        if self.pid is not None:  # this process failed first: the helper's work is moot
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
        remove(self.path)


def _die_with_parent(parent: int) -> None:
    """Be killed with the process that forked this one (Linux's
    PR_SET_PDEATHSIG), so that killing the indexer also ends the helper it
    forked, which would otherwise run on, unwaited for."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: an orphaned helper finishes its part and exits
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)


def save(target: str, stamp: dict, pickled: bytes, search: bytes) -> None:
    """The image file: the stamp line, the pickled model, then the search
    index's bytes to the end."""
    folder = os.path.dirname(os.path.abspath(target))
    handle, tmp = tempfile.mkstemp(prefix=temp_prefix(target), dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(orjson.dumps(stamp) + b"\n")
            out.write(pickled)
            out.write(search)
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
    image that fits this store's version and this code. An image is made
    for a store of one segment (a whole write: store/compaction.py), and
    fits while the manifest names that segment alone."""
    target = path_for(store)
    if not os.path.exists(target):
        return None
    manifest = store.manifest()
    if manifest is None or len(manifest.segments) != 1:
        log.info("read-model image %s is of a compacted store, and the store has %s segments "
                 "now; building the model", target, len(manifest.segments) if manifest else "no")
        return None
    path = segment_path(store.path, manifest.segments[0]["name"])
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
                model._search_index = SearchIndex.from_bytes(model, handle.read())
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
    return model
