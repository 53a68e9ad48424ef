"""Load measurements: ``newsgraph load`` against the bare libyaml rate.

The bare rate is what parsing alone costs on the same cores: every file the
loader would read, read and its YAML parsed with ``yaml.CSafeLoader`` in one
process per core, nothing else (no normalising, merging or store write).
"""
from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from loaders.files import discover

from .procs import BIN, ROOT

CHUNK = 256


def _parse_chunk(paths: list[str]) -> int:
    loader = yaml.CSafeLoader
    for path in paths:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
        if path.endswith((".yaml", ".yml")):
            yaml.load(text, Loader=loader)
            continue
        lines = text.split("\n")
        end = next((k for k in range(1, len(lines)) if lines[k].rstrip("\r") == "---"), len(lines))
        yaml.load("\n".join(lines[1:end]), Loader=loader)
    return len(paths)


def libyaml_rate(site: Path) -> tuple[int, float]:
    """(files, files per second) parsing front matter with CSafeLoader on every core."""
    root, found = discover(site)
    paths = [os.path.join(c.root, c.path) for c in found if not c.path.endswith(".json")]
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = sum(pool.map(_parse_chunk, [paths[i:i + CHUNK] for i in range(0, len(paths), CHUNK)]))
    return done, done / (time.perf_counter() - began)


def timed_load(site: Path, db: Path) -> float:
    """Seconds ``newsgraph load`` takes, as a user runs it."""
    began = time.perf_counter()
    subprocess.run([str(BIN / "newsgraph"), "load", str(site), "--db", str(db), "--quiet"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def reload_one_changed(site: Path, db: Path) -> float:
    """Seconds to load again after one article file changed; the file is
    put back afterwards (the store then lags one edit behind, which the
    next fresh load of a benchmark run does not mind)."""
    victim = min((site / "_news").rglob("*.md"))
    original = victim.read_bytes()
    try:
        victim.write_bytes(original + f"\nEdited by the benchmark at {time.time()}.\n".encode())
        return timed_load(site, db)
    finally:
        victim.write_bytes(original)
