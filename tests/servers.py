"""Start a real `newsgraph serve` on a free loopback port for a test."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(*args: str, cwd: str | None = None, env: dict | None = None, timeout: float = 30.0):
    """Yield the base URL of a server started with ``newsgraph serve ARGS``;
    stop it afterwards. Output goes to a file so a failure can show it."""
    port = free_port()
    log_path = os.path.join(cwd or os.getcwd(), f".server-{port}.log") if cwd else None
    log = open(log_path, "w+") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "newsgraph", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = open(log_path).read() if log_path else ""
                raise RuntimeError(f"server exited with {process.returncode}: {output[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log.close()
