"""Load files into the store: parse what changed, merge, publish once.

Unchanged files are recognised by size and mtime, then by content hash, and
are not parsed again. A rejected file changes nothing: the records it gave
before stay as they were, and every good file still lands.
"""
from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import orjson

from loaders import keymap
from loaders.errors import LoadError
from loaders.files import Candidate, discover, layout_of
from loaders.parse import RANK_API, RANK_FILE, ParseOptions, Parsed, stat

from .changes import Found, ask_git, scan, told as take_told, walk_order
from .db import Store
from .memory import paused_gc, release_free_memory
from .snapshot import Snapshot
from .storage import Raw
from .errors import NothingToLoad, StrictLoadRejected
from .filetable import FileTable, file_key, root_of
from . import compaction, parsing, searchversions, sites
from .merge import merge
from .parsing import Progress

KIND_TABLE = {"article": "articles", "topic": "topics", "provider": "providers"}
TRIM_EVERY = 10_000  # merged records between returns of freed memory to the system


@dataclass
class LoadReport:
    added: Counter = field(default_factory=Counter)      # per kind
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    rejected: list[LoadError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why): not news data
    templates: list[str] = field(default_factory=list)  # .json files that are Jekyll templates
    stale: list[tuple[str, str]] = field(default_factory=list)  # (API file, collection file gone)
    warnings: list[LoadError] = field(default_factory=list)  # loaded, with something repaired
    public: int = 0   # articles in the store that the public sees
    hidden: int = 0   # unpublished or removed ones
    empty: list[str] = field(default_factory=list)  # folders with no news data (--allow-empty)
    files_seen: int = 0
    files_parsed: int = 0
    data_version: str = "empty"
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected




def load(store: Store, targets: Iterable[str | os.PathLike], *, prune: bool = False,
         strict: bool = False, workers: int | None = None, progress: Progress | None = None,
         lock_timeout: float = 60.0, on_lock_wait=None, compact: bool = True,
         changed: Iterable[str] | None = None, git: bool = False, keep_stale: bool = False,
         keymap_file: str | os.PathLike | None = None, allow_empty: bool = False) -> LoadReport:
    """Load ``targets`` into ``store``: parse the files that changed and
    publish the records that changed. ``compact`` compacts the store
    when that is due (store/compaction.py after_publish).

    ``changed``: the only paths (files or folders) that may have changed in
    the folders of ``targets`` since they were last loaded (``load
    --watch`` knows them from the system's file events). Every other file
    the store has of those folders is taken as it was, without a look at
    it (no walk of the folders, no stat); a folder never loaded before is
    looked at whole. None: look at every file.

    ``git``: ask git what changed in each folder of ``targets`` that is the
    top of a work tree and was loaded with ``git`` before: the files whose
    content differs between the commit recorded then (the store's meta)
    and the one checked out, those git reports changed or untracked, and
    those it reported so at the last load; only those are looked at, as
    with ``changed``.

    ``strict``: warnings are rejections, and nothing is written if anything
    is rejected. ``keep_stale``: serve API items whose collection file is
    gone. ``keymap_file``: the mapping file for every target (else each
    site's own newsgraph.yaml). ``allow_empty``: a folder with no news data
    is reported, not refused."""
    report = LoadReport()
    found = Found()
    pruned_roots: set[str] = set()
    folders: list[str] = []
    walked: list[str] = []  # folders to walk once the store is read
    told: list[str] = []  # folders whose changed paths we were told
    asked: list[str] = []  # folders to ask git about once the store is read
    options = ParseOptions(keep_stale=keep_stale)
    shared_map = keymap.read(str(keymap_file)) if keymap_file is not None else None
    for target in targets:
        if Path(target).is_dir():
            root = os.path.abspath(target)
            layout = layout_of(root)
            if layout is not None:
                options.layouts[root] = layout
            own = shared_map if shared_map is not None else keymap.beside(root)
            if own is not None:
                options.keymaps[root] = own
            pruned_roots.add(root)
            folders.append(root)
            (asked if git else told if changed is not None else walked).append(root)
            continue
        for candidate in discover(Path(target))[1]:
            found.add(candidate)
    configs, bad_configs = sites.read_configs(folders)
    report.rejected.extend(bad_configs)

    # Parsed files pile up as long-lived objects until the merge: no cyclic GC
    # rescanning them meanwhile (see paused_gc).
    with store.lock(timeout=lock_timeout, on_wait=on_lock_wait), paused_gc():
        snapshot = store.read()
        changed = list(changed or ())
        recorded = snapshot.meta.get("git")
        for root in asked:
            paths = ask_git(snapshot.meta, root)
            if paths is None:
                walked.append(root)
            else:
                told.append(root)
                changed += paths
        take_told(snapshot.files, told, changed, found)
        for root in walked:
            scan(snapshot.files, root, found)
        report.files_seen = len(found.present)
        known = snapshot.meta.get("sites")
        if known is None and len(snapshot.files):
            held = sites.held_configs(snapshot.files.roots(), configs)
            configs = {**held, **configs}
        registered = sites.register(known or {}, configs)
        prefixes = sites.prefixes(registered)
        if prefixes:
            found.candidates = {key: replace(c, id_prefix=prefixes[c.root]) if c.root in prefixes else c
                                for key, c in found.candidates.items()}
        _apply(snapshot, found, pruned_roots if prune else set(), report, workers, progress,
               options, strict, prefixes)
        snapshot.meta["sites"] = registered
        if registered != (known or {}) or snapshot.meta.get("git") != recorded:
            report.written = True
        report.empty = _empty_folders(snapshot, found, pruned_roots, report)
        if report.empty and not allow_empty:
            raise NothingToLoad(report.empty, report)
        if strict and report.rejected:
            raise StrictLoadRejected(
                f"{len(report.rejected)} file(s) rejected; --strict wrote nothing", report)
        changed_entities = any(report.added.values()) or any(report.updated.values()) \
            or any(report.removed.values())
        if changed_entities or report.written or not store.exists():
            before = dict(snapshot.meta)
            snapshot.seal()
            # The search index of the new version, complete before the store
            # names it (store/searchversions.py).
            searchversions.publish(store, before, snapshot)
            if snapshot.manifest is not None:
                store.publish(snapshot)  # what changed, as one more segment
            else:
                compaction.write_whole(store, snapshot)  # a new store, or one of format 1
            searchversions.retire(store, {snapshot.meta.get(searchversions.META_KEY),
                                          before.get(searchversions.META_KEY)})
            report.written = True
            if compact:
                compaction.after_publish(store)
        report.data_version = snapshot.data_version
    return report


def _empty_folders(snapshot: Snapshot, found: Found, roots: set[str], report: LoadReport) -> list[str]:
    """The loaded folders none of whose files gives a record or was rejected."""
    if not roots:
        return []
    files = snapshot.files
    rejected = {error.path for error in report.rejected}
    pending = set(roots) - {c.root for c in found.candidates.values() if c.path in rejected}
    # Any one file of a folder giving a record will do: nearly always the first.
    for key in found.present:
        if not pending:
            break
        root = root_of(key)
        if root in pending and key in files and files.claims_of(key):
            pending.discard(root)
    return sorted(pending)


def _apply(snapshot: Snapshot, found: Found, pruned_roots: set[str],
           report: LoadReport, workers: int | None, progress: Progress | None,
           options: ParseOptions, strict: bool = False,
           prefixes: dict[str, str] | None = None) -> None:
    """Look at ``found``'s candidates, parse those that changed, and merge
    what they give into ``snapshot``. Every pass here goes over what
    changed; the files taken as they were are asked of by the indexes of
    ``snapshot.files`` (store/filetable.py)."""
    files = snapshot.files
    candidates, present = found.candidates, found.present

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
    todo, parsed = parsing.parse_in_two_passes(todo, files, workers, progress, options)
    report.files_parsed = len(parsed)

    changed: dict[str, Parsed] = {}
    for candidate, result in zip(todo, parsed):
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
        changed[key] = result

    removed_files = sorted(set().union(*(files.in_root(root) for root in pruned_roots)) - present) \
        if pruned_roots else []

    # 2. Duplicate ids: a key claimed by two files of the same rank is an
    #    error in the later file; files that stay as they were keep theirs.
    # Only what changed files claim can clash: the files that stay are
    # asked for those keys alone.
    #    Topics and organisations are shared by sites: two sites' files of
    #    one organisation describe it together, so they clash only within
    #    one folder (_scope).
    owners: dict[tuple[str, str, str | None], str] = {}
    leaving = set(changed) | set(removed_files)
    wanted = {(f["kind"], f["key"]) for result in changed.values() for f in result.fragments
              if f["rank"] == RANK_FILE}
    for kind, ident in sorted(wanted):
        for key in sorted(files.claimers(kind, ident) - leaving):
            if any(claim[0] == kind and claim[1] == ident and claim[2] == RANK_FILE
                   for claim in files.claims_of(key)):
                owners[_scope(kind, ident, root_of(key))] = key.partition("\0")[2]
    for key in sorted(changed):
        result = changed[key]
        root = candidates[key].root
        clash = next((_scope(f["kind"], f["key"], root) for f in result.fragments if f["rank"] == RANK_FILE
                      and _scope(f["kind"], f["key"], root) in owners), None)
        if clash is None:
            own = [(f["kind"], f["key"]) for f in result.fragments if f["rank"] == RANK_FILE]
            if len(own) != len(set(own)):
                clash = next(c for c in own if own.count(c) > 1)
                report.rejected.append(LoadError(result.path, f"{clash[0]} {clash[1]!r} is defined twice in this file"))
                del changed[key]
                continue
            for kind, ident in own:
                owners[_scope(kind, ident, root)] = result.path
            continue
        report.rejected.append(LoadError(
            result.path, f"duplicate {clash[0]} id {clash[1]!r}: already defined by {owners[clash]}"))
        del changed[key]

    # 3. Entities touched by changed or removed files, and every file that
    #    contributes to them (unchanged ones are parsed again for their part).
    affected: set[tuple[str, str]] = set()
    for key in list(changed) + removed_files:
        if key in files:
            affected.update((kind, ident) for kind, ident, _ in files.claims_of(key))
    for result in changed.values():
        affected.update((f["kind"], f["key"]) for f in result.fragments)

    for key in removed_files:
        del files[key]
    for key, result in changed.items():
        candidate = candidates[key]
        entry = {"root": candidate.root, "path": candidate.path, "size": result.size,
                 "mtime_ns": result.mtime_ns, "sha1": result.sha1, "keys": _keys(result)}
        _set_notes(entry, result)
        files[key] = entry

    fragments: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for result in changed.values():
        for fragment in result.fragments:
            fragments[(fragment["kind"], fragment["key"])].append(fragment)
        result.fragments = []  # now only in `fragments`, freed entity by entity below
    helpers = sorted(set().union(*(files.claimers(kind, ident) for kind, ident in affected)) - set(changed),
                     key=walk_order) if affected else []
    for key, result in zip(helpers, parsing.parse_all([_candidate(files[k], prefixes) for k in helpers],
                                                 workers, None, 0, len(helpers), options=options)):
        if not result.error and result.sha1 == files[key]["sha1"]:
            entry = dict(files[key])
            _set_notes(entry, result)  # an API item goes stale when its file goes
            if entry != files[key]:
                files[key] = entry
        for fragment in result.fragments:
            if (fragment["kind"], fragment["key"]) in affected:
                fragments[(fragment["kind"], fragment["key"])].append(fragment)

    # 4. Merge and count. The parsed fragments freed here are mostly not
    #    reused for the merged records (other sizes), so the memory they
    #    held is given back as the merge goes: a load of 1M files otherwise
    #    held both, 22 GB.
    hidden = snapshot.meta.get("hiddenArticles")
    if not isinstance(hidden, int) or not 0 <= hidden <= len(snapshot.articles):
        hidden = _count_hidden(snapshot.articles)  # a store from before the count was kept
    for merged, (kind, ident) in enumerate(sorted(affected), 1):
        if merged % TRIM_EVERY == 0:
            release_free_memory()
        table = getattr(snapshot, KIND_TABLE[kind])
        old = table.get(ident)
        parts = fragments.pop((kind, ident), None)
        if not parts:
            if old is not None:
                del table[ident]
                report.removed[kind] += 1
                hidden -= kind == "article" and _is_hidden(old)
            continue
        alone = parts[0].get("alone") if len(parts) == 1 else None
        if alone is not None:  # an article its worker merged: the stored bytes
            stored, digest, sources, _ = alone
        else:
            record = merge(kind, parsing.with_data(parts, candidates))
            stored, digest, sources = None, record["_hash"], record["sources"]
        if old is None:
            report.added[kind] += 1
        elif old.get("_hash") != digest or old.get("sources") != sources:
            report.updated[kind] += 1
        else:
            continue
        if kind == "article":
            # Kept as the bytes the store will hold: a tenth of the memory.
            table.set_raw(ident, Raw(stored if stored is not None else orjson.dumps(record), digest))
            hidden += _is_hidden(record if stored is None else stored) - (old is not None and _is_hidden(old))
        else:
            table[ident] = record
    snapshot.meta["hiddenArticles"] = hidden
    report.public, report.hidden = len(snapshot.articles) - hidden, hidden

    seen = _seen(files, present, {error.path for error in report.rejected}, report, strict)
    for kind, count in seen.items():
        report.unchanged[kind] = max(0, count - report.added[kind] - report.updated[kind])
    if removed_files or changed:
        report.written = True


def _seen(files: FileTable, present: set[str], rejected: set[str], report: LoadReport,
          strict: bool) -> dict[str, int]:
    """How many ids of each kind the loaded files (``present``) give, but
    those only their stale API items name; adds the files' notes to
    ``report``. When the load holds every file of the store, the count is
    the files' index's, without a pass over them."""
    stale_of: dict[str, set[str]] = {}
    for key in sorted(files.noted() & present, key=walk_order):
        path = key.partition("\0")[2]
        if path not in rejected:
            stale = _report_notes(path, files.notes_of(key), report, strict)
            if stale:
                stale_of[key] = stale
    if files.keys_view() <= present:
        counts = {kind: len(files.claimed(kind)) for kind in KIND_TABLE}
        unseen = {(kind, ident) for stale in stale_of.values() for ident in stale for kind in KIND_TABLE
                  if files.claimers(kind, ident)
                  and all(ident in stale_of.get(key, ()) for key in files.claimers(kind, ident))}
        for kind, _ in unseen:
            counts[kind] -= 1
        return {kind: count for kind, count in counts.items() if files.claimed(kind)}
    seen: dict[str, set[str]] = defaultdict(set)  # kind -> ids the loaded files give
    for key in present:
        if key in files:
            stale = stale_of.get(key, ())
            for kind, ident, _ in files.claims_of(key):
                if ident not in stale:
                    seen[kind].add(ident)
    return {kind: len(idents) for kind, idents in seen.items()}


def _keys(result: Parsed) -> list:
    """What a file claims: its fragments' entities, and the articles of its
    stale API items, so the file is read again when such an article changes
    (its collection file comes back, or goes)."""
    keys = {(f["kind"], f["key"], f["rank"]) for f in result.fragments}
    keys.update(("article", ident, RANK_API) for ident, _ in result.stale)
    return sorted(keys)


def _set_notes(entry: dict, result: Parsed) -> None:
    """Keep in the file's entry what the summary says of it, so a load that
    does not parse it again says the same."""
    notes = {}
    if result.skipped:
        notes["skipped"] = result.skipped
    if result.template:
        notes["template"] = True
    if result.warnings:
        notes["warnings"] = [[w.line, w.reason] for w in result.warnings]
    if result.stale:
        notes["stale"] = [list(item) for item in result.stale]
    if notes:
        entry["notes"] = notes
    else:
        entry.pop("notes", None)


def _report_notes(path: str, notes: dict, report: LoadReport, strict: bool) -> set[str]:
    """Add the notes of the stored file at ``path`` to ``report``; the ids
    of its stale items."""
    if notes.get("template"):
        report.templates.append(path)
    elif "skipped" in notes:
        report.skipped.append((path, notes["skipped"]))
    for line, reason in notes.get("warnings", ()):
        if strict:  # stored by a load without --strict: refused now
            report.rejected.append(LoadError(path, f"{reason} (refused under --strict)", line))
        else:
            report.warnings.append(LoadError(path, reason, line))
    stale = notes.get("stale", ())
    report.stale.extend((path, named) for _, named in stale)
    return {ident for ident, _ in stale}


# Bytes that a hidden record holds (as orjson or as the store file spells them).
HIDDEN_MARK = re.compile(rb'"published": ?false|"removed": ?true')


def _is_hidden(record: dict | bytes | memoryview) -> bool:
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
        hidden += _is_hidden(item.data if type(item) is Raw else item)
    return hidden


SHARED_KINDS = frozenset({"topic", "provider"})


def _scope(kind: str, ident: str, root: str) -> tuple[str, str, str | None]:
    """What a claim of ``ident`` must be unique in: the store for an
    article (a site's ids carry its prefix: store/sites.py), its folder for
    a topic or an organisation, which several sites may describe."""
    return (kind, ident, root if kind in SHARED_KINDS else None)


def _candidate(entry: dict, prefixes: dict[str, str] | None = None) -> Candidate:
    return Candidate(entry["root"], entry["path"], id_prefix=(prefixes or {}).get(entry["root"], ""))
