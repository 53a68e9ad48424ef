"""The CLI as a process, and what /proc says about processes: for the tests
and scripts that run `newsgraph` for real (servers: tests/live_server.py)."""
from __future__ import annotations

from pathlib import Path

from tests.live_server import NEWSGRAPH

ROOT = Path(__file__).resolve().parents[1]


def newsgraph(*args: str) -> list[str]:
    """A `newsgraph` command line, from this interpreter's environment."""
    return [str(NEWSGRAPH), *args]


def worker_pids(pid: int) -> list[int]:
    """The processes that serve: uvicorn's workers, or ``pid`` itself."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    # uvicorn's supervisor also starts multiprocessing's resource tracker.
    workers = [int(c) for c in children
               if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()]
    return workers or [pid]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
