"""SIGKILL a `newsgraph load` at chosen moments and check what it left: the
store file must parse and hold exactly the old data or exactly the new,
never a mix. Used by tests/test_kill.py (a few kills) and
scripts/killtest.py (many, on a larger site)."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.sitegen import generate_site
from store.db import Store
from store.ingest import load
from store.readmodel import ReadModel
from store.storage import temp_prefix
from tests.procs import newsgraph


def store_facts(path: Path) -> tuple[str, frozenset[str]]:
    """(data version, article ids), read with the standard library."""
    with open(path, encoding="utf-8") as handle:
        tables = json.load(handle)
    (meta,) = tables["meta"].values()
    return meta["dataVersion"], frozenset(r["id"] for r in tables["articles"].values())


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
        shutil.copyfile(base, reference)
        start = time.monotonic()
        wrote_at = _run_load(new_site, reference, kill_after=None)
        end = time.monotonic()
        scenario = cls(workdir, base, new_site, store_facts(base), store_facts(reference),
                       end - start, end - wrote_at)
        assert scenario.old[0] != scenario.new[0] and scenario.old[1] < scenario.new[1]
        return scenario

    def kill_once(self, rng: random.Random, during_write: bool, delay: float | None = None) -> str:
        """Start the load on a fresh copy of the old store, SIGKILL it (at a
        random moment of the whole load, or while it writes the new file,
        or ``delay`` seconds after either) and classify what the store
        holds: 'old' or 'new'."""
        target = self.workdir / "target.json"
        shutil.copyfile(self.base, target)
        if during_write:
            kill = ("write", rng.uniform(0, self.write_seconds) if delay is None else delay)
        else:
            kill = ("start", rng.uniform(0, self.load_seconds) if delay is None else delay)
        _run_load(self.new_site, target, kill_after=kill)
        facts = store_facts(target)
        assert facts in (self.old, self.new), f"store holds neither version: {facts[0]}, {len(facts[1])} ids"
        ReadModel(Store(target).read())  # and the project reads it whole
        outcome = "old" if facts == self.old else "new"
        self.outcomes.append(outcome)
        return outcome

    def finish(self) -> None:
        """After all the kills, a load completes and cleans up after them."""
        target = self.workdir / "target.json"
        _run_load(self.new_site, target, kill_after=None)
        assert store_facts(target) == self.new
        leftovers = [n for n in os.listdir(self.workdir) if n.startswith(temp_prefix(str(target)))]
        assert leftovers == [], leftovers


def _run_load(site: Path, db: Path, kill_after: tuple[str, float] | None) -> float:
    """Run `newsgraph load`; return when it started writing (monotonic)."""
    prefix = temp_prefix(str(db))
    folder = db.parent
    # Its own session, so parse workers orphaned by the kill are ours to stop.
    with subprocess.Popen(newsgraph("load", str(site), "--db", str(db), "-q"), start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        started = time.monotonic()
        wrote_at = None
        while process.poll() is None:
            now = time.monotonic()
            if wrote_at is None and any(n.startswith(prefix) for n in os.listdir(folder)):
                wrote_at = now
            if kill_after is not None:
                since, delay = kill_after
                mark = started if since == "start" else wrote_at
                if mark is not None and now - mark >= delay:
                    process.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.0005)
        process.wait(timeout=60)
        _stop_group(process.pid)
        if kill_after is None:
            assert process.returncode == 0, process.stderr.read()
        else:
            process.stderr.read()
    return wrote_at if wrote_at is not None else time.monotonic()


def _stop_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
