"""Processes the benchmark starts: servers pinned to a core, the load
driver on the other core, and their resident memory."""
from __future__ import annotations

import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVER_CORE = "0"
CLIENT_CORE = "1"


def compile_bytecode() -> None:
    """Compile the project's modules to bytecode, as installing a package
    does: with PYTHONDONTWRITEBYTECODE set (some sandboxes and containers
    set it) every newsgraph process measured would compile them again from
    source, a quarter of a second of each fresh load or start-up that no
    installed copy pays."""
    import compileall

    for package in ("loaders", "store", "graph", "newsgraph"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def pinned(cmd: list[str], core: str) -> list[str]:
    """Pin to one core when the machine has two or more and taskset exists."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", core, *cmd]
    return cmd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (taskset execs in place)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A server process on 127.0.0.1; ``started`` is the seconds from spawn
    to the first good /readyz answer (the server listens, and /healthz
    answers, before the store is read)."""

    def __init__(self, cmd: list[str], port: int, log: Path, timeout: float = 600) -> None:
        self.port = port
        self.log = open(log, "wb")
        began = time.perf_counter()
        self.proc = subprocess.Popen(pinned(cmd, SERVER_CORE), stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=ROOT, start_new_session=True)
        deadline = began + timeout
        while True:
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {log}")
            if _healthy(port):
                break
            if time.perf_counter() > deadline:
                self.stop()
                raise RuntimeError(f"server not up after {timeout} s; see {log}")
            time.sleep(0.01)
        self.started = time.perf_counter() - began

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/readyz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def newsgraph_server(db: Path, log: Path, *, response_cache_mb: int, reload_interval: float = 0,
                     answer_parts_mb: int | None = None) -> Server:
    """``newsgraph serve`` as a user runs it (uvicorn picks uvloop and
    httptools when installed), quiet, with the file watcher off unless
    ``reload_interval`` says how often to look for a new version, and the
    remembered parts of answers as ``answer_parts_mb`` says (None: the
    server's default)."""
    port = free_port()
    return Server([str(BIN / "newsgraph"), "serve", "--db", str(db), "--port", str(port),
                   "--log-level", "info" if reload_interval else "warning",
                   "--reload-interval", str(reload_interval),
                   "--response-cache-mb", str(response_cache_mb),
                   *(["--answer-parts-mb", str(answer_parts_mb)] if answer_parts_mb is not None else [])],
                  port, log)


def baseline_server(log: Path) -> Server:
    port = free_port()
    return Server([str(BIN / "python"), "-m", "bench.baseline", "--port", str(port)], port, log)


def put_bytes(server: Server, payload: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("PUT", "/_bytes", payload)
    conn.getresponse().read()
    conn.close()


def drive(url: str, bodies_file: Path, duration: float, driver: str, connections: int = 2) -> dict:
    """One measurement: wrk (or the Python generator) on the client core.
    A template's values are drawn from a new seed each time, so no
    measurement repeats the values of another."""
    seed = str(random.SystemRandom().randrange(1, 2**31))
    if driver == "wrk":
        # A slow request (a fresh filter over a large collection) is a
        # figure, not an error: the timeout is generous.
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{round(duration)}s", "--timeout", "120s",
               "-s", str(ROOT / "bench" / "wrk.lua"), url]
        env = {**os.environ, "BENCH_BODIES": str(bodies_file), "BENCH_SEED": seed}
    else:
        cmd = [sys.executable, "-m", "bench.pyload", url, str(bodies_file),
               "--connections", str(connections), "--duration", str(duration), "--seed", seed]
        env = None
    began = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(pinned(cmd, CLIENT_CORE), capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=duration + 300)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH "):
            result = json.loads(line[6:])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            # The driver's own CPU per request (taskset execs it in place, so
            # it is the child waited for): whether it can keep up.
            spent = ended.ru_utime + ended.ru_stime - began.ru_utime - began.ru_stime
            result["driver_cpu_us"] = spent / max(1, result["requests"]) * 1e6
            return result
    raise RuntimeError(f"{cmd[0]} gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")


def measure(server: Server, bodies_file: Path, duration: float, driver: str, what: str) -> dict:
    """One measurement of ``server`` (as ``drive``), with the server's CPU
    time per request (``cpu_us``); any error or non-2xx answer fails it."""
    cpu = server.cpu_seconds()
    result = drive(server.url, bodies_file, duration, driver)
    result["cpu_us"] = (server.cpu_seconds() - cpu) / max(1, result["requests"]) * 1e6
    if result["non2xx"] or result["socket_errors"]:
        raise RuntimeError(f"{what}: {result}")
    return result
