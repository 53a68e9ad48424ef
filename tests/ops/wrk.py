"""Debian's wrk, driven for the operations tests (graceful shutdown, the
replicas behind HAProxy): POST one body for a while, return what it counted."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("wrk.lua")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is missing (make wrk): the operations tests cannot run")
        pytest.skip("wrk is missing (make wrk)")
    return found


def start(url: str, body: dict, seconds: float, workdir: Path, connections: int = 16,
          threads: int = 2) -> subprocess.Popen:
    """wrk in the background; ``result`` reads its counts when it is done."""
    body_file = workdir / "wrk-body.json"
    body_file.write_text(json.dumps(body), encoding="utf-8")
    return subprocess.Popen(
        [wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
         "--timeout", "10s", "-s", str(SCRIPT), url],
        env={**os.environ, "WRK_BODY": str(body_file)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


def result(process: subprocess.Popen, timeout: float) -> dict:
    out, _ = process.communicate(timeout=timeout)
    for line in out.splitlines():
        if line.startswith("WRK "):
            return json.loads(line[4:])
    raise AssertionError(f"wrk printed no summary:\n{out}")
