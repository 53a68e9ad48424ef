"""Load files into the store: parse what changed, merge, publish once.

Unchanged files are recognised by size and mtime, then by content hash, and
are not parsed again. A rejected file changes nothing: the records it gave
before stay as they were, and every good file still lands.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from loaders import keymap
from loaders.files import discover, layout_of
from loaders.parse import ParseOptions

from . import compaction, searchversions, sites
from .applying import apply
from .changes import Found, ask_git, scan, told as take_told
from .db import Store
from .errors import NothingToLoad, StrictLoadRejected
from .filetable import root_of
from .memory import paused_gc
from .parsing import Progress
from .report import LoadReport
from .snapshot import Snapshot
from .spill import Spill

__all__ = ["LoadReport", "load"]


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
    with store.lock(timeout=lock_timeout, on_wait=on_lock_wait), paused_gc(), contextlib.ExitStack() as stack:
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
        spill = Spill(store.path)
        stack.callback(spill.close)
        apply(snapshot, found, pruned_roots if prune else set(), report, workers, progress,
              options, spill, strict, prefixes)
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
            # What the files were is asked no more: not held beside the search
            # index's build and the image's (a million candidates at 1M files).
            found = None
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
