"""The search index beside the store (store/searchversions.py): a load
writes the directory of its data version, made from the previous one with
hard links and patched with only what changed; a server opens the
directory its store names; old directories go. Kills are
tests/test_kill.py's."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from graph.state import DataHolder, build_model
from store import searchindex, searchversions
from store.db import Store
from store.ingest import load
from tests.conftest import make_client
from tests.sitebuilder import front, write_site

SEARCH = 'query($q: String!) { search(query: $q, first: 50) { totalCount edges { score node { id title } } } }'


def story(title: str, body: str = "", **extra) -> str:
    fields = "\n".join(f"{k}: {v}" for k, v in extra.items())
    return front(f'title: "{title}"\npublishedDateTime: 2024-03-01T08:00:00Z\n{fields}', body)


@pytest.fixture
def site(tmp_path) -> Path:
    files = {f"_news/2024-03-0{n}-s{n}.md": story(f"Harbour story {n}", f"Tides and boats, part {n}.")
             for n in range(1, 8)}
    files["_news/2024-03-08-draft.md"] = story("Harbour draft", "Unfinished.", published="false")
    files["_data/organizations/pier.example.md"] = front("name: Pier Press\ndomain: pier.example")
    return write_site(tmp_path / "site", files)


def named(store: Store) -> str:
    return store.read().meta[searchversions.META_KEY]


def directory(store: Store) -> Path:
    return Path(searchversions.folder(store), named(store))


def answer(store: Store, q: str, preview: bool = False) -> list[str]:
    with make_client(DataHolder(store)) as client:
        headers = {"Authorization": "Bearer preview-secret-for-tests"} if preview else {}
        body = client.post("/graphql", json={"query": SEARCH, "variables": {"q": q}}, headers=headers).json()
    return sorted(edge["node"]["title"] for edge in body["data"]["search"]["edges"])


def test_a_load_writes_the_index_of_its_version_and_a_server_opens_it(site, tmp_path):
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    folder = directory(store)
    assert sorted(os.listdir(folder)) == ["hidden", "public", "version.json"]
    model = build_model(store)
    assert model._search_index.public.documents == 7 and model._search_index.hidden.documents == 1
    assert answer(store, "harbour") == [f"Harbour story {n}" for n in range(1, 8)]
    assert answer(store, "harbour", preview=True)[0] == "Harbour draft"


def test_the_next_version_shares_the_files_and_holds_only_what_changed(site, tmp_path):
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    first = directory(store)
    (site / "_news/2024-03-02-s2.md").write_text(story("Lighthouse story 2", "Keepers and lamps."))
    (site / "_news/2024-03-03-s3.md").unlink()
    (site / "_news/2024-03-09-s9.md").write_text(story("Harbour story 9", "A new one."))
    assert load(store, [site], prune=True).ok
    second = directory(store)
    assert second != first
    shared = [name for name in os.listdir(first / "public") if name.endswith((".idx", ".store", ".term"))]
    assert shared and all(os.stat(first / "public" / n).st_ino == os.stat(second / "public" / n).st_ino
                          for n in shared if (second / "public" / n).exists())
    assert answer(store, "harbour") == [f"Harbour story {n}" for n in (1, 4, 5, 6, 7, 9)]
    assert answer(store, "lighthouse keepers") == ["Lighthouse story 2"]
    # The previous version's directory stays, for a server about to open it.
    assert first.exists()
    assert load(store, [write_site(tmp_path / "more", {"_news/x.md": story("Another")})]).ok
    assert not first.exists() and second.exists()


def test_publishing_and_unpublishing_move_an_article_between_parts(site, tmp_path):
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    (site / "_news/2024-03-08-draft.md").write_text(story("Harbour draft", "Finished."))
    (site / "_news/2024-03-01-s1.md").write_text(story("Harbour story 1", "Withdrawn.", published="false"))
    assert load(store, [site]).ok
    public = answer(store, "harbour")
    assert "Harbour draft" in public and "Harbour story 1" not in public
    assert "Harbour story 1" in answer(store, "harbour", preview=True)


def test_a_renamed_provider_is_found_by_its_new_name(site, tmp_path):
    store = Store(tmp_path / "news.json")
    (site / "_news/2024-03-01-s1.md").write_text(
        story("Harbour story 1", "Tides.", provider="{name: Pier, domain: pier.example}"))
    assert load(store, [site]).ok
    assert answer(store, "press") == ["Harbour story 1"]
    (site / "_data/organizations/pier.example.md").write_text(front("name: Quay Gazette\ndomain: pier.example"))
    assert load(store, [site]).ok
    assert answer(store, "press") == [] and answer(store, "gazette") == ["Harbour story 1"]


def test_the_index_answers_as_one_made_in_memory(corpus_db, corpus_model):
    """The corpus store's directory (made by its load from the records)
    and an index of its model made in memory give the same answers."""
    store = Store(corpus_db)
    on_disk = searchversions.open_for(store, corpus_model)
    in_memory = searchindex.SearchIndex.build(corpus_model)
    assert on_disk is not None
    for q in ("power apps", "dataverse OR excel -teams", '"custom connector"', "portal*", "sharepiont"):
        tree = searchindex.parse(q)
        for preview in (False, True):
            for typos in (False, True):
                query = searchindex.query(tree, typos)
                got = [part.hits(query, 1000, count=True) for part in on_disk.parts(preview)]
                want = [part.hits(query, 1000, count=True) for part in in_memory.parts(preview)]
                assert [(n, sorted((round(s, 4), a.id) for s, a in hits)) for hits, n in got] == \
                       [(n, sorted((round(s, 4), a.id) for s, a in hits)) for hits, n in want], (q, preview)


def test_a_store_whose_directory_is_gone_is_indexed_in_memory(site, tmp_path, caplog):
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    shutil.rmtree(directory(store))
    assert answer(store, "harbour") == [f"Harbour story {n}" for n in range(1, 8)]
    # ... and the next load makes a whole new directory.
    assert load(store, [write_site(tmp_path / "more", {"_news/x.md": story("Harbour extra")})]).ok
    assert directory(store).exists()
    assert len(answer(store, "harbour")) == 8


def test_a_compaction_keeps_the_index_of_the_version(site, tmp_path):
    from store import compaction
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    for n in range(3):
        (site / f"_news/2024-04-0{n + 1}-t{n}.md").write_text(story(f"Harbour later {n}"))
        assert load(store, [site], compact=False).ok
    before = named(store)
    compaction.compact(store)
    assert named(store) == before
    assert len(answer(store, "harbour")) == 10
