"""Load a generated site into a store in growing steps, as a site that grew.

One `newsgraph load` of a whole 1M-article site holds every parsed file
before merging and needs more memory than a 24 GB machine has (see
bench/README.md). A site that grows is loaded a part at a time, and that is
how a large store comes to be: this makes such a store from a generated site
by hard-linking its collection folders, a slice per step, into a second
site folder and loading that folder after each step. Every step is an
ordinary incremental `newsgraph load`; the final store holds the same
records as one load of the whole site would.

    python -m bench.grow SITE STORE [--steps 10] [--articles 1000000]

With ``--articles``, a SITE folder that is not a finished generated site is
generated first (as `python -m bench run` does: same seed, same bytes).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from store.db import Store


def grow(site: Path, store: Path, steps: int) -> list[dict]:
    grown = site.with_name(site.name + "-grown")
    shutil.rmtree(grown, ignore_errors=True)
    grown.mkdir()
    # Everything but the article folders arrives with the first step.
    news = sorted(p for p in (site / "_news").iterdir() if p.is_dir())
    for entry in site.iterdir():
        if entry.name != "_news":
            if entry.is_dir():
                shutil.copytree(entry, grown / entry.name, copy_function=os.link)
            else:
                os.link(entry, grown / entry.name)
    (grown / "_news").mkdir()
    for loose in (site / "_news").iterdir():
        if loose.is_file():
            os.link(loose, grown / "_news" / loose.name)
    Store(store).remove()
    results = []
    per_step = -(-len(news) // steps)
    for step in range(steps):
        for folder in news[step * per_step:(step + 1) * per_step]:
            shutil.copytree(folder, grown / "_news" / folder.name, copy_function=os.link)
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "newsgraph", "load", "--db", str(store), str(grown)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            raise SystemExit(f"step {step + 1} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
        row = {"step": step + 1, "seconds": seconds, "store_gb": Store(store).size_on_disk() / 1e9,
               "peak_rss_gb_so_far": peak}
        results.append(row)
        print(f"step {row['step']}/{steps}: {seconds:.1f} s, store {row['store_gb']:.2f} GB, "
              f"largest load process so far {peak:.1f} GB", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("store", type=Path)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--articles", type=int, default=None,
                        help="generate SITE with this many articles unless it is already there")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    if args.articles and not (args.site / ".complete").exists():
        from .sitegen import generate_site
        generate_site(args.site, args.articles, seed=1, overwrite=True)
        (args.site / ".complete").write_text(str(args.articles))
    grow(args.site, args.store, args.steps)
    print(f"total {time.perf_counter() - began:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
