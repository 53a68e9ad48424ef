"""Measure what the planner's indexes (store/indexes.py) cost a server and
the image build: their resident memory against a server's, and their
build and pickling time against the image's build.

    flock /tmp/newsgraph-bench.lock .venv/bin/python scripts/index_memory.py STORE

STORE is a loaded store (e.g. the benchmark's store-100k.json). The model is
built as the image build makes it (store/image.py: without details), then
pickled and loaded again as a server loads an image; the indexes' memory is
what loading a second copy of their pickle adds to the process's resident
set, and the facet tallies' (store/tallies.py) the same for theirs. Each
timing (CPU seconds of this process) but the store read and the model
build is the median of three.
"""
import copy
import gc
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store.db import Store  # noqa: E402
from store.indexes import TALLIED, Indexes  # noqa: E402
from store.readmodel import ReadModel  # noqa: E402
from store.tallies import DIMENSIONS, Dimension, Tallies, stride_for  # noqa: E402


def resident_mb() -> float:
    """The process's private resident memory (RssAnon), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


def timed(make, rounds: int = 3):
    took, made = [], None
    for _ in range(rounds):
        gc.collect()
        # CPU time, not wall: on a shared machine the wall time of each step
        # carries what else ran then, and the figure is a ratio of steps.
        began = time.process_time()
        made = make()
        took.append(time.process_time() - began)
    return statistics.median(took), made


def without_articles(indexes: Indexes) -> Indexes:
    """The indexes without their articles (``by_num``), which the model holds anyway."""
    shallow = copy.copy(indexes)
    shallow.by_num = None
    return shallow


def load(work: str) -> None:
    """In a fresh process: each part, then the image as a server loads it."""
    found, kept = {}, []
    # The parts first, while the process has freed nothing it could reuse.
    for name in ("indexes", "tallies", "server"):
        gc.collect()
        before = resident_mb()
        with open(f"{work}/{name}", "rb") as handle:
            kept.append(pickle.load(handle))
        gc.collect()
        found[name] = resident_mb() - before
    print(json.dumps(found))


def main(path: str) -> None:
    read, snapshot = timed(lambda: Store(path).read(), rounds=1)
    built, model = timed(lambda: ReadModel(snapshot, details=False), rounds=1)
    del snapshot
    articles = model.all_articles
    indexes_s, _ = timed(lambda: Indexes(articles))
    indexes = model.indexes

    def tallies():
        dimensions = {name: Dimension(name, articles, len(indexes.by_num)) for name in DIMENSIONS}
        stride = stride_for(len(articles))
        return {order: Tallies(indexes.rankings[order].nums, dimensions, indexes.visible, stride)
                for order in TALLIED}

    tallies_s, _ = timed(tallies)
    pickle_s, image = timed(lambda: pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    parts = {"indexes": without_articles(indexes), "tallies": (indexes.dimensions, indexes.tallies)}
    pickled = {name: pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL) for name, part in parts.items()}
    pickled_s = {name: timed(lambda p=part: pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL))[0]
                 for name, part in parts.items()}
    size = len(articles)
    del model, indexes, parts, articles
    with tempfile.TemporaryDirectory() as work:
        for name, data in (("server", image), *pickled.items()):
            with open(f"{work}/{name}", "wb") as handle:
                handle.write(data)
        resident = json.loads(subprocess.run([sys.executable, __file__, "--load", work], check=True,
                                             capture_output=True, text=True).stdout)
    image_s = read + built + pickle_s  # an image build: the store read, the model built and pickled
    print(f"{path}: {size} articles; CPU seconds: store read in {read:.2f} s, model built in {built:.2f} s, "
          f"pickled in {pickle_s:.2f} s "
          f"({len(image) / 1e6:.0f} MB)")
    print(f"indexes: built in {indexes_s:.2f} s, pickled in {pickled_s['indexes']:.2f} s "
          f"({len(pickled['indexes']) / 1e6:.0f} MB): {100 * (indexes_s + pickled_s['indexes']) / image_s:.1f}% "
          f"of the image build, which they grow by "
          f"{100 * (indexes_s + pickled_s['indexes']) / (image_s - indexes_s - pickled_s['indexes']):.0f}%")
    print(f"  of which facet tallies: built in {tallies_s:.2f} s, pickled in {pickled_s['tallies']:.2f} s "
          f"({len(pickled['tallies']) / 1e6:.1f} MB): "
          f"{100 * (tallies_s + pickled_s['tallies']) / (image_s - tallies_s - pickled_s['tallies']):.1f}% "
          f"growth of the image build")
    server_mb = resident["server"]
    print(f"resident: the model loaded from its image {server_mb:.0f} MB; indexes {resident['indexes']:.0f} MB "
          f"({100 * resident['indexes'] / server_mb:.1f}%), of which tallies {resident['tallies']:.1f} MB "
          f"({100 * resident['tallies'] / server_mb:.1f}%)")


if __name__ == "__main__":
    if sys.argv[1] == "--load":
        load(sys.argv[2])
    else:
        main(sys.argv[1])
