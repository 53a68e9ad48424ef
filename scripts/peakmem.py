"""Run a command and report the peak resident memory of its process tree,
stopping it before it takes the machine.

A 1M run shares a machine with others: ``/usr/bin/time -v`` gives only the
largest single process's peak (a load's parse workers are not summed) and
cannot stop a run that would wake the kernel's OOM killer. This samples,
every ``--every`` seconds, the resident set of the command and all its
descendants (summed) and the machine's memory in use (MemTotal -
MemAvailable); past ``--limit-gb`` of machine use it stops the command's
process group and says so.

    python scripts/peakmem.py --limit-gb 20 -- newsgraph load SITE --db STORE --quiet

Prints one line, ``PEAKMEM {json}``: seconds, exit code, peak tree RSS,
peak machine use, and whether the limit stopped it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def meminfo_kb() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields


def machine_used_gb() -> float:
    info = meminfo_kb()
    return (info["MemTotal"] - info["MemAvailable"]) / 2**20


def children_of() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree_rss_gb(root: int) -> float:
    """Resident set of ``root`` and every descendant, summed (shared pages
    counted once per process, as RSS does)."""
    kids = children_of()
    total_kb, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, ()))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            pass
    return total_kb / 2**20


def run(cmd: list[str], limit_gb: float, every: float) -> dict:
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True)
    peak_tree = peak_machine = 0.0
    stopped = False
    while proc.poll() is None:
        peak_tree = max(peak_tree, tree_rss_gb(proc.pid))
        used = machine_used_gb()
        peak_machine = max(peak_machine, used)
        if used > limit_gb and not stopped:
            print(f"peakmem: the machine uses {used:.1f} GB (> {limit_gb}); stopping {cmd[0]}",
                  file=sys.stderr)
            os.killpg(proc.pid, signal.SIGKILL)
            stopped = True
        time.sleep(every)
    return {"seconds": round(time.perf_counter() - began, 1), "returncode": proc.returncode,
            "peak_tree_rss_gb": round(peak_tree, 2), "peak_machine_used_gb": round(peak_machine, 2),
            "machine_used_before_gb": None, "stopped_at_limit": stopped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-gb", type=float, default=20.0,
                        help="stop the command when the machine's memory in use passes this")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command")
    before = machine_used_gb()
    result = run(cmd, args.limit_gb, args.every)
    result["machine_used_before_gb"] = round(before, 2)
    print("PEAKMEM " + json.dumps(result), flush=True)
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
