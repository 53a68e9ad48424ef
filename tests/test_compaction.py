"""Compaction bounds the segments and what a record is rewritten, and never
changes the data (store/compaction.py). Kills during one: tests/test_kill.py."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest

from store import compaction
from store.db import Store
from store.ingest import load
from tests.conftest import AZURE, writable_copy
from tests.stores import plain_tables, segment_files


@pytest.mark.parametrize("count, size, base", [(5000, 8 << 10, 760 << 20), (5000, 8 << 10, 64 << 20),
                                               (300, 1 << 20, 100 << 20)])
def test_a_stream_of_publishes_keeps_few_segments_and_rewrites_each_byte_a_few_times(count, size, base):
    most, amplification, _ = compaction.replay(count, size, base)
    assert most <= compaction.MAX_SEGMENTS + 1
    # Each merge at least doubles what it merges: a byte is rewritten at
    # most about log2 of how many publishes it has seen merged.
    assert amplification <= math.log2(count) + 2, amplification


def test_the_oldest_segment_is_rewritten_only_when_the_newer_ones_add_up_to_it():
    _, _, wholes = compaction.replay(5000, 8 << 10, 760 << 20)
    assert wholes == 0  # 40 MB published onto 760 MB
    _, _, wholes = compaction.replay(5000, 8 << 10, 32 << 20)  # 40 MB onto 32 MB
    assert 1 <= wholes <= 2


@pytest.fixture
def segmented(tmp_path, monkeypatch):
    """A store of AZURE in four segments: the base, one with an article
    edited and one added, one with the added one removed and a base one
    removed, one with another edit. No store is small here: merges follow
    the plan."""
    monkeypatch.setattr(compaction, "SMALL_STORE_BYTES", 0)  # no store is small: merges by plan
    site = writable_copy(AZURE, tmp_path / "site")
    store = Store(tmp_path / "db.json")
    news = sorted((site / "_news").glob("*.md"))
    assert load(store, [site], compact=False).ok
    news[0].write_text(news[0].read_text(encoding="utf-8").replace("title: \"", "title: \"Edited ", 1))
    added = site / "_news" / "2099-01-01-added.md"
    added.write_text("---\ntitle: Added\n---\nBody.\n")
    assert load(store, [site], compact=False).ok
    added.unlink()
    news[3].unlink()
    assert load(store, [site], prune=True, compact=False).ok
    news[1].write_text(news[1].read_text(encoding="utf-8").replace("title: \"", "title: \"Again ", 1))
    assert load(store, [site], compact=False).ok
    assert len(plain_tables(store.path)["segments"]) == 4
    return store


def _data(store: Store) -> dict:
    tables = plain_tables(store.path)
    return {key: tables[key] for key in ("articles", "numbers", "topics", "providers", "files")} | \
        {"version": tables["meta"]["dataVersion"]}


def test_merging_the_newest_segments_keeps_the_data_and_the_removals_older_ones_need(segmented):
    before = _data(segmented)
    manifest = segmented.manifest()
    first = compaction.plan(manifest.segments)
    assert first is not None and first >= 1, "a merge of the newest segments, the base kept"
    assert compaction.compact(segmented)
    tables = plain_tables(segmented.path)
    kept = [s["name"] for s in manifest.segments[:first]]
    assert tables["segments"][:first] == kept and len(tables["segments"]) == first + 1
    assert tables["segments"][-1] == f"{first + 1:08d}-00000004.json"  # the generations it spans
    assert _data(segmented) == before
    assert "news/2099-01-01-added" not in tables["articles"]
    snapshot = segmented.read()
    assert {k: snapshot.articles[k] for k in snapshot.articles} == before["articles"]
    assert snapshot.articles.nums == before["numbers"]


def test_a_whole_compaction_leaves_one_segment_with_no_removals(segmented, tmp_path):
    before = _data(segmented)
    with segmented.lock():
        compaction.write_whole(segmented, segmented.read())
    tables = plain_tables(segmented.path)
    assert len(tables["segments"]) == 1 and _data(segmented) == before
    assert sorted(p.name for p in (tmp_path / "db.json.d").iterdir()) == segment_files(tables["segments"])
    from tinydb import TinyDB
    with TinyDB(tmp_path / "db.json.d" / tables["segments"][0], access_mode="r") as db:
        assert db.table("removed").all() == []


def test_compact_merges_what_the_plan_says_and_then_nothing(segmented):
    before = _data(segmented)
    merged = 0
    while compaction.compact(segmented):
        merged += 1
        assert _data(segmented) == before
    assert merged >= 1
    assert compaction.plan(segmented.manifest().segments) is None


def test_an_operator_compacts_the_store_whole_at_once(segmented):
    before = _data(segmented)
    done = subprocess.run([sys.executable, "-m", "store.compaction", segmented.path, "--whole"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "compacted" in done.stdout, done.stderr
    assert len(plain_tables(segmented.path)["segments"]) == 1 and _data(segmented) == before


def test_a_load_publishes_while_a_compaction_merges(segmented, tmp_path, monkeypatch):
    """A merge holds no lock that loads wait for: a load publishes after
    the merge wrote its segment and before its manifest, leaves that
    segment alone, and keeps its own after the merged one."""
    site = tmp_path / "site"
    news = sorted((site / "_news").glob("*.md"))
    real = compaction.write_segment

    def write_then_publish(path, name, data, article_keys):
        entry = real(path, name, data, article_keys)
        news[5].write_text(news[5].read_text(encoding="utf-8").replace('title: "', 'title: "During ', 1))
        assert load(segmented, [site], compact=False, lock_timeout=5).updated["article"] == 1
        assert (tmp_path / "db.json.d" / name).exists(), "the load removed the merge's segment"
        return entry

    monkeypatch.setattr(compaction, "write_segment", write_then_publish)
    assert compaction.compact(segmented)
    tables = plain_tables(segmented.path)
    assert tables["articles"][f"news/{news[5].stem}"]["title"].startswith("During ")
    assert tables["segments"][-1] == "00000005.json" and "-" in tables["segments"][-2]
    snapshot = segmented.read()
    assert {k: snapshot.articles[k] for k in snapshot.articles} == tables["articles"]
    assert sorted(p.name for p in (tmp_path / "db.json.d").iterdir()) == segment_files(tables["segments"])
