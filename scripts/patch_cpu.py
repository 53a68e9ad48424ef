"""The CPU a server's patch of its model takes, in process: a title edited,
an article added, the same removed, each loaded as one segment (as ``load
--watch`` does) and patched in (store/patching.py), with the model settled
out of the collector's sight after each, as a server does.

    python scripts/patch_cpu.py SITE STORE [--rounds 6]

Prints each patch's wall and CPU ms and the CPU median per kind. The site
and its store are restored at the end. Run from the checkout to measure.
"""
from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

from graph.state import read_model  # noqa: E402
from store.db import Store  # noqa: E402
from store.ingest import load  # noqa: E402
from store.patching import patch  # noqa: E402

ADDED = """---
title: "Added {n}"
excerpt: "An article the store did not have."
publishedDateTime: 2026-11-30T05:06:07Z
webUrl: "https://patch-cpu.example/{stamp}"
type: article
published: true
provider:
  name: Binary Insider
  domain: binaryinsider.com
topics:
  - Search
---
Body.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("store", type=Path)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    store = Store(args.store)
    began = time.perf_counter()
    model = read_model(store)
    gc.freeze()
    print(f"model read in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    article = next(a for a in model.all_articles if a.visible and a.source.path.endswith(".md"))
    path = Path(article.source.root) / article.source.path
    original = path.read_text(encoding="utf-8")
    added = path.with_name("zz-added-by-patch-cpu.md")
    wall: dict[str, list[float]] = {"title": [], "add": [], "remove": []}
    cpu: dict[str, list[float]] = {kind: [] for kind in wall}
    try:
        for n in range(args.rounds):
            for kind in wall:
                if kind == "title":
                    path.write_text(re.sub(r"^title:.*$", f'title: "Edited {n}"', original, count=1, flags=re.M),
                                    encoding="utf-8")
                    changed = path
                elif kind == "add":
                    added.write_text(ADDED.format(n=n, stamp=time.time_ns()), encoding="utf-8")
                    changed = added
                else:
                    added.unlink()
                    changed = added
                assert load(store, [args.site], compact=False, changed=[str(changed)], prune=True).ok
                began, used = time.perf_counter(), time.process_time()
                model = patch(model, store)
                wall[kind].append(time.perf_counter() - began)
                cpu[kind].append(time.process_time() - used)
                gc.freeze()  # as a server settles a patched version (graph/state.py)
    finally:
        path.write_text(original, encoding="utf-8")
        if added.exists():
            added.unlink()
        load(store, [args.site], compact=False, changed=[str(path), str(added)], prune=True)
    for kind in wall:
        print(f"{kind}: wall {' '.join(f'{s * 1000:.1f}' for s in wall[kind])} | cpu "
              f"{' '.join(f'{s * 1000:.1f}' for s in cpu[kind])} | cpu median {statistics.median(cpu[kind]) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
