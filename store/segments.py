"""The files of a store: a manifest at the store's path, naming segments.

    news.json              the manifest: a TinyDB database with a ``meta``
                           table (data version, load time, next article
                           number, generation) and a ``segments`` table
                           (one document per segment, oldest first)
    news.json.d/00000007.json
                           a segment: a TinyDB database in storage.py's
                           layout with the tables of a store (``articles``
                           under their numbers for life, ``topics``,
                           ``providers``, ``files``, its own ``meta``) and
                           ``removed``: keys it takes out of older segments

The data of a version is its segments applied oldest first: a record
replaces the record of the same key in older segments, a ``removed``
document drops it. Segments never change once written; a publish writes one
more and replaces the manifest (one ``os.replace``: the commit point), so a
reader that reads the manifest sees one version, and a kill at any moment
leaves the old manifest or the new one, each naming only whole files.
See docs/store.md.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

import orjson

from . import keyfiles
from .errors import StoreCorrupt
from .storage import AtomicOrjsonStorage, mode_of

FORMAT = 2  # a manifest and segments; 1 was one file holding everything


@dataclass
class Manifest:
    meta: dict
    segments: list[dict] = field(default_factory=list)  # oldest first: {"name", "articles", "bytes"}

    @property
    def generation(self) -> int:
        return int(self.meta.get("generation", 0))


def folder_of(path: str) -> str:
    return path + ".d"


def segment_path(path: str, name: str) -> str:
    return os.path.join(folder_of(path), name)


def segment_name(generation: int) -> str:
    return f"{generation:08d}.json"


def merged_name(segments: list[dict]) -> str:
    """The name of the segment merging ``segments`` (oldest first): the
    generations they span, which no other merge spans, since a later merge
    that takes this one in spans more."""
    return f"{span_of(segments[0]['name'])[0]:08d}-{span_of(segments[-1]['name'])[1]:08d}.json"


def span_of(name: str) -> tuple[int, int]:
    """The first and last generation a segment holds the records of."""
    stem = name[:-len(".json")]
    first, _, last = stem.partition("-")
    return int(first), int(last or first)


def is_merge(name: str) -> bool:
    """Whether ``name`` is (or is a temporary file of) a merge's segment."""
    return "-" in name.split(".", 1)[0]


def read_manifest(path: str) -> Manifest | None:
    """The manifest at ``path``; None when the file is a store of format 1
    (everything in one file) or any other TinyDB file without segments.
    FileNotFoundError when there is no file."""
    with open(path, "rb") as handle:
        raw = handle.read()
    if not raw:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise StoreCorrupt(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict) or "segments" not in data:
        return None
    try:
        (meta,) = data["meta"].values()
        segments = [data["segments"][key] for key in sorted(data["segments"], key=int)]
        if any(not isinstance(s, dict) or not isinstance(s.get("name"), str)
               or os.sep in s["name"] for s in segments):
            raise ValueError("a segment without a plain file name")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreCorrupt(path, f"not a manifest of segments ({exc})") from None
    if meta.get("format") != FORMAT:
        raise StoreCorrupt(path, f"store format {meta.get('format')} is not {FORMAT}")
    return Manifest(dict(meta), segments)


def write_manifest(path: str, manifest: Manifest) -> None:
    """Put ``manifest`` in place with one atomic replace (the commit point of
    a publish or a compaction); every segment it names is on disk before."""
    AtomicOrjsonStorage(path).write({
        "meta": {"1": manifest.meta},
        "segments": {str(n): segment for n, segment in enumerate(manifest.segments, 1)},
    })


def write_segment(path: str, name: str, data: dict, article_keys: list[str], before_replace=None) -> dict:
    """Write the tables ``data`` as segment ``name`` of the store at
    ``path`` (whole and synced before it takes its name), then its key file
    (store/keyfiles.py; ``article_keys``: the articles' keys in the order
    of ``data["articles"]``); returns its manifest entry. ``before_replace``
    as AtomicOrjsonStorage's."""
    target = segment_path(path, name)
    made = keyfiles.columns(data, article_keys)
    count = len(data.get("articles", ()))

    def keys_first(data, spans, written, temporary):
        # The key file before the caller's hook (a large load's image build),
        # so its columns are freed first. It names the segment's size and
        # mtime, which the rename keeps; a kill before the rename leaves it
        # a stray, removed with the segment's temporary file.
        keyfiles.write(target, made, spans, (written.st_size, written.st_mtime_ns))
        made.clear()
        if before_replace is not None:
            before_replace(data, spans, written, temporary)

    # A segment is as readable as the manifest naming it: whoever may read the store.
    storage = AtomicOrjsonStorage(target, before_replace=keys_first, mode=mode_of(path))
    storage.write(data)
    return {"name": name, "articles": count, "bytes": os.stat(target).st_size}


def used_generations(path: str) -> list[int]:
    """The generations of the segment files in the store's folder."""
    try:
        names = os.listdir(folder_of(path))
    except FileNotFoundError:
        return []
    return [span_of(name)[1] for name in names
            if name.endswith(".json") and name[:-5].replace("-", "", 1).isdigit()]


def remove_strays(path: str, manifest: Manifest | None, keep_merges: bool = False) -> None:
    """Remove segment files the manifest does not name: left by a publish
    or a compaction killed before its manifest was in place, or replaced
    by a compaction. Only for the holder of the store's lock. A server
    still reading a removed segment keeps it open (its pages stay until it
    closes it); one that read the manifest naming it but opened it too late
    reads the manifest again (Store.read). ``keep_merges``: while a
    compaction runs, what it writes stays."""
    folder = folder_of(path)
    keep = {segment["name"] for segment in manifest.segments} if manifest else set()
    keep |= {keyfiles.path_for(name) for name in keep}
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        if name not in keep and not (keep_merges and is_merge(name)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
