"""The store: upserts, prune, atomic publish, rejected files changing nothing."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from tinydb import TinyDB

from store import db as store_db
from store.db import Store
from store.reading import read_written
from store.errors import StoreCorrupt, StrictLoadRejected
from store import applying, compaction, ingest, parsing, storage
from store.ingest import load
from store.readmodel import ReadModel
from tests.conftest import AZURE, POWER_APPS, SEED, writable_copy
from tests.stores import copy_store, plain_tables


@pytest.fixture
def site(tmp_path):
    return writable_copy(AZURE, tmp_path / "azure")


def test_second_load_is_unchanged_and_parses_nothing(tmp_path, site):
    store = Store(tmp_path / "db.json")
    first = load(store, [site])
    assert first.added["article"] == 40 and first.ok
    version = store.read().data_version
    second = load(store, [site])
    assert second.files_parsed == 0
    assert second.unchanged["article"] == 40
    assert not second.written
    assert store.read().data_version == version


def test_edit_updates_one_article_and_changes_the_version(tmp_path, site):
    store = Store(tmp_path / "db.json")
    load(store, [site])
    before = store.read()
    path = sorted((site / "_news").glob("*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8").replace("title: \"", "title: \"Edited ", 1), encoding="utf-8")
    report = load(store, [site])
    assert report.updated["article"] == 1 and report.files_parsed == 1
    after = store.read()
    assert after.data_version != before.data_version
    assert after.articles[f"news/{path.stem}"]["title"].startswith("Edited ")


def test_the_data_version_follows_the_data_whatever_the_loads_that_made_it(tmp_path, site):
    """Each load moves the data version's sum by the records it changed; the
    sum is that of every record, and the version that of a store loaded
    whole with the same data."""
    store = Store(tmp_path / "db.json")
    load(store, [site])
    first = store.read().data_version
    paths = sorted((site / "_news").glob("*.md"))
    original = paths[0].read_text(encoding="utf-8")
    paths[0].write_text(original.replace("title: \"", "title: \"Edited ", 1), encoding="utf-8")
    removed = paths[1].read_text(encoding="utf-8")
    paths[1].unlink()
    load(store, [site], prune=True)
    edited = store.read()
    assert edited.meta["dataSum"] == f"{edited.data_sum():032x}"
    whole = Store(tmp_path / "whole.json")
    load(whole, [site])
    assert whole.read().data_version == edited.data_version != first
    paths[0].write_text(original, encoding="utf-8")
    paths[1].write_text(removed, encoding="utf-8")
    load(store, [site], prune=True)
    assert store.read().data_version == first


def test_touched_but_identical_files_are_unchanged(tmp_path, site):
    store = Store(tmp_path / "db.json")
    load(store, [site])
    path = sorted((site / "_news").glob("*.md"))[0]
    os.utime(path, ns=(1, 1))
    report = load(store, [site])
    assert report.files_parsed == 1 and report.updated["article"] == 0
    assert report.unchanged["article"] == 40


def test_prune_removes_articles_whose_files_are_gone(tmp_path, site):
    store = Store(tmp_path / "db.json")
    load(store, [site])
    gone = sorted((site / "_news").glob("*.md"))[0]
    gone.unlink()
    kept = load(store, [site])
    assert kept.removed["article"] == 0
    assert f"news/{gone.stem}" in store.read().articles
    pruned = load(store, [site], prune=True)
    assert pruned.removed["article"] == 1
    assert f"news/{gone.stem}" not in store.read().articles


def test_a_broken_file_keeps_its_old_record_and_good_files_land(tmp_path, site):
    store = Store(tmp_path / "db.json")
    load(store, [site])
    files = sorted((site / "_news").glob("*.md"))
    old_title = store.read().articles[f"news/{files[0].stem}"]["title"]
    files[0].write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    files[1].write_text(files[1].read_text(encoding="utf-8").replace("title: \"", "title: \"New ", 1),
                        encoding="utf-8")
    report = load(store, [site])
    assert [e.path for e in report.rejected] == [f"_news/{files[0].name}"]
    snapshot = store.read()
    assert snapshot.articles[f"news/{files[0].stem}"]["title"] == old_title
    assert snapshot.articles[f"news/{files[1].stem}"]["title"].startswith("New ")


def test_strict_writes_nothing_when_anything_is_rejected(tmp_path, site):
    (site / "_news" / "zz-bad.md").write_text("---\nheat: hot\n---\n")
    store = Store(tmp_path / "db.json")
    with pytest.raises(StrictLoadRejected) as caught:
        load(store, [site], strict=True)
    assert not store.exists()
    assert caught.value.report.rejected[0].path == "_news/zz-bad.md"


def test_duplicate_ids_reject_the_later_file(tmp_path, site):
    source = sorted((site / "_news").glob("*.md"))[0]
    shutil.copy(source, source.with_suffix(".markdown"))
    report = load(Store(tmp_path / "db.json"), [site])
    assert len(report.rejected) == 1
    assert "duplicate article id" in report.rejected[0].reason
    assert report.added["article"] == 40


def test_the_store_is_tinydb_files_and_a_load_writes_what_changed(tmp_path, site):
    """The store's path holds a manifest naming its segments, each a TinyDB
    database; a load that changes one article writes one more segment with
    that article and its file alone, and replaces the manifest."""
    path = tmp_path / "db.json"
    store = Store(path)
    load(store, [site], compact=False)
    first = plain_tables(path)
    assert len(first["articles"]) == 40 and len(first["segments"]) == 1
    base = path.parent / "db.json.d" / first["segments"][0]
    base_bytes, inode = base.read_bytes(), os.stat(path).st_ino
    edited = sorted((site / "_news").glob("*.md"))[0]
    edited.write_text("---\ntitle: changed\n---\n")
    (site / "_news" / "2099-01-01-new.md").write_text("---\ntitle: New\n---\nA body.\n")
    removed = sorted((site / "_news").glob("*.md"))[5]
    removed.unlink()
    report = load(store, [site], prune=True, compact=False)
    assert (report.added["article"], report.updated["article"], report.removed["article"]) == (1, 1, 1)
    second = plain_tables(path)
    assert second["segments"][0] == first["segments"][0] and len(second["segments"]) == 2
    assert base.read_bytes() == base_bytes, "a segment never changes once written"
    assert os.stat(path).st_ino != inode  # the manifest: a new file renamed into place
    with TinyDB(path.parent / "db.json.d" / second["segments"][1], access_mode="r") as delta:
        assert sorted(d["id"] for d in delta.table("articles").all()) == \
            [f"news/{edited.stem}", "news/2099-01-01-new"]
        assert sorted(d["path"] for d in delta.table("files").all()) == \
            sorted([str(edited.relative_to(site)), "_news/2099-01-01-new.md"])
        assert sorted((d["table"], d["key"]) for d in delta.table("removed").all()) == \
            sorted([("articles", f"news/{removed.stem}"), ("files", f"{site}\0{removed.relative_to(site)}")])
    assert second["meta"]["dataVersion"] == report.data_version != first["meta"]["dataVersion"]
    snapshot = store.read()
    assert {k: snapshot.articles[k] for k in snapshot.articles} == second["articles"]
    assert (dict(snapshot.files), dict(snapshot.topics), dict(snapshot.providers)) == \
        (second["files"], second["topics"], second["providers"])
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_a_file_just_written_reads_by_its_spans_as_a_whole_read_does(tmp_path):
    """The image builder reads the store it is handed by the records'
    spans (store/reading.py read_written), not by splitting the file."""
    written = Store(tmp_path / "first.json")
    load(written, [POWER_APPS, AZURE, SEED])
    whole = written.read()
    meta = dict(whole.meta)
    seen = {}

    def hook(spans, file, path):
        seen.update(read=read_written(path, spans, meta, whole.articles.nums), size=os.path.getsize(path), file=file)

    Store(tmp_path / "second.json").write(whole, before_replace=hook)
    snapshot = seen["read"]
    assert seen["file"][0] == seen["size"]
    assert snapshot.meta == meta and snapshot.data_version == whole.data_version
    assert len(snapshot.articles) == len(whole.articles) > 40
    assert {key: snapshot.articles[key] for key in snapshot.articles} == \
        {key: whole.articles[key] for key in whole.articles}
    assert (snapshot.topics, snapshot.providers) == (whole.topics, whole.providers)
    assert len(whole.topics) > 0 and len(whole.providers) > 0
    assert snapshot.files == {}, "a read model never uses the files table"


def _written(store: Store, snapshot) -> tuple[bytes, dict]:
    seen = {}
    store.write(snapshot, before_replace=lambda spans, file, path: seen.update(spans=spans))
    with open(plain_segment(store), "rb") as handle:
        return handle.read(), seen["spans"]


def plain_segment(store: Store) -> str:
    """The file of a store of one segment."""
    (name,) = plain_tables(store.path)["segments"]
    return os.path.join(store.path + ".d", name)


def _per_line(snapshot):
    """``snapshot`` with no article known to sit anywhere in a file, so a
    write makes every line anew."""
    for key in snapshot.articles:
        stored = snapshot.articles.stored(key)
        if type(stored) is not dict:
            stored.at = -1
    return snapshot


@pytest.mark.parametrize("change", ["one updated", "one added", "one removed", "none"])
def test_a_write_that_copies_unchanged_records_makes_the_file_a_fresh_write_makes(tmp_path, change):
    """Records read from the store are copied in runs of the old file's
    bytes when they sit there as they will in the new one; the file and
    every span must be the ones a write of each line gives."""
    store = Store(tmp_path / "db.json")
    load(store, [POWER_APPS, AZURE, SEED])

    def changed():
        snapshot = store.read()
        keys = sorted(snapshot.articles)
        middle = keys[len(keys) // 2]
        if change == "one updated":
            record = snapshot.articles[middle]
            snapshot.articles[middle] = dict(record, title="Changed", _hash="0" * 40)
        elif change == "one added":
            snapshot.articles[middle + "-new"] = dict(snapshot.articles[middle], id=middle + "-new")
        elif change == "one removed":
            del snapshot.articles[middle]
        return snapshot

    copied = changed()
    assert any(getattr(copied.articles.stored(key), "at", -1) > 0 for key in copied.articles), \
        "read records know where they are"
    meta = copied.meta
    fresh = _per_line(changed())
    fresh.meta = meta
    assert _written(Store(tmp_path / "copied.json"), copied) == _written(Store(tmp_path / "fresh.json"), fresh)


def test_unchanged_records_are_copied_in_a_few_writes_not_one_per_line(tmp_path):
    """What makes a re-load's write cheap: with one article changed, the
    others go out as two runs of the old file's bytes (before it and after
    it), not as writes per line; the bytes are the same."""
    store = Store(tmp_path / "db.json")
    load(store, [POWER_APPS, AZURE, SEED])
    snapshot = store.read()
    keys = sorted(snapshot.articles)
    middle = keys[len(keys) // 2]
    snapshot.articles[middle] = dict(snapshot.articles[middle], title="Changed", _hash="0" * 40)
    articles = {"articles": {str(n): snapshot.articles.stored(key) for n, key in enumerate(keys, 1)}}

    class Counting(io.BytesIO):
        writes = 0

        def write(self, chunk) -> int:
            Counting.writes += 1
            return super().write(chunk)

    copied = Counting()
    storage._write_lines(copied, articles)
    assert len(keys) > 500 and Counting.writes <= 10, Counting.writes
    _per_line(snapshot)  # the same records, now as if never read from a file
    Counting.writes = 0
    fresh = Counting()
    storage._write_lines(fresh, articles)
    assert Counting.writes > 2 * len(keys) and fresh.getvalue() == copied.getvalue()


def test_article_ids_with_quotes_and_backslashes_read_back(tmp_path):
    store = Store(tmp_path / "db.json")
    load(store, [AZURE])
    snapshot = store.read()
    record = snapshot.articles[sorted(snapshot.articles)[0]]
    odd = ['news/say "hi"', "news/back\\slash\\", 'news/\\"both', "news/café ünïcode"]
    for ident in odd:
        snapshot.articles[ident] = dict(record, id=ident)
    store.write(snapshot)
    again = store.read()
    assert set(again.articles) == set(snapshot.articles)
    for ident in odd:
        assert again.articles.stored(ident).at > 0, "split by lines, not parsed whole"
        assert again.articles[ident]["id"] == ident
        assert again.articles.hash_of(ident) == record["_hash"]


def test_a_store_laid_out_otherwise_is_read_whole(tmp_path):
    """A segment another writer laid out (here: all on one line) is read
    by parsing it whole, with the same records."""
    store = Store(tmp_path / "db.json")
    load(store, [AZURE])
    snapshot = store.read()
    other = Store(tmp_path / "other.json")
    copy_store(store.path, other.path)
    segment = plain_segment(other)
    with open(segment, "rb") as handle:
        data = orjson.loads(handle.read())
    with open(segment, "wb") as handle:
        handle.write(orjson.dumps(data))
    again = other.read()
    assert {key: again.articles[key] for key in again.articles} == \
        {key: snapshot.articles[key] for key in snapshot.articles}
    assert (again.topics, again.providers, again.files, again.meta) == \
        (snapshot.topics, snapshot.providers, snapshot.files, snapshot.meta)


def test_a_corrupt_store_names_the_file(tmp_path):
    path = tmp_path / "db.json"
    path.write_text('{"articles": {"1": ')
    with pytest.raises(StoreCorrupt) as caught:
        Store(path).read()
    assert str(path) in str(caught.value)


def test_cli_exit_codes_for_a_folder_with_one_broken_file(tmp_path):
    folder = tmp_path / "mixed"
    (folder / "_news").mkdir(parents=True)
    for path in sorted((POWER_APPS / "_news").glob("*.md"))[:5]:
        shutil.copy(path, folder / "_news" / path.name)
    (folder / "_news" / "2021-01-01-broken.md").write_text(
        "---\ntitle: Broken\nheat: hot\n---\n", encoding="utf-8")
    db = tmp_path / "db.json"
    run = subprocess.run([sys.executable, "-m", "newsgraph", "load", str(folder), "--db", str(db)],
                         capture_output=True, text=True)
    assert run.returncode == 3, run.stderr
    assert "_news/2021-01-01-broken.md:3: heat must be an integer" in run.stderr
    assert len(Store(db).read().articles) == 5
    clean = subprocess.run([sys.executable, "-m", "newsgraph", "load", str(POWER_APPS / "_news"),
                            "--db", str(tmp_path / "clean.json")], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    strict = subprocess.run([sys.executable, "-m", "newsgraph", "load", str(folder), "--db",
                             str(tmp_path / "strict.json"), "--strict"], capture_output=True, text=True)
    assert strict.returncode == 4
    assert not (tmp_path / "strict.json").exists()


def test_read_model_counts_power_apps(tmp_path):
    store = Store(tmp_path / "db.json")
    report = load(store, [POWER_APPS])
    assert report.ok
    model = ReadModel(store.read())
    news = [a for a in model.all_articles if a.collection == "news"]
    assert len(news) == 192
    assert sum(a.visible for a in news) == 132
    assert len([a for a in model.public.articles if a.collection == "news"]) == 132


def test_a_load_removes_temporary_files_a_killed_load_left(tmp_path, site, monkeypatch):
    monkeypatch.setattr(compaction, "IMAGE_MIN_ARTICLES", 0)  # a site this small gets no image otherwise
    path = tmp_path / "db.json"
    load(Store(path), [site])
    left = [tmp_path / "db.json.tmp-killed", tmp_path / "db.json.image.tmp-killed"]
    for stale in left:
        stale.write_bytes(b"half a file")
    (tmp_path / "other.json.tmp-keep").write_bytes(b"not ours")
    load(Store(path), [site])
    assert not any(stale.exists() for stale in left)
    assert (tmp_path / "other.json.tmp-keep").exists()
    assert (tmp_path / "db.json.image").exists()


def test_a_small_store_gets_no_image_and_loses_a_stale_one(tmp_path, site, monkeypatch):
    path = tmp_path / "db.json"
    monkeypatch.setattr(compaction, "IMAGE_MIN_ARTICLES", 0)
    load(Store(path), [site])
    assert (tmp_path / "db.json.image").exists()
    monkeypatch.setattr(compaction, "IMAGE_MIN_ARTICLES", 41)  # the site has 40 articles
    compaction.write_whole(Store(path), Store(path).read())
    assert not (tmp_path / "db.json.image").exists()


# --- articles merged by the worker that parsed their file ---------------------------

def _alone_never(real):
    return lambda result, shared: result


def _alone_always(real):
    """Every article taken for its only fragment's, also those the API pages
    describe too: the merge must notice and parse those files again."""
    return lambda result, shared: real(result, None if shared is None else frozenset())


def _corpus_load(folder, monkeypatch, alone=None, workers=None) -> tuple[Store, int, int]:
    """(store, merges of articles made by this process, fragments parsed again)."""
    if alone is not None:
        monkeypatch.setattr(parsing, "merge_alone", alone(parsing.merge_alone))
    merges, again = [0], [0]
    real_merge, real_with_data = applying.merge, parsing.with_data

    def merge(kind, parts):
        merges[0] += kind == "article"
        return real_merge(kind, parts)

    def with_data(parts, candidates):
        again[0] += sum(part["data"] is None for part in parts)
        return real_with_data(parts, candidates)

    monkeypatch.setattr(applying, "merge", merge)
    monkeypatch.setattr(parsing, "merge", merge)  # an article merged alone in this process
    monkeypatch.setattr(parsing, "with_data", with_data)
    store = Store(folder / "db.json")
    report = load(store, [POWER_APPS, AZURE, SEED], workers=workers)
    monkeypatch.undo()
    assert report.ok and report.added["article"] > 800
    return store, merges[0], again[0]


def _stored(store: Store) -> tuple[str, dict[str, bytes]]:
    snapshot = store.read()
    return snapshot.data_version, {key: bytes(snapshot.articles.stored(key).data)
                                   for key in snapshot.articles}


@pytest.fixture(scope="module")
def merged_by_the_loader(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        store, merges, _ = _corpus_load(tmp_path_factory.mktemp("reference"), patch, _alone_never, 2)
    version, records = _stored(store)
    assert merges == len(records)
    return version, records


@pytest.mark.parametrize("workers", [2, 1], ids=["pool", "in-process"])
@pytest.mark.parametrize("alone", [None, _alone_always], ids=["as loaded", "every article alone"])
def test_articles_merged_alone_by_workers_are_the_records_the_loader_merges(
        tmp_path, monkeypatch, merged_by_the_loader, alone, workers):
    """Data files and API pages are parsed first; an article no other file
    describes is then merged by the worker that parsed its markdown file.
    The store must hold the very bytes the loading process would merge."""
    store, merges, again = _corpus_load(tmp_path, monkeypatch, alone, workers)
    version, records = _stored(store)
    assert (version, records) == merged_by_the_loader
    in_api = sum(1 for record in records.values() if len(orjson.loads(record)["sources"]) > 1)
    assert 0 < in_api < len(records) / 2, "the corpus has articles the API pages list, and others"
    if alone is None:
        # Only the articles the API pages describe too are merged here
        # (with workers=1 the "worker" is this process).
        assert merges == (in_api if workers > 1 else len(records)) and again == 0
    else:
        assert again == in_api  # each found out, and its file parsed again


def _tinydb_numbers(path) -> dict[str, int]:
    """Each article's document id, as TinyDB itself reads the store."""
    return plain_tables(path)["numbers"]


def test_an_article_keeps_its_number_for_life_and_no_number_is_given_twice(tmp_path, site):
    """The TinyDB document id of an article is its number: kept through
    edits, other articles' arrivals and removals, and never given again
    once its article is gone, not even the highest."""
    store = Store(tmp_path / "db.json")
    load(store, [site], compact=False)
    first = _tinydb_numbers(store.path)
    assert sorted(first.values()) == list(range(1, 41))
    files = sorted((site / "_news").glob("*.md"))
    by_number = sorted(first, key=first.get)
    # Remove the article with the highest number, edit one, add one whose
    # id sorts first (a renumbering by id would move every other article).
    highest = next(p for p in files if f"news/{p.stem}" == by_number[-1])
    highest.unlink()
    edited = files[0] if files[0] != highest else files[1]
    edited.write_text(edited.read_text(encoding="utf-8").replace("title: \"", "title: \"Edited ", 1),
                      encoding="utf-8")
    shutil.copy(files[2], site / "_news" / "0000-first.md")
    report = load(store, [site], prune=True, compact=False)
    assert (report.added["article"], report.updated["article"], report.removed["article"]) == (1, 1, 1)
    compaction.write_whole(store, store.read())  # one segment again, for the file of format 1 below
    second = _tinydb_numbers(store.path)
    assert {k: n for k, n in second.items() if k in first} == {k: n for k, n in first.items() if k in second}
    assert second["news/0000-first"] == 41, "the removed article's number 40 is not given again"
    model = ReadModel(store.read())
    assert {a.id: a.num for a in model.all_articles} == second
    # A store written before numbers were kept has its renumbered ids,
    # which become its articles' numbers from then on.
    snapshot = store.read()
    del snapshot.meta["nextArticleNum"]
    with open(plain_segment(store), "rb") as whole:
        data = orjson.loads(whole.read())
    data["meta"] = {"1": {k: v for k, v in snapshot.meta.items() if k not in ("nextArticleNum", "generation")}
                    | {"format": 1}}
    (tmp_path / "old.json").write_bytes(orjson.dumps(data))
    again = Store(tmp_path / "old.json").read()
    assert again.articles.nums == second and again.articles.next_num == 42


def test_a_load_told_what_changed_looks_at_nothing_else(tmp_path, site, monkeypatch):
    """``load --watch`` names the paths its file events name: those are
    looked at, and no other file is walked to or stat'ed; the result is
    what a load looking at everything gives for the same changes."""
    store = Store(tmp_path / "db.json")
    load(store, [site])
    news = sorted((site / "_news").glob("*.md"))
    edited, removed, unnamed = news[0], news[1], news[2]
    edited.write_text(edited.read_text(encoding="utf-8").replace("title: \"", "title: \"Edited ", 1))
    removed.unlink()
    (site / "_news" / "deeper").mkdir()
    added = site / "_news" / "deeper" / "2099-01-01-added.md"
    added.write_text("---\ntitle: Added\n---\nBody.\n")
    unnamed.write_text(unnamed.read_text(encoding="utf-8").replace("title: \"", "title: \"Unseen ", 1))
    looked: list[str] = []
    real_stat = applying.stat
    monkeypatch.setattr(applying, "stat", lambda candidate: looked.append(candidate.path) or real_stat(candidate))
    real_discover = ingest.discover

    def discover(target):  # only a folder named as changed may be walked
        assert Path(target) == added.parent, f"walked {target}"
        return real_discover(target)

    monkeypatch.setattr(ingest, "discover", discover)
    told = load(store, [site], prune=True, changed=[str(edited), str(removed), str(added.parent)])
    monkeypatch.undo()
    assert sorted(looked) == sorted(str(p.relative_to(site)) for p in (edited, added))
    assert (told.added["article"], told.updated["article"], told.removed["article"]) == (1, 1, 1)
    assert told.files_parsed == 2
    snapshot = store.read()
    assert snapshot.articles[f"news/{edited.stem}"]["title"].startswith("Edited ")
    assert not snapshot.articles[f"news/{unnamed.stem}"]["title"].startswith("Unseen ")
    # A load that looks at everything then finds only the file it was not told of.
    full = load(store, [site], prune=True)
    assert (full.added["article"], full.updated["article"], full.removed["article"]) == (0, 1, 0)
    assert store.read().articles[f"news/{unnamed.stem}"]["title"].startswith("Unseen ")


def test_a_load_told_of_a_folder_it_never_loaded_looks_at_all_of_it(tmp_path, site):
    store = Store(tmp_path / "db.json")
    report = load(store, [site], changed=[])
    assert report.added["article"] == 40
    again = load(store, [site], changed=[])
    assert again.files_parsed == 0 and not again.written


def _git(site, *args) -> None:
    subprocess.run(["git", "-C", str(site), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


def test_a_load_asks_git_what_changed_in_a_work_tree(tmp_path, site, monkeypatch):
    """``load --git``: the files changed between the commit of the last
    load and the one checked out, and those not committed (now or at the
    last load), are all that is looked at."""
    _git(site, "init", "-q")
    _git(site, "add", "-A")
    _git(site, "commit", "-q", "-m", "first")
    store = Store(tmp_path / "db.json")
    first = load(store, [site], git=True)  # no commit recorded yet: every file
    assert first.added["article"] == 40
    news = sorted((site / "_news").glob("*.md"))
    committed, uncommitted, untracked = news[0], news[1], site / "_news" / "2099-01-01-new.md"
    committed.write_text(committed.read_text(encoding="utf-8").replace('title: "', 'title: "Committed ', 1))
    _git(site, "commit", "-q", "-am", "second")
    uncommitted.write_text(uncommitted.read_text(encoding="utf-8").replace('title: "', 'title: "Dirty ', 1))
    untracked.write_text("---\ntitle: New\n---\nBody.\n")
    looked: list[str] = []
    real_stat = applying.stat
    monkeypatch.setattr(applying, "stat", lambda candidate: looked.append(candidate.path) or real_stat(candidate))
    report = load(store, [site], git=True)
    assert sorted(looked) == sorted(str(p.relative_to(site)) for p in (committed, uncommitted, untracked))
    assert (report.added["article"], report.updated["article"]) == (1, 2)
    # The file that was not committed is reverted: git no longer names it,
    # but it was named at the last load, so it is looked at again.
    _git(site, "checkout", "--", str(uncommitted.relative_to(site)))
    looked.clear()
    again = load(store, [site], git=True)
    assert str(uncommitted.relative_to(site)) in looked and again.updated["article"] == 1
    assert not store.read().articles[f"news/{uncommitted.stem}"]["title"].startswith("Dirty ")


def test_a_load_asked_to_use_git_outside_a_work_tree_looks_at_every_file(tmp_path, site):
    store = Store(tmp_path / "db.json")
    load(store, [site], git=True)
    path = sorted((site / "_news").glob("*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8").replace('title: "', 'title: "Edited ', 1))
    assert load(store, [site], git=True).updated["article"] == 1


def test_a_store_that_keeps_what_it_published_reads_it_back_only_while_it_is_the_version(tmp_path, site, monkeypatch):
    """A watching load keeps the snapshot it published: the next load takes
    it without reading the store, and gets what a read gives; after another
    writer's publish the store is read again."""
    watching = Store(tmp_path / "db.json", keep=True)
    load(watching, [site], compact=False)
    news = sorted((site / "_news").glob("*.md"))
    reads: list[int] = []
    real = store_db.read_files
    monkeypatch.setattr(store_db, "read_files", lambda *a, **k: reads.append(1) or real(*a, **k))

    def edit(path: Path, words: str) -> None:
        path.write_text(path.read_text(encoding="utf-8").replace("title: \"", f"title: \"{words} ", 1))

    edit(news[0], "Kept")
    load(watching, [site], compact=False, changed=[str(news[0])])
    reads.clear()
    edit(news[1], "Kept again")
    report = load(watching, [site], compact=False, changed=[str(news[1])])
    assert report.updated["article"] == 1 and reads == []
    assert plain_tables(watching.path)["articles"][f"news/{news[1].stem}"]["title"].startswith("Kept again ")
    kept = watching.kept
    assert kept is not None and kept.data_version == Store(watching.path).read().data_version
    fresh = Store(watching.path).read()
    assert dict(kept.articles.items()) == dict(fresh.articles.items()) and kept.articles.nums == fresh.articles.nums
    # Another writer publishes: the kept snapshot is no longer the version.
    edit(news[2], "Elsewhere")
    load(Store(watching.path), [site], compact=False, changed=[str(news[2])])
    reads.clear()
    edit(news[3], "Back")
    load(watching, [site], compact=False, changed=[str(news[3])])
    assert reads and plain_tables(watching.path)["articles"][f"news/{news[2].stem}"]["title"].startswith("Elsewhere ")
