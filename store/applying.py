"""What the files a load looks at change in its snapshot: parse those that
changed, refuse duplicate ids, merge what they give, count it.

A load of a large site holds little per file while it parses: each
article record (or fragment of one) goes to the load's spill
(store/spill.py) as its file is parsed, and the load keeps the file's
entry and where its bytes are. Numbers for new articles follow their
sorted ids and a duplicate id rejects the later file by path, so those
steps wait for every file; they need only the claims, not the records.
The snapshot's new articles are places in the spill, read back one at a
time by the search index and the segment writer (docs/store.md, "A
one-shot load").
"""
from __future__ import annotations

import re
from collections import defaultdict

import orjson

from loaders.errors import LoadError
from loaders.files import Candidate
from loaders.parse import RANK_FILE, ParseOptions, Parsed, stat

from . import parsing
from .changes import Found, walk_order
from .filetable import file_key, root_of
from .memory import release_free_memory
from .merge import merge
from .parsing import Progress
from .report import LoadReport, claims, seen, set_notes
from .snapshot import Snapshot
from .spill import Spill
from .storage import Raw

KIND_TABLE = {"article": "articles", "topic": "topics", "provider": "providers"}
TRIM_EVERY = 10_000  # merged records between returns of freed memory to the system


def apply(snapshot: Snapshot, found: Found, pruned_roots: set[str], report: LoadReport,
          workers: int | None, progress: Progress | None, options: ParseOptions, spill: Spill,
          strict: bool = False, prefixes: dict[str, str] | None = None) -> None:
    """Look at ``found``'s candidates, parse those that changed, and merge
    what they give into ``snapshot``, its new records kept in ``spill``.
    Every pass here goes over what changed; the files taken as they were
    are asked of by the indexes of ``snapshot.files`` (store/filetable.py)."""
    files = snapshot.files
    candidates, present = found.candidates, found.present
    snapshot.articles.spill(spill)

    # 1. Which files may have changed: new ones, or size/mtime differ.
    todo: list[Candidate] = []
    for key, candidate in candidates.items():
        if key in found.differ:
            todo.append(candidate)
            continue
        old = files.stat(key)
        now = stat(candidate)
        if old is None or now is None or old != now:
            todo.append(candidate)

    # Of each changed file: its entry, its fragments with their bytes
    # spilled, and the article its worker merged (``_kept``).
    changed: dict[str, Kept] = {}
    for candidate, result in parsing.parse_in_two_passes(todo, files, workers, progress, options):
        report.files_parsed += 1
        key = file_key(candidate.root, candidate.path)
        old = files.get(key)
        if strict and result.warnings and not result.error:
            first = result.warnings[0]
            result.error = LoadError(first.path, f"{first.reason} (refused under --strict)", first.line)
        if result.error:
            report.rejected.append(result.error)
            continue
        if old is not None and old["sha1"] == result.sha1:
            # Touched but identical: remember the new stat, parse nothing more.
            old["size"], old["mtime_ns"] = result.size, result.mtime_ns
            files.touch(key)
            report.written = True
            continue
        changed[key] = _kept(key, candidate, result, spill)

    removed_files = sorted(set().union(*(files.in_root(root) for root in pruned_roots)) - present) \
        if pruned_roots else []
    _refuse_duplicates(changed, removed_files, snapshot, candidates, report)

    # 3. Entities touched by changed or removed files, and every file that
    #    contributes to them (unchanged ones are parsed again for their part).
    affected: set[tuple[str, str]] = set()
    for key in list(changed) + removed_files:
        if key in files:
            affected.update((kind, ident) for kind, ident, _ in files.claims_of(key))
    for _, parts, alone in changed.values():
        affected.update((f["kind"], f["key"]) for f in parts)
        if alone is not None:
            affected.add(("article", alone[0]))

    for key in removed_files:
        del files[key]
    fragments: dict[tuple[str, str], list[dict]] = defaultdict(list)
    merged: dict[str, tuple] = {}  # article id -> ``alone`` of its file
    for key, (entry, parts, alone) in changed.items():
        files[key] = entry
        for fragment in parts:
            fragments[(fragment["kind"], fragment["key"])].append(fragment)
        if alone is not None:
            merged[alone[0]] = alone
    changed = {key: None for key in changed}  # the fragments are in `fragments`, freed entity by entity below
    helpers = sorted(set().union(*(files.claimers(kind, ident) for kind, ident in affected)) - set(changed),
                     key=walk_order) if affected else []
    for key, result in zip(helpers, parsing.parse_all([_candidate(files[k], prefixes) for k in helpers],
                                                      workers, None, 0, len(helpers), options=options)):
        if not result.error and result.sha1 == files[key]["sha1"]:
            entry = dict(files[key])
            set_notes(entry, result)  # an API item goes stale when its file goes
            if entry != files[key]:
                files[key] = entry
        for fragment in result.fragments:
            if (fragment["kind"], fragment["key"]) in affected:
                fragments[(fragment["kind"], fragment["key"])].append(fragment)

    _merge_all(snapshot, affected, fragments, merged, candidates, spill, report)
    counts = seen(files, present, {error.path for error in report.rejected}, report, strict)
    for kind, count in counts.items():
        report.unchanged[kind] = max(0, count - report.added[kind] - report.updated[kind])
    if removed_files or changed:
        report.written = True


# What a load keeps of a changed file until every file is parsed (``_kept``).
Kept = tuple[dict, list[dict], "tuple | None"]


def _kept(key: str, candidate: Candidate, result: Parsed, spill: Spill) -> Kept:
    """What a load keeps of the changed file ``key`` until every file is
    parsed: its files-table entry; its fragments, each one's data put in
    ``spill`` and kept as its place (``spilled``: offset, length); and the
    article its worker merged (nearly every file of a large site), kept as
    a tuple (``alone``: id, offset, length, hash, hidden, the file's key),
    not a fragment: a few hundred bytes less a file, which at a million
    files is most of what a load holds while it parses."""
    entry = {"root": candidate.root, "path": candidate.path, "size": result.size,
             "mtime_ns": result.mtime_ns, "sha1": result.sha1, "keys": claims(result)}
    set_notes(entry, result)
    parts, merged = [], None
    for fragment in result.fragments:
        alone = fragment.get("alone")
        if alone is not None and merged is None:
            stored, digest, _, _ = alone  # its sources are its own path (``_merge_all``)
            merged = (fragment["key"], spill.put(stored), len(stored), digest, is_hidden(stored), key)
            continue
        if alone is not None:  # a second one (no file gives two): as a fragment, parsed again to merge
            fragment["alone"] = (None, None, None, key)
        elif fragment["data"] is not None:
            data = fragment["data"]
            data = data if type(data) is bytes else orjson.dumps(data)
            fragment["data"] = None
            fragment["spilled"] = (spill.put(data), len(data))
        parts.append(fragment)
    return entry, parts, merged


def _as_fragment(alone: tuple) -> dict:
    """A worker's merged article as the fragment ``parsing.with_data``
    parses again: another file described its article after all."""
    return {"kind": "article", "key": alone[0], "rank": RANK_FILE, "data": None,
            "alone": (None, None, None, alone[5])}


def _unspilled(part: dict, spill: Spill) -> dict:
    place = part.get("spilled")
    if place is None:
        return part
    return {"kind": part["kind"], "key": part["key"], "rank": part["rank"], "data": spill.read(*place)}


def _refuse_duplicates(changed: dict[str, Kept], removed_files: list[str],
                       snapshot: Snapshot, candidates: dict[str, Candidate], report: LoadReport) -> None:
    """Duplicate ids: a key claimed by two files of the same rank is an
    error in the later file (by path); files that stay as they were keep
    theirs. Only what changed files claim can clash: the files that stay
    are asked for those keys alone. Topics and organisations are shared by
    sites: two sites' files of one organisation describe it together, so
    they clash only within one folder (``_scope``)."""
    files = snapshot.files
    owners: dict[tuple[str, str, str | None], str] = {}
    leaving = set(changed) | set(removed_files)
    wanted = {claim for kept in changed.values() for claim in _own(kept)}
    for kind, ident in sorted(wanted):
        for key in sorted(files.claimers(kind, ident) - leaving):
            if any(claim[0] == kind and claim[1] == ident and claim[2] == RANK_FILE
                   for claim in files.claims_of(key)):
                owners[_scope(kind, ident, root_of(key))] = key.partition("\0")[2]
    for key in sorted(changed):
        entry = changed[key][0]
        root = candidates[key].root
        own = _own(changed[key])
        clash = next((_scope(kind, ident, root) for kind, ident in own if _scope(kind, ident, root) in owners), None)
        if clash is None:
            if len(own) != len(set(own)):
                clash = next(c for c in own if own.count(c) > 1)
                report.rejected.append(LoadError(entry["path"], f"{clash[0]} {clash[1]!r} is defined twice in this file"))
                del changed[key]
                continue
            for kind, ident in own:
                owners[_scope(kind, ident, root)] = entry["path"]
            continue
        report.rejected.append(LoadError(
            entry["path"], f"duplicate {clash[0]} id {clash[1]!r}: already defined by {owners[clash]}"))
        del changed[key]


def _own(kept: Kept) -> list[tuple[str, str]]:
    """The ids a changed file claims at its own rank (what may clash)."""
    _, parts, alone = kept
    own = [(f["kind"], f["key"]) for f in parts if f["rank"] == RANK_FILE]
    return own + [("article", alone[0])] if alone is not None else own


def _merge_all(snapshot: Snapshot, affected: set[tuple[str, str]], fragments: dict[tuple[str, str], list[dict]],
               merged: dict[str, tuple], candidates: dict[str, Candidate], spill: Spill,
               report: LoadReport) -> None:
    """Merge each affected entity's fragments into its record and count
    what was added, updated and removed. An article record goes to the
    snapshot as its place in ``spill``. The parsed fragments freed here are
    mostly not reused for the merged records (other sizes), so the memory
    they held is given back as the merge goes."""
    hidden = snapshot.meta.get("hiddenArticles")
    if not isinstance(hidden, int) or not 0 <= hidden <= len(snapshot.articles):
        hidden = _count_hidden(snapshot.articles)  # a store from before the count was kept
    for done, (kind, ident) in enumerate(sorted(affected), 1):
        if done % TRIM_EVERY == 0:
            release_free_memory()
        table = getattr(snapshot, KIND_TABLE[kind])
        old = table.get(ident)
        parts = fragments.pop((kind, ident), None)
        alone = merged.pop(ident, None) if kind == "article" else None
        if alone is not None and parts:
            parts.append(_as_fragment(alone))
            alone = None
        if not parts and alone is None:
            if old is not None:
                del table[ident]
                report.removed[kind] += 1
                hidden -= kind == "article" and is_hidden(old)
            continue
        if alone is not None:  # an article its worker merged: its bytes are in the spill
            _, at, length, digest, hides, source = alone
            sources = [source.partition("\0")[2]]
        else:
            record = merge(kind, parsing.with_data([_unspilled(part, spill) for part in parts], candidates))
            digest, sources = record["_hash"], record["sources"]
        if old is None:
            report.added[kind] += 1
        elif old.get("_hash") != digest or old.get("sources") != sources:
            report.updated[kind] += 1
        else:
            continue
        if kind == "article":
            if alone is None:
                stored = orjson.dumps(record)
                at, length, hides = spill.put(stored), len(stored), is_hidden(record)
            table.set_spilled(ident, digest, at, length)
            hidden += hides - (old is not None and is_hidden(old))
        else:
            table[ident] = record
    snapshot.meta["hiddenArticles"] = hidden
    report.public, report.hidden = len(snapshot.articles) - hidden, hidden


# Bytes that a hidden record holds (as orjson or as the store file spells them).
HIDDEN_MARK = re.compile(rb'"published": ?false|"removed": ?true')


def is_hidden(record: dict | bytes | memoryview) -> bool:
    """Unpublished or removed. Bytes are read only when they hold a mark of
    hiding (a search in C, on bytes or a view of the mapped store)."""
    if not isinstance(record, dict):
        if HIDDEN_MARK.search(record) is None:
            return False
        record = orjson.loads(record)
    return record.get("published") is False or record.get("removed") is True


def _count_hidden(table) -> int:
    """The hidden articles of a store that has no count of them yet (the
    count is kept in the meta and moved by each change after that)."""
    hidden = 0
    for key in table:
        item = table.stored(key)
        hidden += is_hidden(item.data if type(item) is Raw else item)
    return hidden


SHARED_KINDS = frozenset({"topic", "provider"})


def _scope(kind: str, ident: str, root: str) -> tuple[str, str, str | None]:
    """What a claim of ``ident`` must be unique in: the store for an
    article (a site's ids carry its prefix: store/sites.py), its folder for
    a topic or an organisation, which several sites may describe."""
    return (kind, ident, root if kind in SHARED_KINDS else None)


def _candidate(entry: dict, prefixes: dict[str, str] | None = None) -> Candidate:
    return Candidate(entry["root"], entry["path"], id_prefix=(prefixes or {}).get(entry["root"], ""))
