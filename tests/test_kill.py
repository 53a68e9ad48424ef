"""A load or a compaction killed with SIGKILL leaves the old store or the
new one, whole, with the search index of its version. scripts/killtest.py
does the same many times on a larger site."""
from __future__ import annotations

import random

from tests.killing import Scenario


def test_a_killed_load_leaves_the_old_or_the_new_store_whole(tmp_path):
    scenario = Scenario.build(tmp_path, old_articles=600, new_articles=600)
    rng = random.Random(20210701)
    # Two kills anywhere in the load, three while the new file is written:
    # the first as soon as it appears, when only the old store can be there.
    scenario.kill_once(rng, during_write=False)
    scenario.kill_once(rng, during_write=False)
    assert scenario.kill_once(rng, during_write=True, delay=0.0) == "old"
    scenario.kill_once(rng, during_write=True)
    scenario.kill_once(rng, during_write=True)
    # Two while the files are parsed into the load's spill, and the spill
    # gone at the end: the first as the spill appears, before any of the new
    # store is written; the second at a random moment of the spill's span as
    # the scenario's own load measured it, which a quicker run may outlast
    # (the store is then whole at either version).
    assert scenario.kill_once(rng, during_write="spill", delay=0.0) == "old"
    scenario.kill_once(rng, during_write="spill")
    # Three while the search index is written, the first as it starts.
    assert scenario.kill_once(rng, during_write="index", delay=0.0) == "old"
    scenario.kill_once(rng, during_write="index")
    scenario.kill_once(rng, during_write="index")
    # A compaction of four segments, killed at three random moments.
    for _ in range(3):
        scenario.kill_compaction_once(rng)
    print(f"kill test: load {scenario.load_seconds:.2f} s, write {scenario.write_seconds:.3f} s, "
          f"index {scenario.index_seconds:.3f} s, spill {scenario.spill_seconds:.3f} s, "
          f"outcomes {scenario.outcomes}")
    scenario.finish()
