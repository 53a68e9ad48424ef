"""SIGKILL a `newsgraph load`, or a compaction, at chosen moments and check
what it left: the store's files must read (with TinyDB alone) as exactly
the old data or exactly the new, never a mix, and the search index its
meta names must be that version's, holding exactly its articles. Used by
tests/test_kill.py (a few kills) and scripts/killtest.py (many, on a
larger site)."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.sitegen import generate_site
from store import keyfiles, searchindex, searchversions, spill
from store.db import Store
from store.ingest import load
from store.readmodel import ReadModel
from tests.procs import newsgraph
from tests.stores import copy_store, plain_tables, segment_files

COMPACT = [sys.executable, "-m", "store.compaction"]


def store_facts(path: Path) -> tuple[str, frozenset[tuple[str, int, str]]]:
    """(data version, each article's id, number and hash), read with TinyDB."""
    tables = plain_tables(path)
    return tables["meta"]["dataVersion"], frozenset(
        (key, tables["numbers"][key], record["_hash"]) for key, record in tables["articles"].items())


def check_index(path: Path) -> str:
    """The search index the store at ``path`` names is its version's and
    holds exactly its articles, the published ones apart; returns its
    directory's name."""
    tables = plain_tables(path)
    meta = tables["meta"]
    name = meta.get(searchversions.META_KEY)
    assert name, "the store names no search index"
    folder = Path(f"{path}.search") / name
    info = json.loads((folder / "version.json").read_bytes())
    assert info["dataVersion"] == meta["dataVersion"], "the store names the index of another version"
    shown = {True: set(), False: set()}
    for key, record in tables["articles"].items():
        visible = record.get("published", True) is not False and not record.get("removed")
        shown[visible].add(tables["numbers"][key])
    held = searchindex.contents(str(folder))
    assert held.get(True, set()) == shown[True] and held.get(False, set()) == shown[False], \
        "the index does not hold the store's articles"
    return name


def check_key_files(path: Path) -> None:
    """Every segment the manifest names has the key file that fits it, and
    the project reads the same data through the key files as from the
    segments alone (store/keyfiles.py)."""
    names = plain_tables(path)["segments"]
    for name in names:
        assert keyfiles.read(os.path.join(f"{path}.d", name)) is not None, f"{name} has no key file that fits it"
    through = Store(path).read()
    tables = plain_tables(path)
    assert {key: through.articles.hash_of(key) for key in through.articles} == \
        {key: record["_hash"] for key, record in tables["articles"].items()}
    assert dict(through.articles.nums) == tables["numbers"]
    assert {key: through.files[key] for key in through.files} == tables["files"]


def _indexing(path: Path) -> bool:
    """Whether a load is writing a search index directory."""
    folder = Path(f"{path}.search")
    return folder.exists() and any(n.startswith(searchversions.TEMP) for n in os.listdir(folder))


def _spilling(path: Path) -> bool:
    """Whether a load's spill (store/spill.py: what it parsed, before it
    writes) is there."""
    return any(name.startswith(spill.prefix_of(str(path))) for name in os.listdir(path.parent))


def _writing(path: Path) -> bool:
    """Whether a temporary file of the store's (manifest or segment) is there."""
    folders = [(path.parent, path.name + ".tmp-"), (Path(f"{path}.d"), "")]
    return any(".tmp-" in name and name.startswith(prefix)
               for folder, prefix in folders if folder.exists() for name in os.listdir(folder))


@dataclass
class Scenario:
    """A store holding the old site, and the load that adds the new one."""

    workdir: Path
    base: Path
    new_site: Path
    old: tuple[str, frozenset[str]]
    new: tuple[str, frozenset[str]]
    load_seconds: float      # a whole load, start to exit
    write_seconds: float     # from the temporary file's appearance to exit
    index_seconds: float     # while the search index's temporary folder is there
    spill_seconds: float     # from the spill's appearance (parsing) to the search index's
    outcomes: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, workdir: Path, old_articles: int, new_articles: int, seed: int = 7) -> "Scenario":
        old_site = workdir / "old-site"
        new_site = workdir / "new-site"
        generate_site(old_site, old_articles, seed=seed)
        generate_site(new_site, new_articles, seed=seed + 1)
        base = workdir / "base.json"
        assert load(Store(base), [old_site]).ok
        reference = workdir / "reference.json"
        copy_store(base, reference)
        start = time.monotonic()
        marks = {}
        _run(_load_command(new_site, reference), reference, kill_after=None, marks=marks)
        end = time.monotonic()
        scenario = cls(workdir, base, new_site, store_facts(base), store_facts(reference),
                       end - start, end - marks["write"], marks["indexed"] - marks["index"],
                       marks["index"] - marks["spill"])
        assert scenario.index_seconds > 0, "the load wrote no search index"
        assert scenario.spill_seconds > 0, "the load parsed into no spill"
        assert scenario.old[0] != scenario.new[0] and scenario.old[1] < scenario.new[1]
        return scenario

    def kill_once(self, rng: random.Random, during_write: bool | str, delay: float | None = None) -> str:
        """Start the load on a fresh copy of the old store, SIGKILL it (at a
        random moment of the whole load, or while it writes the new store
        files (``during_write``), or its search index ("index"), or while
        it parses into its spill ("spill"), or ``delay`` seconds after
        either) and classify what the store holds: 'old' or 'new'."""
        target = self.workdir / "target.json"
        copy_store(self.base, target)
        since = during_write if during_write in ("index", "spill") else "write" if during_write else "start"
        span = {"index": self.index_seconds, "write": self.write_seconds, "start": self.load_seconds,
                "spill": self.spill_seconds}[since]
        kill = (since, rng.uniform(0, span) if delay is None else delay)
        _run(_load_command(self.new_site, target), target, kill_after=kill)
        facts = store_facts(target)
        assert facts in (self.old, self.new), f"store holds neither version: {facts[0]}, {len(facts[1])} ids"
        check_key_files(target)
        ReadModel(Store(target).read())  # and the project reads it whole
        check_index(target)
        outcome = "old" if facts == self.old else "new"
        self.outcomes.append(outcome)
        return outcome

    def kill_compaction_once(self, rng: random.Random, segments: int = 4) -> str:
        """SIGKILL a compaction of the old store with the new site published
        onto it in ``segments - 1`` loads (none compacted), at a random
        moment, and check that the store reads as that data, whole: 'old'
        (the segments as they were) or 'new' (merged), by its segments."""
        prepared = self.workdir / "segmented.json"
        if not prepared.exists():
            copy_store(self.base, prepared)
            files = sorted(self.new_site.rglob("*.md"))
            step = max(1, len(files) // (segments - 1))
            for first in range(0, len(files), step):
                load(Store(prepared), [str(p) for p in files[first:first + step]], compact=False)
            reference = self.workdir / "compacted-reference.json"
            copy_store(prepared, reference)
            start = time.monotonic()
            _run(COMPACT + [str(reference)], reference, kill_after=None)
            self.compact_seconds = time.monotonic() - start
            self.compacted = store_facts(reference)
            assert plain_tables(reference)["segments"] != plain_tables(prepared)["segments"], \
                "the compaction was not due"
        target = self.workdir / "compacted.json"
        copy_store(prepared, target)
        before = plain_tables(target)["segments"]
        _run(COMPACT + [str(target)], target, kill_after=("start", rng.uniform(0, self.compact_seconds)))
        assert store_facts(target) == self.compacted, "a killed compaction changed the data"
        check_key_files(target)
        Store(target).read()  # and the project reads it whole
        check_index(target)
        outcome = "old" if plain_tables(target)["segments"] == before else "new"
        self.outcomes.append(f"compaction {outcome}")
        return outcome

    def finish(self) -> None:
        """After all the kills, a load completes and cleans up after them:
        no temporary file, and no segment its manifest does not name."""
        target = self.workdir / "target.json"
        _run(_load_command(self.new_site, target), target, kill_after=None)
        assert store_facts(target) == self.new
        assert not _writing(target) and not _spilling(target), "a killed load's files are left"
        named = plain_tables(target)["segments"]
        assert sorted(os.listdir(f"{target}.d")) == segment_files(named)
        # The index it names, and at most the one before: none a kill left.
        current = check_index(target)
        left = os.listdir(f"{target}.search")
        assert current in left and len(left) <= 2 and not _indexing(target), left


def _load_command(site: Path, db: Path) -> list[str]:
    return newsgraph("load", str(site), "--db", str(db), "-q")


def _run(command: list[str], db: Path, kill_after: tuple[str, float] | None,
         marks: dict | None = None) -> float:
    """Run ``command`` (a load or a compaction of ``db``); return when it
    started writing (monotonic), and note in ``marks`` when it started
    writing ("write"), and began and ended writing its search index
    ("index", "indexed"). Without a
    kill, also wait for a compaction the load left running (it holds the
    store's lock)."""
    # Its own session, so parse workers orphaned by the kill are ours to stop.
    with subprocess.Popen(command, start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        started = time.monotonic()
        wrote_at = indexed_at = indexed_until = spilled_at = None
        while process.poll() is None:
            now = time.monotonic()
            if wrote_at is None and _writing(db):
                wrote_at = now
            if spilled_at is None and _spilling(db):
                spilled_at = now
            if _indexing(db):
                indexed_at = indexed_at or now
                indexed_until = now
            if kill_after is not None:
                since, delay = kill_after
                mark = {"start": started, "write": wrote_at, "index": indexed_at, "spill": spilled_at}[since]
                if mark is not None and now - mark >= delay:
                    process.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.0005)
        process.wait(timeout=60)
        if kill_after is None:
            assert process.returncode == 0, process.stderr.read()
            _settled(Store(db))
        _stop_group(process.pid)  # before reading: orphaned parse workers hold its stderr
        process.stderr.read()
    if marks is not None:
        marks["write"] = wrote_at if wrote_at is not None else time.monotonic()
        marks["index"] = indexed_at if indexed_at is not None else marks["write"]
        marks["spill"] = spilled_at if spilled_at is not None else marks["index"]
        marks["indexed"] = indexed_until if indexed_until is not None else marks["index"]
    return wrote_at if wrote_at is not None else time.monotonic()


def _settled(store: Store) -> None:
    """Once no load holds the store's lock and no compaction runs (one a
    load started goes on after it)."""
    with store.lock(timeout=600):
        pass
    while store.compacting():
        time.sleep(0.05)


def _stop_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
