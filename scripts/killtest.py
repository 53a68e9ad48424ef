"""SIGKILL `newsgraph load` and compactions at random moments and check the store.

    .venv/bin/python scripts/killtest.py [--kills 21] [--compactions 10] [--articles 3000] [--seed 1]

A store holding one generated site is loaded with a second one; each run is
killed at a random moment of the whole load, or while the search index of
the new version is written, or while the new segment or manifest is. Then
a store with the second site
published onto it in several segments is compacted, and each compaction
killed at a random moment. After every kill the store must read (with
TinyDB alone) as exactly the old data or exactly the new (data version,
article ids, numbers and hashes), and the search index its meta names must
be that version's, holding exactly its articles; at the end one load
completes and no temporary file, unnamed segment or index is left behind.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.killing import Scenario  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=21,
                        help="a third anywhere, a third while the index is written, a third the store")
    parser.add_argument("--compactions", type=int, default=10, help="compactions to kill")
    parser.add_argument("--articles", type=int, default=3000, help="articles in each of the two sites")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="newsgraph-kill-") as workdir:
        scenario = Scenario.build(Path(workdir), args.articles, args.articles, seed=args.seed)
        print(f"old store: {len(scenario.old[1])} articles ({scenario.old[0]}); "
              f"after the load: {len(scenario.new[1])} ({scenario.new[0]})")
        print(f"a whole load takes {scenario.load_seconds:.2f} s, writing the store {scenario.write_seconds:.3f} s, "
              f"its search index {scenario.index_seconds:.3f} s, parsing into its spill {scenario.spill_seconds:.3f} s")
        modes = [(False, "anywhere"), ("spill", "while parsing"), ("index", "while indexing"), (True, "while writing")]
        for number in range(1, args.kills + 1):
            during_write, label = modes[(number - 1) % len(modes)]
            outcome = scenario.kill_once(rng, during_write)
            print(f"kill {number:2d} ({label}): store holds the {outcome} version, with its index")
        for number in range(1, args.compactions + 1):
            outcome = scenario.kill_compaction_once(rng)
            print(f"compaction kill {number:2d}: the {'merged' if outcome == 'new' else 'unmerged'} segments, same data")
        scenario.finish()
    tally = Counter(scenario.outcomes)
    print(f"{len(scenario.outcomes)} kills: {tally['old']} left the old store, {tally['new']} the new, "
          f"{tally['compaction old']} compactions left the segments unmerged, {tally['compaction new']} merged, "
          f"0 a mix or a broken file; a final load completed and left no temporary file "
          f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
