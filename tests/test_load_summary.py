"""What `newsgraph load` says: the summary's counts (articles public and
hidden, templates, files not news data, stale API items, warnings,
rejected files) and its exit codes, on sites written here."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from newsgraph.cli import EXIT_EMPTY, EXIT_REJECTED
from store.db import Store
from tests.procs import newsgraph
from tests.test_site_shapes import write_site


def _load(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(newsgraph("load", *args), capture_output=True, text=True, timeout=120)


def test_the_summary_counts_each_kind_of_file(tmp_path):
    site = write_site(tmp_path / "site")
    (site / "_news" / "fog.md").write_text("---\ntitle: \"Fog \u0097 again\"\n---\n", encoding="utf-8")
    (site / "_news" / "broken.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    db = tmp_path / "news.json"
    result = _load(str(site), "--db", str(db))
    assert result.returncode == EXIT_REJECTED, result.stderr
    out = re.sub(r"\s+", " ", result.stdout)
    assert "articles in the store: 4 public, 2 hidden (unpublished or removed)" in out
    assert "skipped: 2 templates, 7 files not news data" in out
    assert "stale API items: 1 (1 collection file gone)" in out and "warnings: 1" in out and "rejected files: 1" in out
    err = result.stderr.splitlines()
    assert "warning _news/fog.md:2: U+0097 is a control character YAML refuses; read as '—'" in err
    assert any(line.startswith("stale _news/2020-12-01-gone-from-the-site.md: gone, still listed by 1 API file")
               for line in err)
    assert any(line.startswith("rejected _news/broken.md:") for line in err)
    # A second load parses nothing and says the same.
    again = _load(str(site), "--db", str(db))
    assert re.sub(r"\s+", " ", again.stdout).split("rejected files")[0].split("articles in the store")[1] \
        == out.split("rejected files")[0].split("articles in the store")[1]
    assert "warning _news/fog.md:2:" in again.stderr


def test_an_empty_folder_is_an_error_unless_allowed(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("# nothing here\n", encoding="utf-8")
    db = tmp_path / "news.json"
    result = _load(str(empty), "--db", str(db))
    assert result.returncode == EXIT_EMPTY
    assert f"no news data in {empty}" in result.stderr and "--allow-empty" in result.stderr
    assert not db.exists()
    allowed = _load(str(empty), "--db", str(db), "--allow-empty")
    assert allowed.returncode == 0
    assert f"warning: no news data in {empty}" in allowed.stderr
    assert len(Store(db).read().articles) == 0


def test_serve_of_a_folder_without_news_does_not_start_and_leaves_nothing_behind(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run(newsgraph("serve", str(empty), "--port", "0"), capture_output=True, text=True,
                            timeout=60, env={**os.environ, "TMPDIR": str(scratch)})
    assert result.returncode == EXIT_EMPTY, result.stderr
    assert f"no news data in {empty}" in result.stderr and "listening" not in result.stderr
    assert list(scratch.iterdir()) == []  # its temporary store is gone


def test_exit_codes_are_documented(tmp_path):
    docs = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    assert "| `8` | `load`, `serve PATH`: a folder holds no news data" in docs
    help_text = subprocess.run(newsgraph("load", "--help"), capture_output=True, text=True).stdout
    assert "8 when a folder holds no news data" in re.sub(r"\s+", " ", help_text)
