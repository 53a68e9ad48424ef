"""What a load says it did (``LoadReport``), and the notes a file's entry
keeps so that a load that does not parse it again says the same."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from loaders.errors import LoadError
from loaders.parse import RANK_API, Parsed

from .changes import walk_order
from .filetable import FileTable

KINDS = ("article", "topic", "provider")


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


def seen(files: FileTable, present: set[str], rejected: set[str], report: LoadReport,
         strict: bool) -> dict[str, int]:
    """How many ids of each kind the loaded files (``present``) give, but
    those only their stale API items name; adds the files' notes to
    ``report``. When the load holds every file of the store, the count is
    the files' index's, without a pass over them."""
    stale_of: dict[str, set[str]] = {}
    for key in sorted(files.noted() & present, key=walk_order):
        path = key.partition("\0")[2]
        if path not in rejected:
            stale = report_notes(path, files.notes_of(key), report, strict)
            if stale:
                stale_of[key] = stale
    if files.keys_view() <= present:
        claimed = files.claimed_counts()
        counts = {kind: claimed.get(kind, 0) for kind in KINDS}
        unseen = {(kind, ident) for stale in stale_of.values() for ident in stale for kind in KINDS
                  if files.claimers(kind, ident)
                  and all(ident in stale_of.get(key, ()) for key in files.claimers(kind, ident))}
        for kind, _ in unseen:
            counts[kind] -= 1
        return {kind: count for kind, count in counts.items() if claimed.get(kind)}
    seen: dict[str, set[str]] = defaultdict(set)  # kind -> ids the loaded files give
    for key in present:
        if key in files:
            stale = stale_of.get(key, ())
            for kind, ident, _ in files.claims_of(key):
                if ident not in stale:
                    seen[kind].add(ident)
    return {kind: len(idents) for kind, idents in seen.items()}


def claims(result: Parsed) -> list:
    """What a file claims: its fragments' entities, and the articles of its
    stale API items, so the file is read again when such an article changes
    (its collection file comes back, or goes)."""
    keys = {(f["kind"], f["key"], f["rank"]) for f in result.fragments}
    keys.update(("article", ident, RANK_API) for ident, _ in result.stale)
    return sorted(keys)


def set_notes(entry: dict, result: Parsed) -> None:
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


def report_notes(path: str, notes: dict, report: LoadReport, strict: bool) -> set[str]:
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
