"""Measure the search index of a loaded store: its build from scratch, a
patch of one changed article, a server opening it, and the memory a
server's search holds.

    flock /tmp/newsgraph-bench.lock .venv/bin/python scripts/search_index.py STORE WORKDIR [--rounds N] [--stored-only]

STORE is a store a load wrote (e.g. the benchmark's store-100k.json);
every index this writes goes under WORKDIR. Each step runs ``--rounds``
times (3); wall and CPU seconds are printed (tantivy indexes with two
threads, so CPU may exceed wall). ``--stored-only`` leaves out the build
from parsed records, which holds every record parsed at once (several GB
at 1M).
"""
import argparse
import gc
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store import search, searchdocs, searchindex, searchversions  # noqa: E402
from store.db import Store  # noqa: E402
from store.readmodel import ReadModel  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("store")
parser.add_argument("work")
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--stored-only", action="store_true")
args = parser.parse_args()
STORE, WORK, ROUNDS = Store(args.store), args.work, args.rounds
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)


def clock():
    return time.perf_counter(), time.process_time()


def since(started) -> str:
    return f"{time.perf_counter() - started[0]:.3f} s wall, {time.process_time() - started[1]:.3f} s CPU"


def memory() -> dict[str, int]:
    """The process's resident MB: private (RssAnon) and mapped from files (RssFile)."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("RssAnon", "RssFile")):
                name, value = line.split(":")
                found[name] = int(value.split()[0]) // 1024
    return found


snapshot = STORE.read()
for k in range(ROUNDS):
    started = clock()
    documents = list(searchdocs.record_documents(snapshot, snapshot.articles))
    made = since(started)
    started = clock()
    searchindex.write_whole(f"{WORK}/whole-{k}", iter(documents))
    print(f"from scratch {k}: {len(documents)} documents {made}; tantivy {since(started)}", flush=True)
    if k:
        shutil.rmtree(f"{WORK}/whole-{k}")
del documents
# As a load writes it: documents made while tantivy indexes those before
# them, from records read as bytes (a store's), then as a first load has
# them (parsed).
for records in ("stored",) if args.stored_only else ("stored", "parsed"):
    if records == "parsed":
        for key in snapshot.articles:
            snapshot.articles[key] = snapshot.articles[key]
    for k in range(ROUNDS):
        started = clock()
        searchindex.write_whole(f"{WORK}/streamed", searchdocs.record_documents(snapshot, snapshot.articles))
        print(f"from scratch, streamed, records {records} {k}: {since(started)}", flush=True)
        shutil.rmtree(f"{WORK}/streamed")

source = f"{WORK}/whole-0"
key = sorted(snapshot.articles)[len(snapshot.articles) // 2]
for k in range(ROUNDS):
    temp, done = f"{WORK}/patching-{k}", f"{WORK}/patched-{k}"
    started = clock()
    searchversions._link(source, temp)
    linked = since(started)
    patching = clock()
    searchindex.patch(temp, {snapshot.articles.nums[key]}, searchdocs.record_documents(snapshot, [key]))
    patched = since(patching)
    syncing = clock()
    searchversions._sync_tree(temp)
    os.rename(temp, done)
    searchversions._sync(WORK)
    print(f"one article patched {k}: {since(started)} (link {linked}; tantivy's patch and commit {patched}; "
          f"sync and rename {since(syncing)})", flush=True)
    source = done
del snapshot

model = ReadModel(STORE.read())
gc.collect()
for k in range(ROUNDS):
    started = clock()
    index = searchindex.SearchIndex.open(source, model)
    print(f"opened {k}: {since(started)}", flush=True)

import tantivy  # noqa: E402,F401  (its code's pages are no part of an index)

before = memory()
model._search_index = index
words = sorted({w for a in model.all_articles[:2000] for w in searchindex.analyze(a.title) if len(w) > 3})
rng = random.Random(17)
for _ in range(500):
    found = search.search(model.public, rng.choice(words), None)
    found.page(10)
    found.total
gc.collect()
after = memory()
print("search's resident MB after 500 searches:", {k: after[k] - before[k] for k in after},
      "index MB on disk:", sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(source) for f in fs) >> 20)
