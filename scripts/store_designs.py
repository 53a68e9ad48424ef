"""Measure the two store designs of docs/store.md on a loaded store:
segments with a manifest against a base file with a journal.

    flock /tmp/newsgraph-bench.lock .venv/bin/python scripts/store_designs.py STORE WORKDIR

STORE is a store of one segment (e.g. the benchmark's 100k store, just
loaded); it is copied to WORKDIR, where everything is written.
"""
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store import compaction  # noqa: E402
from store.db import Store  # noqa: E402
from store.storage import AtomicOrjsonStorage  # noqa: E402
from tests.stores import copy_store  # noqa: E402

SRC, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
W = os.path.join(WORK, "s.json")

def med(f, n=5):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts), max(ts)

shutil.rmtree(W + ".d", ignore_errors=True)
copy_store(SRC, W)
os.system(f"sync; cat {W}.d/* > /dev/null")
store = Store(W)
t = time.perf_counter(); snap = store.read(); read_base = time.perf_counter() - t
print(f"read base (1 segment, {len(snap.articles)} articles): {read_base:.2f} s")
key = sorted(snap.articles)[50000]
record = snap.articles[key]
fkey = next(iter(snap.files))

# 1. segments: one changed article as a segment + manifest swap
def publish_one():
    s = snap
    r = dict(record, title=record["title"] + " x", _hash=os.urandom(20).hex())
    s.articles[key] = r
    s.files.touch(fkey)
    s.seal()
    store.publish(s)
pub = []
for i in range(10):
    t = time.perf_counter(); publish_one(); pub.append(time.perf_counter() - t)
print(f"segments: publish one changed article (seal + segment + manifest, fsyncs): median {statistics.median(pub)*1000:.1f} ms (min {min(pub)*1000:.1f}, max {max(pub)*1000:.1f})")
seal = med(lambda: snap.seal())
print(f"  of which seal (data version over all hashes): {seal[0]*1000:.1f} ms")
# write of the segment alone
m = store.manifest()
print(f"  segments now: {len(m.segments)}; sizes {[s['bytes'] for s in m.segments][:3]}...")
t = time.perf_counter(); again = store.read(); read11 = time.perf_counter() - t
print(f"read base + 10 one-article segments: {read11:.2f} s (base alone {read_base:.2f} s)")

# 2. journal: append a line and fsync
J = os.path.join(WORK, "journal.jsonl")
line = orjson.dumps({"table": "articles", "num": 50001, "doc": record}) + b"\n"
def append():
    with open(J, "ab") as h:
        h.write(line); h.flush(); os.fsync(h.fileno())
ap = med(append, 10)
print(f"journal: append one record + fsync: median {ap[0]*1000:.1f} ms")
# journal kept a TinyDB file: rewrite whole with k records
for k in (1, 100, 1000):
    data = {"meta": {"1": {"v": 1}}, "articles": {str(i): record for i in range(k)}}
    rw = med(lambda: AtomicOrjsonStorage(os.path.join(WORK, "journal.json")).write(data), 5)
    print(f"journal as a TinyDB file rewritten whole with {k} records: median {rw[0]*1000:.1f} ms")
lines = [line] * 1000
rp = med(lambda: [orjson.loads(l) for l in lines], 5)
print(f"journal replay of 1000 records: {rp[0]*1000:.1f} ms")

# 3. compaction: partial (the 10 small ones) and whole
m = store.manifest()
t = time.perf_counter(); compaction._merge_newest(store, m, 1); part = time.perf_counter() - t
print(f"compaction of the 10 small segments into one: {part*1000:.1f} ms; segments now {len(store.manifest().segments)}")
s2 = store.read()
t = time.perf_counter(); store.write(s2); whole = time.perf_counter() - t
print(f"compaction of everything (whole write of {len(s2.articles)} articles, no image): {whole:.2f} s; bytes {store.manifest().segments[0]['bytes']}")

# 4. plan: files and write amplification over 20,000 publishes of 8 KB onto a 760 MB base
base = store.manifest().segments[0]["bytes"]
most, amplification, wholes = compaction.replay(20000, 8192, base)
print(f"plan: 20,000 publishes of 8 KB onto {base/1e6:.0f} MB: at most {most} segments, "
      f"{amplification:.1f} bytes written per byte published, {wholes} whole rewrites")
