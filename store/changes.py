"""Finding what changed: the files a load looks at, and those it takes as
they were, at a cost that grows with what changed.

A load knows the files of its folders three ways (docs/store.md "Finding
what changed"):

- walked (``scan``): every file is stat'ed, and only one whose size or
  mtime differs from what the store recorded is looked at;
- told (``told``, ``load --watch``): the paths the system's file events
  name are looked at; every other file the store has of the folder is
  taken as it was, without a stat;
- asked (``ask_git``, ``load --git``): git names the paths that may have
  changed, which are then taken as told.

Either way a load ends with ``Found``: the candidates to look at, and the
keys of every file the loaded folders hold now, looked at or not.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from loaders import git as gitstate
from loaders.files import Candidate, candidate, candidate_at, discover, walk

from .filetable import FileTable, file_key


@dataclass
class Found:
    candidates: dict[str, Candidate] = field(default_factory=dict)  # to look at, by file key
    present: set[str] = field(default_factory=set)  # every file the loaded folders hold now
    differ: set[str] = field(default_factory=set)  # candidates a walk found changed: no second stat

    def add(self, found: Candidate) -> None:
        key = file_key(found.root, found.path)
        self.candidates[key] = found
        self.present.add(key)


def scan(files: FileTable, root: str, found: Found) -> None:
    """Walk the folder ``root``: each file whose size and mtime are not
    those ``files`` recorded is a candidate; every one is present."""
    root, listed = walk(Path(root))
    keys, differ = files.differing(root + "\0", listed)
    found.present.update(keys)
    # In the order a load reports files in (a walk lists them unsorted).
    differ.sort(key=lambda at: walk_order(keys[at]))
    for at in differ:
        each = candidate(root, listed[at][0])
        if each.bad_name:  # keyed by its name escaped, as its Candidate is
            found.present.discard(keys[at])
        found.add(each)
        found.differ.add(file_key(each.root, each.path))


def told(files: FileTable, roots: list[str], changed: list[str], found: Found) -> None:
    """The files of the folders ``roots`` when only the paths ``changed``
    may have changed there: the files ``files`` has of them are present,
    as they were, and what ``changed`` names is looked at. A folder the
    store has no file of is walked whole."""
    if not roots:
        return
    stored = files.roots()
    for root in roots:
        if root in stored:
            found.present |= files.in_root(root)
        else:
            for each in discover(Path(root))[1]:
                found.add(each)
    for path in changed:
        path = os.path.abspath(path)
        for root in roots:
            if not (path + os.sep).startswith(root + os.sep):
                continue
            at = candidate_at(root, path)
            if os.path.isdir(path) or (at is None and not os.path.lexists(path)):
                # A folder made, moved or removed: its files as they are now,
                # and every file the store had under it.
                below = path + os.sep
                for key in [k for k in files.in_root(root) if f"{root}/{k[len(root) + 1:]}".startswith(below)]:
                    if os.path.lexists(f"{root}/{key[len(root) + 1:]}"):
                        found.candidates[key] = Candidate(root, key[len(root) + 1:])
                    else:
                        found.present.discard(key)
                        found.candidates.pop(key, None)
                if os.path.isdir(path):
                    for each in discover(Path(path))[1]:
                        inner = candidate_at(root, os.path.join(path, each.path))
                        if inner is not None:
                            found.add(inner)
                continue
            if at is None:
                continue
            key = file_key(root, at.path)
            if os.path.lexists(path):
                found.add(at)
            else:
                # Gone: kept in the store unless pruned, as a walk would.
                found.candidates.pop(key, None)
                found.present.discard(key)


def ask_git(meta: dict, root: str) -> list[str] | None:
    """The paths git says may have changed in the work tree at ``root``
    since its last load with ``git``, or None: look at every file. Notes
    in ``meta`` what to ask from next time (a commit, and what was not
    committed)."""
    now = gitstate.state(root)
    recorded = (meta.get("git") or {}).get(root)
    if now is not None:
        commit, dirty = now
        meta["git"] = {**(meta.get("git") or {}),
                       root: {"commit": commit, "dirty": sorted(os.path.relpath(p, root) for p in dirty)}}
    if now is None or recorded is None:
        return None
    since = gitstate.changed_since(root, recorded["commit"])
    if since is None:
        return None
    return since + now[1] + [os.path.join(root, path) for path in recorded["dirty"]]


def walk_order(key: str) -> tuple:
    """Where a file comes in a walk of its folder (files of a folder before
    its subfolders', each by name): the order a load reports files in."""
    root, _, path = key.partition("\0")
    parts = path.split("/")
    return (root, [(1, part) for part in parts[:-1]] + [(0, parts[-1])])
