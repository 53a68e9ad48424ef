"""Load files into the store: parse what changed, merge, publish once.

Unchanged files are recognised by size and mtime, then by content hash, and
are not parsed again. A rejected file changes nothing: the records it gave
before stay as they were, and every good file still lands.
"""
from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import orjson

from loaders import git as gitstate
from loaders import keymap
from loaders.errors import LoadError
from loaders.files import JSON_SUFFIXES, YAML_SUFFIXES, Candidate, candidate_at, discover, layout_of
from loaders.parse import RANK_API, RANK_FILE, ParseOptions, Parsed, parse, stat

from .db import Raw, Snapshot, Store, file_key, paused_gc, release_free_memory
from .errors import NothingToLoad, StrictLoadRejected
from . import compaction, searchversions, sites
from .merge import merge

KIND_TABLE = {"article": "articles", "topic": "topics", "provider": "providers"}
# Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 256
TRIM_EVERY = 10_000  # merged records between returns of freed memory to the system
DATA_SUFFIXES = JSON_SUFFIXES | YAML_SUFFIXES  # parsed in the first pass (_parse_in_two_passes)
_DATA_TAILS = tuple(DATA_SUFFIXES)


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


Progress = Callable[[int, int], None]  # (done, total)


def _claims(entry: dict) -> list[tuple[str, str, int]]:
    return [tuple(claim) for claim in entry.get("keys", [])]


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
    candidates: dict[str, Candidate] = {}
    pruned_roots: set[str] = set()
    folders: list[str] = []
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
        if git and Path(target).is_dir():
            root = os.path.abspath(target)
            asked.append(root)
            pruned_roots.add(root)
            folders.append(root)
            continue
        if changed is not None and Path(target).is_dir():
            root = os.path.abspath(target)
            pruned_roots.add(root)
            folders.append(root)
            told.append(root)
            continue
        root, found = discover(Path(target))
        if Path(target).is_dir():
            pruned_roots.add(str(root))
            folders.append(str(root))
        for candidate in found:
            candidates[file_key(candidate.root, candidate.path)] = candidate
    configs, bad_configs = sites.read_configs(folders)
    report.rejected.extend(bad_configs)

    # Parsed files pile up as long-lived objects until the merge: no cyclic GC
    # rescanning them meanwhile (see paused_gc).
    with store.lock(timeout=lock_timeout, on_wait=on_lock_wait), paused_gc():
        snapshot = store.read()
        changed = list(changed or ())
        recorded = snapshot.meta.get("git")
        for root in asked:
            paths = _ask_git(snapshot, root)
            if paths is None:
                for candidate in discover(Path(root))[1]:
                    candidates[file_key(candidate.root, candidate.path)] = candidate
            else:
                told.append(root)
                changed += paths
        assumed = _told(snapshot, told, changed, candidates)
        report.files_seen = len(candidates)
        known = snapshot.meta.get("sites")
        if known is None and snapshot.files:
            held = sites.held_configs((entry["root"] for entry in snapshot.files.values()), configs)
            configs = {**held, **configs}
        registered = sites.register(known or {}, configs)
        prefixes = sites.prefixes(registered)
        if prefixes:
            candidates = {key: replace(c, id_prefix=prefixes[c.root]) if c.root in prefixes else c
                          for key, c in candidates.items()}
        _apply(snapshot, candidates, pruned_roots if prune else set(), report, workers, progress,
               options, strict, prefixes, assumed)
        snapshot.meta["sites"] = registered
        if registered != (known or {}) or snapshot.meta.get("git") != recorded:
            report.written = True
        report.empty = _empty_folders(snapshot, candidates, pruned_roots, report)
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


def _ask_git(snapshot: Snapshot, root: str) -> list[str] | None:
    """The paths git says may have changed in the work tree at ``root``
    since its last load with ``git``, or None: look at every file. Notes
    in the meta what to ask from next time (a commit, and what was not
    committed)."""
    now = gitstate.state(root)
    recorded = (snapshot.meta.get("git") or {}).get(root)
    if now is not None:
        commit, dirty = now
        snapshot.meta["git"] = {**(snapshot.meta.get("git") or {}),
                                root: {"commit": commit, "dirty": sorted(os.path.relpath(p, root) for p in dirty)}}
    if now is None or recorded is None:
        return None
    since = gitstate.changed_since(root, recorded["commit"])
    if since is None:
        return None
    return since + now[1] + [os.path.join(root, path) for path in recorded["dirty"]]


def _told(snapshot: Snapshot, roots: list[str], changed: list[str],
          candidates: dict[str, Candidate]) -> frozenset[str]:
    """Add to ``candidates`` the files of the folders ``roots`` when only
    the paths ``changed`` may have changed there: the files the store has
    of them, taken as they were (the keys returned), and what ``changed``
    names, to be looked at. A folder the store has no file of is
    discovered whole."""
    if not roots:
        return frozenset()
    known: set[str] = set()
    stored = {entry["root"] for entry in snapshot.files.values()}
    for key, entry in snapshot.files.items():
        if entry["root"] in roots:
            candidates[key] = Candidate(entry["root"], entry["path"])
            known.add(key)
    for root in roots:
        if root not in stored:
            for candidate in discover(Path(root))[1]:
                candidates[file_key(candidate.root, candidate.path)] = candidate
    for path in changed:
        path = os.path.abspath(path)
        for root in roots:
            if not (path + os.sep).startswith(root + os.sep):
                continue
            found = candidate_at(root, path)
            if os.path.isdir(path) or (found is None and not os.path.lexists(path)):
                # A folder made, moved or removed: its files as they are now,
                # and every file the store had under it.
                below = path + os.sep
                for key in [k for k in known if f"{root}/{candidates[k].path}".startswith(below)]:
                    known.discard(key)
                    if not os.path.lexists(f"{root}/{candidates[key].path}"):
                        del candidates[key]
                if os.path.isdir(path):
                    for candidate in discover(Path(path))[1]:
                        inner = candidate_at(root, os.path.join(path, candidate.path))
                        if inner is not None:
                            candidates[file_key(root, inner.path)] = inner
                continue
            if found is None:
                continue
            key = file_key(root, found.path)
            known.discard(key)
            if os.path.lexists(path):
                candidates[key] = found
            else:
                candidates.pop(key, None)  # gone: kept in the store unless pruned, as a walk would
    return frozenset(known)


def _empty_folders(snapshot: Snapshot, candidates: dict[str, Candidate], roots: set[str],
                   report: LoadReport) -> list[str]:
    """The loaded folders none of whose files gives a record or was rejected."""
    if not roots:
        return []
    given = {c.root for key, c in candidates.items() if snapshot.files.get(key, {}).get("keys")}
    rejected = {error.path for error in report.rejected}
    given.update(c.root for c in candidates.values() if c.path in rejected)
    return sorted(root for root in roots if root not in given)


def _merge_alone(result: Parsed, shared: frozenset[str] | None) -> Parsed:
    """Merge each article fragment of ``result`` that is its article's only
    one (no key in ``shared``, the articles other files describe): the
    record, its hash and sources replace the fragment's data (``alone``)."""
    if shared is None:
        return result
    for fragment in result.fragments:
        if fragment["kind"] == "article" and fragment["key"] not in shared:
            record = merge("article", [fragment])
            fragment["alone"] = (orjson.dumps(record), record["_hash"], record["sources"],
                                 file_key(record["source"]["root"], record["source"]["path"]))
            fragment["data"] = None
    return result


_shared: frozenset[str] | None = None  # in a pool worker: the `shared` of _merge_alone


_options = ParseOptions()  # in a pool worker: the load's ParseOptions


def _share(shared: frozenset[str] | None, options: ParseOptions) -> None:
    global _shared, _options
    _shared, _options = shared, options


def _parse_compact(candidate: Candidate) -> Parsed:
    """``parse`` then ``_merge_alone``, with each fragment's data as JSON
    bytes: made by the worker in parallel, sent cheaply, and a tenth of the
    memory of the dicts while every file of a large site waits to be merged."""
    result = _merge_alone(parse(candidate, _options), _shared)
    for fragment in result.fragments:
        if fragment["data"] is not None:
            fragment["data"] = orjson.dumps(fragment["data"])
    return result


def _parse_all(todo: list[Candidate], workers: int | None, progress: Progress | None,
               done_before: int, total: int, shared: frozenset[str] | None = None,
               options: ParseOptions = _options) -> list[Parsed]:
    results: list[Parsed] = []
    workers = workers or os.cpu_count() or 1
    if len(todo) >= POOL_THRESHOLD and workers > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_share,
                                 initargs=(shared, options)) as pool:
            for result in pool.map(_parse_compact, todo, chunksize=32):
                results.append(result)
                if progress:
                    progress(done_before + len(results), total)
    else:
        for candidate in todo:
            results.append(_merge_alone(parse(candidate, options), shared))
            if progress:
                progress(done_before + len(results), total)
    return results


def _parse_in_two_passes(todo: list[Candidate], files: dict[str, dict], workers: int | None,
                         progress: Progress | None,
                         options: ParseOptions) -> tuple[list[Candidate], list[Parsed]]:
    """Parse ``todo``: data files and API pages first, then front-matter
    files (each its own article). By then every other file that describes
    an article is known (parsed now, or left as it was), and an article no
    other file describes is merged by the worker that parsed its file, in
    parallel: the merge was a tenth of a 100k load, on one core, and the
    parsed files no longer wait for it beside the records it makes.
    Returns ``todo`` in the order parsed, and the results."""
    first = [c for c in todo if _is_data(c.path)]
    then = [c for c in todo if not _is_data(c.path)]
    results = _parse_all(first, workers, progress, 0, len(todo), options=options)
    # Another front-matter file can only claim the same article as a
    # duplicate, which the merge never sees (_apply step 2).
    parsing = {file_key(c.root, c.path) for c in first}
    shared = {ident for key, entry in files.items() if key not in parsing and _is_data(entry["path"])
              for kind, ident, _ in _claims(entry) if kind == "article"}
    shared.update(f["key"] for result in results for f in result.fragments if f["kind"] == "article")
    results += _parse_all(then, workers, progress, len(first), len(todo), frozenset(shared), options)
    return first + then, results


def _is_data(path: str) -> bool:
    # The tail first: nearly every path is a page's (.md), and splitext on
    # each of a large site's stored files was a tenth of a re-load's passes.
    return path[-5:].lower().endswith(_DATA_TAILS) and os.path.splitext(path)[1].lower() in DATA_SUFFIXES


def _apply(snapshot: Snapshot, candidates: dict[str, Candidate], pruned_roots: set[str],
           report: LoadReport, workers: int | None, progress: Progress | None,
           options: ParseOptions, strict: bool = False,
           prefixes: dict[str, str] | None = None, assumed: frozenset[str] = frozenset()) -> None:
    """``assumed``: keys of candidates known not to have changed (``load``'s
    ``changed``), not even looked at."""
    files = snapshot.files

    # 1. Which files may have changed: new ones, or size/mtime differ.
    todo: list[Candidate] = []
    for key, candidate in candidates.items():
        if key in assumed:
            continue
        old = files.get(key)
        now = stat(candidate)
        if old is None or now is None or (old["size"], old["mtime_ns"]) != now:
            todo.append(candidate)
    todo, parsed = _parse_in_two_passes(todo, files, workers, progress, options)
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

    removed_files = [key for key, entry in files.items()
                     if entry["root"] in pruned_roots and key not in candidates]

    # 2. Duplicate ids: a key claimed by two files of the same rank is an
    #    error in the later file; files that stay as they were keep theirs.
    # Only what changed files claim can clash: the files that stay are
    # looked through for those keys alone.
    #    Topics and organisations are shared by sites: two sites' files of
    #    one organisation describe it together, so they clash only within
    #    one folder (_scope).
    owners: dict[tuple[str, str, str | None], str] = {}
    leaving = set(changed) | set(removed_files)
    wanted = {f["key"] for result in changed.values() for f in result.fragments if f["rank"] == RANK_FILE}
    for key, entry in files.items():
        for kind, ident, rank in entry["keys"]:
            if ident in wanted and rank == RANK_FILE and key not in leaving:
                owners[_scope(kind, ident, entry["root"])] = entry["path"]
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
            affected.update((kind, ident) for kind, ident, _ in _claims(files[key]))
    for result in changed.values():
        affected.update((f["kind"], f["key"]) for f in result.fragments)

    for key in removed_files:
        del files[key]
    for key, result in changed.items():
        candidate = candidates[key]
        files[key] = {"root": candidate.root, "path": candidate.path, "size": result.size,
                      "mtime_ns": result.mtime_ns, "sha1": result.sha1, "keys": _keys(result)}
        _set_notes(files[key], result)

    fragments: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for result in changed.values():
        for fragment in result.fragments:
            fragments[(fragment["kind"], fragment["key"])].append(fragment)
        result.fragments = []  # now only in `fragments`, freed entity by entity below
    named = {ident for _, ident in affected}  # a string test first: no tuple per claim
    helpers = [key for key, entry in files.items() if key not in changed
               and any(claim[1] in named and (claim[0], claim[1]) in affected for claim in entry["keys"])]
    for key, result in zip(helpers, _parse_all([_candidate(files[k], prefixes) for k in helpers],
                                                 workers, None, 0, len(helpers), options=options)):
        if not result.error and result.sha1 == files[key]["sha1"]:
            _set_notes(files[key], result)  # an API item goes stale when its file goes
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
            record = merge(kind, _with_data(parts, candidates))
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

    seen: dict[str, set[str]] = defaultdict(set)  # kind -> ids the loaded files give
    rejected = {error.path for error in report.rejected}
    for key in candidates:
        entry = files.get(key)
        if entry is not None:
            notes = entry.get("notes")
            stale = set()
            if notes is not None and entry["path"] not in rejected:
                stale = _report_notes(entry, notes, report, strict)
            for kind, ident, _ in entry["keys"]:
                if ident not in stale:
                    seen[kind].add(ident)
    for kind, idents in seen.items():
        report.unchanged[kind] = max(0, len(idents) - report.added[kind] - report.updated[kind])
    if removed_files or changed:
        report.written = True


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


def _report_notes(entry: dict, notes: dict, report: LoadReport, strict: bool) -> set[str]:
    """Add a stored file's notes to ``report``; the ids of its stale items."""
    path = entry["path"]
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


def _with_data(parts: list[dict], candidates: dict[str, Candidate]) -> list[dict]:
    """``parts`` with the data of any fragment merged alone by its worker,
    parsed again: another fragment of its article came up after all (which
    the two passes rule out; kept so a merge can never lose a file)."""
    if all(part["data"] is not None for part in parts):
        return parts
    found = []
    for part in parts:
        if part["data"] is None:
            again = parse(candidates[part["alone"][3]])
            part = next(f for f in again.fragments if (f["kind"], f["key"]) == (part["kind"], part["key"]))
        found.append(part)
    return found


def _candidate(entry: dict, prefixes: dict[str, str] | None = None) -> Candidate:
    return Candidate(entry["root"], entry["path"], id_prefix=(prefixes or {}).get(entry["root"], ""))
