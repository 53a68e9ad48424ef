"""The GraphQL Foundation's audit of the GraphQL-over-HTTP spec (the
`graphql-http` package's ``serverAudits``, pinned in tests/audit/) against
a real ``newsgraph serve``: every audit passes, with no warning and no
notice. ``make test`` installs the package (``make audit``)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.live_server import serve

AUDIT = ROOT / "tests" / "audit"


def _node() -> str:
    node = shutil.which("node")
    installed = (AUDIT / "node_modules" / "graphql-http" / "package.json").is_file()
    if node is None or not installed:
        missing = "node" if node is None else "the graphql-http package (make audit)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is missing: the GraphQL-over-HTTP audit cannot run")
        pytest.skip(f"{missing} is missing")
    return node


def test_the_graphql_over_http_audit_passes_whole(corpus_db):
    node = _node()
    pinned = json.loads((AUDIT / "package.json").read_text())["dependencies"]["graphql-http"]
    installed = json.loads((AUDIT / "node_modules" / "graphql-http" / "package.json").read_text())
    assert installed["version"] == pinned, "run make audit: the installed audit is not the pinned one"
    with serve("--db", corpus_db) as server:
        done = subprocess.run([node, str(AUDIT / "audit.mjs"), server.url], capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    not_ok = [r for r in results if r["status"] != "ok"]
    assert len(results) >= 61, len(results)  # every audit of the pinned release ran
    assert not_ok == [], "\n".join(f"{r['id']} {r['status']}: {r['name']} ({r['reason']})"
                                   for r in not_ok)
