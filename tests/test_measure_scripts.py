"""The measurement scripts of bench/README.md's 1M figures run and report
what they say: scripts/peakmem.py (a command's peak memory, stopped at a
limit) and scripts/model_memory.py (the model's, the indexes' and
search's memory), on small inputs."""
from __future__ import annotations

import json
import subprocess
import sys
import time

from store.db import Store

from conftest import ROOT

PYTHON = sys.executable


def _peakmem(*args: str) -> dict:
    out = subprocess.run([PYTHON, str(ROOT / "scripts" / "peakmem.py"), *args], capture_output=True,
                         text=True, timeout=60)
    line = next(line for line in out.stdout.splitlines() if line.startswith("PEAKMEM "))
    return json.loads(line[len("PEAKMEM "):])


def test_peakmem_reports_the_peak_of_the_command_and_its_children():
    # The memory is held by a child of the command: the tree is summed.
    child = "import time; b = bytearray(150 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    found = _peakmem("--every", "0.1", "--", PYTHON, "-c", parent)
    assert found["returncode"] == 0 and not found["stopped_at_limit"]
    assert 0.14 <= found["peak_tree_rss_gb"] < 1.0
    assert found["peak_machine_used_gb"] > 0


def test_peakmem_stops_a_command_past_the_machine_limit():
    began = time.perf_counter()
    found = _peakmem("--limit-gb", "0", "--every", "0.1", "--", PYTHON, "-c", "import time; time.sleep(30)")
    assert found["stopped_at_limit"] and found["returncode"] != 0
    assert time.perf_counter() - began < 20


def test_model_memory_measures_the_model_its_indexes_and_search(corpus_db, capsys):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import model_memory
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert model_memory.main([corpus_db, "--searches", "20"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("MEMORY "))
    found = json.loads(line[len("MEMORY "):])
    articles = len(Store(corpus_db).read().articles)
    assert found["articles"] <= articles and found["articles"] > 0
    assert found["model"]["private_mb"] > 0
    assert set(found["indexes"]["parts_private_mb"]) == {"words", "rankings", "postings", "rest"}
    assert found["search"]["searches"] == 20 and found["search"]["index_mb_on_disk"] > 0
