"""A real ``newsgraph serve`` in a subprocess, for the tests that need one.

It binds 127.0.0.1 on port 0 and reads the port the kernel gave from the
line the server prints once it is ready, so parallel test workers never race
for a port.
"""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

NEWSGRAPH = Path(sys.executable).with_name("newsgraph")
_LISTENING = re.compile(r"GraphiQL and the API at http://127\.0\.0\.1:(\d+)/graphql")


class LiveServer:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self.port: int | None = None
        self._ready = threading.Event()
        # Drained all along, so a chatty log can never fill the pipe and stall the server.
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            found = _LISTENING.search(line)
            if found and self.port is None:
                self.port = int(found.group(1))
                self._ready.set()
        self._ready.set()  # the process ended

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + "/graphql"

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_ready(self, timeout: float = 30.0) -> None:
        self._ready.wait(timeout)
        if self.port is None:
            raise AssertionError(f"newsgraph serve did not start (exit {self.process.poll()}):\n{self.log}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.base_url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"/readyz never answered 200:\n{self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._drainer.join(5)
        self.process.stdout.close()


@contextlib.contextmanager
def serve(*args: str, cwd: str | os.PathLike | None = None, env: dict | None = None):
    """``newsgraph serve ARGS --port 0``, ready to answer; stopped on exit."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    environment.update(env or {})
    process = subprocess.Popen(
        [str(NEWSGRAPH), "serve", *args, "--host", "127.0.0.1", "--port", "0"],
        cwd=cwd, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, bufsize=1)
    server = LiveServer(process)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
