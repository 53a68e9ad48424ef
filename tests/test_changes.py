"""Finding what changed costs what changed: a load reads the segments' key
files, not the segments; it makes the entries of the files that changed
alone; the files table's indexes follow every change of a watching load;
and a load told of the changed paths says and stores what a walk of the
site does (docs/store.md "Finding what changed")."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from store import keyfiles, reading
from store.db import Store
from store.filetable import FileTable
from store.ingest import load
from tests.conftest import AZURE, writable_copy
from tests.stores import copy_store, plain_tables
from tests.test_site_shapes import write_site as write_harbor


@pytest.fixture
def sites(tmp_path):
    return write_harbor(tmp_path / "harbor"), writable_copy(AZURE, tmp_path / "azure")


def _edit(path: Path, words: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace('title: "', f'title: "{words} ', 1), encoding="utf-8")


def _data(snapshot) -> tuple:
    """Everything a snapshot holds, as plain values."""
    return ({key: snapshot.articles.hash_of(key) for key in snapshot.articles}, dict(snapshot.articles.nums),
            {key: snapshot.files[key] for key in snapshot.files}, dict(snapshot.topics),
            dict(snapshot.providers), snapshot.meta)


def _without_key_files(store: Store):
    for name in os.listdir(store.path + ".d"):
        if name.endswith(keyfiles.SUFFIX):
            os.unlink(os.path.join(store.path + ".d", name))


def test_a_load_reads_the_key_files_and_not_the_segments(tmp_path, sites, monkeypatch):
    harbor, azure = sites
    store = Store(tmp_path / "db.json")
    load(store, [harbor, azure], compact=False)
    _edit(next((azure / "_news").glob("*.md")), "Edited")
    load(store, [harbor, azure], compact=False)
    assert len(plain_tables(store.path)["segments"]) == 2
    through_keys = store.read()
    split: list[str] = []
    real = reading.read_file
    monkeypatch.setattr(reading, "read_file", lambda path: split.append(path) or real(path))
    _edit(next((harbor / "_news").glob("*.md")), "Again")
    report = load(store, [harbor, azure], compact=False)
    assert report.updated["article"] == 1 and split == [], "a segment with its key file was read whole"
    # What the key files give is what the segments hold.
    monkeypatch.undo()
    through_keys = store.read()
    _without_key_files(store)
    assert _data(Store(store.path).read()) == _data(through_keys)
    # The next load writes the key files it found missing.
    _edit(next((harbor / "_news").glob("*.md")), "Once more")
    load(store, [harbor, azure], compact=False)
    names = plain_tables(store.path)["segments"]
    assert all(keyfiles.read(os.path.join(store.path + ".d", name)) for name in names)


def test_a_key_file_that_does_not_fit_its_segment_is_not_read(tmp_path, sites):
    harbor, azure = sites
    store = Store(tmp_path / "db.json")
    load(store, [harbor, azure], compact=False)
    (name,) = plain_tables(store.path)["segments"]
    segment = os.path.join(store.path + ".d", name)
    expected = _data(store.read())
    key_file = keyfiles.path_for(segment)
    good = Path(key_file).read_bytes()
    for damage in (good[:len(good) // 2], b"", b"\x00" * 64):
        Path(key_file).write_bytes(damage)
        assert keyfiles.read(segment) is None
        assert _data(Store(store.path).read()) == expected
    Path(key_file).write_bytes(good)
    assert keyfiles.read(segment) is not None
    stat = os.stat(segment)
    os.utime(segment, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # another segment of that name
    assert keyfiles.read(segment) is None
    assert _data(Store(store.path).read()) == expected


def test_a_plain_load_makes_the_entries_of_what_changed_alone(tmp_path, sites, monkeypatch):
    """A load of a store read through key files stats every file but makes
    the files table's entry, and the article record, of a changed one
    only."""
    harbor, azure = sites
    store = Store(tmp_path / "db.json")
    load(store, [harbor, azure], compact=False)
    seen = []
    real = Store.read
    monkeypatch.setattr(Store, "read", lambda self: seen.append(real(self)) or seen[-1])
    _edit(next((azure / "_news").glob("*.md")), "Edited")
    report = load(Store(store.path), [harbor, azure], compact=False)
    assert report.updated["article"] == 1 and report.files_parsed == 1
    (snapshot,) = seen
    made = [key for key, item in snapshot.files._items.items() if type(item) is not int]
    assert len(made) == 1 and len(snapshot.files) > 50, made
    # Every other article stays a position in its segment's columns; the
    # changed one is a position in the load's spill (the last columns).
    spilled_from = snapshot.articles._columns._starts[-1]
    records = [key for key, item in snapshot.articles._items.items() if type(item) is not int or item >= spilled_from]
    assert len(records) == 1, records


def _indexes(files: FileTable) -> tuple:
    roots = {root: set(files.in_root(root)) for root in files.roots()}
    claimed = {(kind, ident) for key in files for kind, ident, _ in files.claims_of(key)}
    # The counts kept by every change (or read from the store's meta) are those of the claims.
    assert files.claimed_counts() == Counter(kind for kind, _ in claimed)
    return ({pair: files.claimers(*pair) for pair in claimed}, files.noted(), files.data_articles(), roots)


def _report(report) -> tuple:
    return (report.added, report.updated, report.unchanged, report.removed, report.files_seen,
            sorted(map(str, report.rejected)), sorted(report.skipped), sorted(report.templates),
            sorted(report.stale), sorted(map(str, report.warnings)), report.public, report.hidden)


def test_a_watching_load_says_and_stores_what_a_walk_does(tmp_path, sites):
    """Each change is loaded twice from the same store: told of the
    changed path by a watching process, which keeps its snapshot and its
    indexes, and by a walk of the sites in a new process. The two say the
    same, store the same, and the kept indexes are those a fresh read
    builds."""
    harbor, azure = sites
    watching = Store(tmp_path / "db.json", keep=True)
    load(watching, [harbor, azure], compact=False, prune=True)
    ferries = harbor / "_news" / "2021-03-01-ferries-dock-themselves.md"
    kept_text = ferries.read_text(encoding="utf-8")
    page = harbor / "api" / "news" / "page" / "1" / "index.json"
    added = azure / "_news" / "2024-01-01-a-new-one.md"
    steps = [
        ("an article edited", lambda: _edit(ferries, "Edited"), ferries),
        ("an article that API pages list removed", lambda: ferries.unlink(), ferries),
        ("it comes back", lambda: ferries.write_text(kept_text, encoding="utf-8"), ferries),
        ("an API page edited", lambda: page.write_text(page.read_text(encoding="utf-8").replace(
            "Ferries dock (API title)", "Ferries dock (API title, edited)"), encoding="utf-8"), page),
        ("an article added", lambda: added.write_text(
            '---\ntitle: "New"\ndate: 2024-01-01\n---\nNew.\n', encoding="utf-8"), added),
        ("a topic removed", lambda: next((azure / "_data" / "topics").glob("*.yaml")).unlink(),
         azure / "_data" / "topics"),
    ]
    walked = tmp_path / "walked.json"
    for what, change, path in steps:
        copy_store(watching.path, walked)
        change()
        told = load(watching, [harbor, azure], compact=False, prune=True, changed=[str(path)])
        plain = load(Store(walked), [harbor, azure], compact=False, prune=True)
        assert _report(told) == _report(plain), what
        mine, theirs = plain_tables(watching.path), plain_tables(walked)
        for table in ("articles", "numbers", "files", "topics", "providers"):
            assert mine[table] == theirs[table], (what, table)
        assert mine["meta"]["dataVersion"] == theirs["meta"]["dataVersion"], what
        assert _indexes(watching.kept.files) == _indexes(Store(watching.path).read().files), what
