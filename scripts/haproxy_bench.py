"""Throughput through HAProxy and three replicas, against one replica direct.

    flock /tmp/newsgraph-bench.lock .venv/bin/python scripts/haproxy_bench.py \\
        [--rounds 5] [--duration 10] [--connections 16] [--response-cache]

The real corpus is loaded into a temporary store; three `newsgraph serve`
replicas (one process each) serve it on loopback behind HAProxy with
deploy/haproxy.cfg (its ports replaced). wrk (bench/wrk.lua) cycles through
scripts/loadtest.py's ~1,500 distinct bodies, in alternating runs: one
replica direct, then HAProxy, and so on, and the medians are printed. The
response cache is off unless --response-cache: every request executes.
Everything runs on this machine, so the replicas, HAProxy and wrk share its
cores: the figure is HAProxy's cost and the replicas' spread on one machine,
not what replicas on machines of their own would add up to.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from loadtest import bodies  # noqa: E402

from store.db import Store  # noqa: E402
from store.ingest import load  # noqa: E402
from tests.conftest import AZURE, POWER_APPS, SEED  # noqa: E402
from tests.procs import ROOT, newsgraph  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, path: str = "/readyz", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never ready")


def run_wrk(url: str, body_file: Path, duration: int, connections: int) -> dict:
    done = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s",
                           "-s", str(ROOT / "bench" / "wrk.lua"), url + "/graphql"],
                          env={**os.environ, "BENCH_BODIES": str(body_file)}, capture_output=True,
                          text=True, timeout=duration + 60)
    line = next(l for l in done.stdout.splitlines() if l.startswith("BENCH "))
    result = json.loads(line[6:])
    if result["non2xx"] or result["socket_errors"]:
        raise RuntimeError(f"failed requests: {result}")
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--response-cache", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("haproxy"):
        print("needs wrk and haproxy: make ops", file=sys.stderr)
        return 2
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="newsgraph-haproxy-") as workdir:
        work = Path(workdir)
        db = work / "corpus.json"
        assert load(Store(db), [POWER_APPS, AZURE, SEED]).ok
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
        cache = [] if args.response_cache else ["--response-cache-mb", "0"]
        try:
            ports = [free_port() for _ in range(3)]
            for port in ports:
                processes.append(subprocess.Popen(
                    newsgraph("serve", "--db", str(db), "--port", str(port), "--log-level", "warning",
                              "--reload-interval", "0", "--access-log", "off", *cache),
                    env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL))
            front = free_port()
            config = (ROOT / "deploy" / "haproxy.cfg").read_text()
            config = config.replace("127.0.0.1:8080", f"127.0.0.1:{front}")
            for port, default in zip(ports, (8001, 8002, 8003)):
                config = config.replace(f"127.0.0.1:{default}", f"127.0.0.1:{port}")
            (work / "haproxy.cfg").write_text(config)
            for port in ports:
                wait_ready(f"http://127.0.0.1:{port}")
            processes.append(subprocess.Popen(["haproxy", "-db", "-f", str(work / "haproxy.cfg")],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            direct, through = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{front}"
            time.sleep(2)  # HAProxy's first checks
            wait_ready(through, "/healthz")
            body_file = work / "bodies.ndjson"
            body_file.write_bytes(b"\n".join(bodies(direct)) + b"\n")
            run_wrk(direct, body_file, 3, args.connections)  # warm-up
            run_wrk(through, body_file, 3, args.connections)
            results: dict[str, list[dict]] = {"direct": [], "haproxy": []}
            for _ in range(args.rounds):
                results["direct"].append(run_wrk(direct, body_file, args.duration, args.connections))
                results["haproxy"].append(run_wrk(through, body_file, args.duration, args.connections))
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(30)
    summary = {}
    for name, runs in results.items():
        summary[name] = {"rps": statistics.median(r["rps"] for r in runs),
                         "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
                         "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
                         "runs_rps": [round(r["rps"]) for r in runs]}
    summary["ratio"] = summary["haproxy"]["rps"] / summary["direct"]["rps"]
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
