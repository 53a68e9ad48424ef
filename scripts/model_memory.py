"""Where a server's memory goes: the read model, the planner's indexes in
it, and search.

    flock /tmp/newsgraph-bench.lock .venv/bin/python scripts/model_memory.py STORE [--searches 500]

STORE is a loaded store (e.g. the benchmark's store-1M.json). The script
reads the model as a server does (its image, patched with newer segments)
and prints, as one ``MEMORY {json}`` line, resident MB private (RssAnon)
and mapped from files (RssFile):

- ``model``: after the model is read, less what the process held before;
- ``indexes``: what building a second copy of the model's planner indexes
  (store/indexes.py: posting sets, rankings, title and excerpt words)
  adds, and what each part gives back when dropped (words, rankings,
  postings, the rest); pyroaring's sets live outside Python's allocator,
  so tracemalloc would miss them and the resident set is the measure;
- ``search``: what opening the model's search index and answering
  ``--searches`` searches of title words adds (private, and mapped from
  the index's files, which ``--workers`` processes share).

Freed memory is given back to the system (malloc_trim) before each
reading, so a figure is what stays held, not what a step touched.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.state import read_model  # noqa: E402
from store import search, searchindex, searchversions  # noqa: E402
from store.db import Store  # noqa: E402
from store.memory import release_free_memory  # noqa: E402
from store.indexes import Indexes  # noqa: E402


def resident() -> dict[str, float]:
    """The process's resident MB: private (RssAnon) and mapped from files (RssFile)."""
    gc.collect()
    release_free_memory()
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("RssAnon", "RssFile")):
                name, value = line.split(":")
                found[name.strip()] = int(value.split()[0]) / 1024
    return found


def grew(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {"private_mb": round(after["RssAnon"] - before["RssAnon"], 1),
            "mapped_mb": round(after["RssFile"] - before["RssFile"], 1)}


def indexes_share(model) -> dict:
    """The resident MB of a second copy of the model's indexes, whole and
    by part (each part's MB is what dropping it gives back)."""
    before = resident()
    began = time.perf_counter()
    copy = Indexes(a for a in model.indexes.by_num if a is not None)
    built = time.perf_counter() - began
    whole = resident()
    parts = {}
    for part in ("words", "rankings", "postings"):
        held = resident()
        setattr(copy, part, None)
        parts[part] = round(held["RssAnon"] - resident()["RssAnon"], 1)
    held = resident()
    del copy
    parts["rest"] = round(held["RssAnon"] - resident()["RssAnon"], 1)
    return {"build_s": round(built, 1), **grew(before, whole), "parts_private_mb": parts}


def search_share(store: Store, model, searches: int) -> dict:
    """What the search index adds: opened, then ``searches`` searches of
    title words drawn at random."""
    import tantivy  # noqa: F401  (its code's pages are no part of an index)
    before = resident()
    index = searchversions.open_for(store, model)
    if index is None:
        return {"error": "the store names no search index that fits"}
    model._search_index = index
    rng = random.Random(17)
    sample = rng.sample(model.all_articles, min(2000, len(model.all_articles)))
    words = sorted({w for a in sample for w in searchindex.analyze(a.title) if len(w) > 3})
    began = time.perf_counter()
    for _ in range(searches):
        found = search.search(model.public, rng.choice(words), None)
        found.page(10)
        found.total
    took = time.perf_counter() - began
    folder = Path(searchversions.folder(store)) / model.search_index
    on_disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    return {**grew(before, resident()), "searches": searches, "ms_per_search": round(took / searches * 1000, 2),
            "index_mb_on_disk": round(on_disk, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("--searches", type=int, default=500)
    args = parser.parse_args(argv)
    store = Store(args.store)
    base = resident()
    began = time.perf_counter()
    model = read_model(store)
    read = time.perf_counter() - began
    out = {"store": args.store, "articles": len(model.all_articles),
           "store_mb": round(store.size_on_disk() / 2**20, 1),
           "model": {"read_s": round(read, 1), **grew(base, resident())}}
    out["indexes"] = indexes_share(model)
    out["indexes"]["share_of_model"] = round(out["indexes"]["private_mb"] / out["model"]["private_mb"], 3)
    out["search"] = search_share(store, model, args.searches)
    print("MEMORY " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
