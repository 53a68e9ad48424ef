"""What git says changed in a work tree: for a load told to ask it
(``newsgraph load --git``) instead of looking at every file."""
from __future__ import annotations

import os
import subprocess


def _git(root: str, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", root, *args], capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git, or a work tree too slow to answer: look at every file
    return done.stdout.decode("utf-8", "surrogateescape") if done.returncode == 0 else None


def state(root: str) -> tuple[str, list[str]] | None:
    """(the commit checked out, the paths git reports changed or untracked
    in the work tree) of the work tree whose top folder is ``root``; None
    when ``root`` is not the top of a work tree, or git cannot say."""
    top = _git(root, "rev-parse", "--show-toplevel")
    head = _git(root, "rev-parse", "--verify", "HEAD")
    if top is None or head is None or os.path.realpath(top.strip()) != os.path.realpath(root):
        return None
    status = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
    if status is None:
        return None
    dirty = [os.path.join(root, entry[3:]) for entry in status.split("\0") if len(entry) > 3]
    return head.strip(), dirty


def changed_since(root: str, commit: str) -> list[str] | None:
    """The paths of the work tree at ``root`` whose committed content
    differs between ``commit`` and the commit checked out; None when git
    cannot say (an unknown commit: history rewritten, a shallow clone)."""
    listed = _git(root, "diff", "--name-only", "-z", "--no-renames", commit, "HEAD", "--")
    if listed is None:
        return None
    return [os.path.join(root, path) for path in listed.split("\0") if path]
