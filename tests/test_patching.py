"""A model patched with a new version's segments (store/patching.py) is the
model built from the store: the same objects, and the same answers, byte
for byte, to queries of every kind (pages and cursors, totals, facets,
orders, search); the version before answers as it did; and what a patch
cannot do is built whole, saying why."""
from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import pytest

from graph.limits import Limits
from graph.state import DataHolder, read_model
from store import compaction, image, search, searchversions
from store.db import Store
from store.ingest import load
from store.patching import Rebuild, patch
from store.readmodel import ReadModel
from tests.conftest import AZURE, POWER_APPS, SEED, make_client
from tests.test_planner import assert_same_indexes
from tests.test_image import (QUERIES, _fill, _post, assert_linked_within, assert_same_model, model_samples,
                              same_pages)

EDITED = "Patched in, not rebuilt"


def _site(folder: Path) -> list[Path]:
    sites = []
    for source in (POWER_APPS, AZURE, SEED):
        shutil.copytree(source, folder / source.name)
        sites.append(folder / source.name)
    return sites


def _file(article) -> Path:
    source = article.source
    return Path(source.root) / source.path


def _set(path: Path, key: str, value: str) -> None:
    text = path.read_text(encoding="utf-8")
    text, found = re.subn(rf"^{key}:.*$", f"{key}: {value}", text, count=1, flags=re.M)
    assert found, f"{path} has no {key}"
    path.write_text(text, encoding="utf-8")


def _key(path: Path) -> str | None:
    """The front-matter key a file names its article by (a profile: ``name``)."""
    text = path.read_text(encoding="utf-8")
    return next((key for key in ("title", "name") if re.search(rf"^{key}:", text, re.M)), None)


def _editable(article) -> bool:
    path = _file(article)
    return path.suffix == ".md" and path.exists() and _key(path) is not None


def _edit(model: ReadModel) -> list[str]:
    """Edit the files of articles of every kind the model links and lists:
    a link target, an article linking to others, an unpublished one, a
    profile, and one given a new date; returns their ids."""
    preview = model.preview
    picks = {
        "target": lambda a: preview.related_from(a),
        "linking": lambda a: any(map(preview.related_target, a.related)),
        "unpublished": lambda a: not a.visible,
        "profile": lambda a: a.person is not None,
        "plain": lambda a: not a.related_from_all and not a.related and a.published_at is not None,
    }
    chosen = {}
    for kind, test in picks.items():
        found = next((a for a in model.all_articles
                      if a.id not in {c.id for c in chosen.values()} and test(a) and _editable(a)), None)
        assert found is not None, f"the corpus has no editable {kind} article"
        chosen[kind] = found
    for kind, article in chosen.items():
        path = _file(article)
        _set(path, _key(path), f'"{EDITED}: {kind}"')
        path.write_text(path.read_text(encoding="utf-8") + "\nA line only the new version has.\n", encoding="utf-8")
    plain = _file(chosen["plain"])
    if re.search(r"^publishedDateTime:", plain.read_text(encoding="utf-8"), re.M):
        _set(plain, "publishedDateTime", "2019-01-02T03:04:05Z")
    return [a.id for a in chosen.values()]


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> dict:
    """A store of the corpus, its model (searchable) and its image's model;
    files of several articles edited and loaded as one more segment."""
    folder = tmp_path_factory.mktemp("patching")
    sites = _site(folder)
    store = Store(folder / "news.json")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compaction, "IMAGE_MIN_ARTICLES", 0)
        assert load(store, sites).ok
    before = read_model(store)
    search.index_for(before)
    from_image = image.load(store)
    assert from_image is not None
    edited = _edit(before)
    report = load(store, sites, compact=False)
    assert report.ok and report.updated["article"] == len(edited), report
    assert len(store.manifest().segments) == 2
    return {"store": store, "before": before, "from_image": from_image, "edited": edited}


@pytest.fixture(scope="module")
def patched(versions) -> ReadModel:
    """As a server makes it: patched, with the search index its load wrote."""
    model = patch(versions["before"], versions["store"])
    model._search_index = searchversions.open_for(versions["store"], model)
    assert model._search_index is not None
    return model


@pytest.fixture(scope="module")
def fresh(versions) -> ReadModel:
    return ReadModel(versions["store"].read())


def test_the_patched_model_is_the_model_built_from_the_store(versions, patched, fresh):
    assert patched.data_version == fresh.data_version != versions["before"].data_version
    assert_same_model(patched, fresh)
    assert_linked_within(patched)
    for ident in versions["edited"]:
        assert patched.preview.by_id[ident].title.startswith(EDITED)
        assert not versions["before"].preview.by_id[ident].title.startswith(EDITED)


def test_the_image_model_patched_is_the_model_built_from_the_store(versions, fresh):
    model = patch(versions["from_image"], versions["store"])
    assert_same_model(model, fresh)
    # What a server starting on this store does: the image, then the newer segment.
    assert_same_model(read_model(versions["store"]), fresh)


def test_a_patch_shares_what_did_not_change(versions, patched):
    before = versions["before"]
    edited = set(versions["edited"])
    for old in before.all_articles:
        assert (patched.preview.by_id[old.id] is old) == (old.id not in edited)
    assert patched.providers is before.providers and patched.topics is before.topics


@pytest.fixture(scope="module")
def clients(versions, patched, fresh):
    limits = Limits(max_cost=200_000)
    with make_client(DataHolder(versions["store"], model=patched), limits=limits) as mine, \
            make_client(DataHolder(versions["store"], model=fresh), limits=limits) as theirs, \
            make_client(DataHolder(versions["store"], model=versions["before"]), limits=limits) as old:
        yield mine, theirs, old


@pytest.fixture(scope="module")
def samples(fresh) -> dict:
    return model_samples(fresh)


EDITED_QUERIES = [
    ("edited articles", """query($ids: [ID!]) { articles(where: {id: {in: $ids}}, first: 10) { totalCount
        edges { cursor node { id title body publishedAt related { url article { id title } } relatedFrom { id title }
        provider { name } topics { name } } } } }""", None),
    ("searched", """{ search(query: "patched rebuilt", first: 20) { totalCount edges { score cursor node { id title } } } }""",
     None),
    ("newest and by title", """{ a: articles(first: 25, orderBy: [{field: PUBLISHED_AT, direction: DESC}]) {
        totalCount pageInfo { endCursor hasNextPage } nodes { id title publishedAt } }
      b: articles(first: 25, orderBy: [{field: TITLE, direction: DESC}]) { nodes { id title } }
      c: facets(where: {text: "patched"}) { total topics { value count } providers { value count } months { value count } } }""",
     None),
]


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
@pytest.mark.parametrize("name, query, variables", QUERIES + EDITED_QUERIES,
                         ids=[case[0] for case in QUERIES + EDITED_QUERIES])
def test_the_patched_model_answers_as_the_fresh_one(clients, samples, versions, name, query, variables, preview):
    mine, theirs, _ = clients
    variables = _fill(variables, samples) if variables else ({"ids": versions["edited"]} if "$ids" in query else None)
    assert_answers_alike(mine, theirs, name, query, variables, preview)


def assert_answers_alike(mine, theirs, name: str, query: str, variables: dict | None, preview: bool) -> None:
    """The patched model (``mine``) answers as the fresh one: the same
    bytes, or for a search the same hits."""
    ours, reference = _post(mine, query, variables, preview), _post(theirs, query, variables, preview)
    assert reference.status_code == 200 and "errors" not in reference.json(), reference.text[:500]
    if "search(" in query:
        # A tantivy index patched keeps the statistics of the documents it
        # deleted until its segments merge, so scores (and the order of hits
        # scoring close) drift from a fresh index's: the hits are the same.
        assert _hits(ours.json()) == _hits(reference.json()), f"{name}: the patched model finds others"
        return
    assert ours.content == reference.content, f"{name}: the patched model answers differently"


def _hits(body: dict) -> dict:
    """Per search, how many hits, and which when the page holds them all
    (which of many make the first page depends on the scores)."""
    return {alias: (found["totalCount"], sorted(e["node"]["id"] for e in found["edges"])
                    if found["totalCount"] <= len(found["edges"]) else None)
            for alias, found in body["data"].items() if isinstance(found, dict) and "edges" in found}


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
def test_every_page_of_the_patched_model_is_the_fresh_ones(clients, fresh, preview):
    mine, theirs, _ = clients
    assert same_pages(mine, theirs, preview) == [a.id for a in fresh.view(preview).articles]


def test_the_version_before_still_answers_as_it_did(clients, versions):
    """Requests that began on the version before finish on it: patching
    changed nothing it holds."""
    _, _, old = clients
    query = """query($ids: [ID!]) { articles(where: {id: {in: $ids}}) { nodes { id title body } }
      search(query: "patched rebuilt") { totalCount } stats { dataVersion } }"""
    data = _post(old, query, {"ids": versions["edited"]}, True).json()["data"]
    assert data["stats"]["dataVersion"] == versions["before"].data_version
    assert data["search"]["totalCount"] == 0
    assert not any(n["title"].startswith(EDITED) or "only the new version" in (n["body"] or "")
                   for n in data["articles"]["nodes"])
    assert len(data["articles"]["nodes"]) == len(versions["edited"])


# --- what is built whole, and why ---------------------------------------------------------

@pytest.fixture
def small(tmp_path) -> tuple[list[Path], Store, ReadModel]:
    sites = _site(tmp_path)
    store = Store(tmp_path / "news.json")
    assert load(store, sites).ok
    return sites, store, read_model(store)


def _reason(model: ReadModel, store: Store) -> str:
    with pytest.raises(Rebuild) as caught:
        patch(model, store)
    return str(caught.value)


def test_an_article_sharing_a_url_is_built_whole(small):
    """An added article at a URL another gives: which of them owns it
    depends on both."""
    sites, store, model = small
    article = next(a for a in model.all_articles if _editable(a))
    path = _file(article)
    shutil.copy(path, path.with_name("a-new-one.md"))
    assert load(store, sites, compact=False).added["article"] == 1
    assert _reason(model, store) == "article 'news/a-new-one' shares a URL with another"


def test_an_article_renaming_a_provider_is_patched_as_built(small):
    """A name only it gives, on a domain named by other articles too: the
    provider's names change, so it is made anew and every article naming
    it is copied to name the new one."""
    sites, store, model = small
    article = next(a for a in model.all_articles
                   if _editable(a) and a.provider is not None and "  name:" in _file(a).read_text())
    path = _file(article)
    path.write_text(path.read_text().replace("  name:", "  name: Someone Else #", 1))
    assert load(store, sites, compact=False).updated["article"] == 1
    patched, fresh = patch(model, store), ReadModel(store.read())
    assert_same_model(patched, fresh)
    domain = article.provider.domain
    assert patched.providers[domain] is not model.providers[domain]
    assert all(a.provider is patched.providers[a.provider.key] for a in patched.all_articles if a.provider)


def test_a_compacted_store_is_built_whole_and_the_server_says_so(small, caplog):
    sites, store, model = small
    holder = DataHolder(store, model=model)
    article = next(a for a in model.all_articles if _editable(a))
    _set(_file(article), "title", '"Compacted"')
    assert load(store, sites).ok  # a small store is written whole: its one segment replaced
    assert _reason(model, store) == "the store was compacted since the model was made"
    with caplog.at_level("INFO", logger="newsgraph"):
        assert holder.reload_if_changed()
    assert "building the model whole: the store was compacted" in caplog.text
    assert holder.model.preview.by_id[article.id].title == "Compacted"


def test_a_server_patches_a_new_version_in(small, caplog):
    sites, store, model = small
    holder = DataHolder(store, model=model)
    article = next(a for a in model.all_articles if _editable(a) and a.visible)
    _set(_file(article), "title", '"Patched by the server"')
    assert load(store, sites, compact=False).updated["article"] == 1
    with caplog.at_level("INFO", logger="newsgraph"):
        assert holder.reload_if_changed()
    assert "patched the model" in caplog.text
    assert holder.model.public.by_id[article.id].title == "Patched by the server"
    assert holder.model is not model and model.public.by_id[article.id].title != "Patched by the server"


def test_a_merge_of_the_newer_segments_is_patched_past(small, monkeypatch):
    """A compaction of the segments after the first writes what they hold
    as one: a model holding all of it is patched with what came after; one
    holding a part of it is built whole."""
    sites, store, model = small
    articles = [a for a in model.all_articles if _editable(a) and a.visible][:4]
    models = []
    for n, article in enumerate(articles[:3]):
        _set(_file(article), _key(_file(article)), f'"Edit {n}"')
        assert load(store, sites, compact=False).updated["article"] == 1
        models.append(patch(model, store))
    monkeypatch.setattr(compaction, "plan", lambda segments: 1)
    assert compaction.compact(store)
    _set(_file(articles[3]), _key(_file(articles[3])), '"Edit 3"')
    assert load(store, sites, compact=False).updated["article"] == 1
    names = [s["name"] for s in store.manifest().segments]
    assert len(names) == 3 and "-" in names[1]
    fresh = ReadModel(store.read())
    assert_same_model(patch(models[-1], store), fresh)
    assert_same_model(patch(model, store), fresh)
    assert _reason(models[0], store) == "a compaction merged segments the model holds with newer ones"


def test_a_compaction_of_what_a_model_holds_keeps_the_model(small, monkeypatch):
    """The same data version merged into other files: the model is that
    version as it is (no rebuild), and the next patch reads what comes after."""
    sites, store, model = small
    articles = [a for a in model.all_articles if _editable(a) and a.visible][:3]
    for n, article in enumerate(articles[:2]):
        _set(_file(article), _key(_file(article)), f'"Held {n}"')
        assert load(store, sites, compact=False).updated["article"] == 1
        model = patch(model, store)
    monkeypatch.setattr(compaction, "plan", lambda segments: 1)
    assert compaction.compact(store)
    names = tuple(s["name"] for s in store.manifest().segments)
    assert names != model.segments and store.manifest().meta["dataVersion"] == model.data_version
    assert patch(model, store) is model and model.segments == names
    _set(_file(articles[2]), _key(_file(articles[2])), '"Held 2"')
    assert load(store, sites, compact=False).updated["article"] == 1
    assert_same_model(patch(model, store), ReadModel(store.read()))


def test_a_version_replaced_by_a_patch_is_freed_without_a_collection(small):
    """No cycle holds a version: once a patch replaces it and no request
    uses it, reference counting frees it, views, memos and all, so a
    server never walks the whole model to free one (graph/state.py retire)."""
    import gc
    import weakref

    sites, store, _ = small
    holder = DataHolder(store, model=read_model(store))  # no reference to it but the holder's
    model = holder.model
    with make_client(holder) as client:
        queries = [q for _, q, v in QUERIES if v is None]
        for preview in (False, True):
            for query in queries:
                assert _post(client, query, None, preview).status_code == 200
        old = weakref.ref(holder.model)
        views = [weakref.ref(holder.model.public), weakref.ref(holder.model.preview)]
        article = next(a for a in model.all_articles if _editable(a) and a.visible)
        _set(_file(article), _key(_file(article)), '"Freed"')
        assert load(store, sites, compact=False).updated["article"] == 1
        del model, article
        gc.disable()
        try:
            assert holder.reload_if_changed()
            assert old() is None and not any(view() for view in views), "the old version waits for a collection"
        finally:
            gc.enable()
        assert _post(client, '{ stats { dataVersion } }', None, False).json()["data"]["stats"]["dataVersion"] \
            == holder.model.data_version


# --- articles added and removed -------------------------------------------------------------

NEW_ARTICLE = """---
title: "Added by a patch"
excerpt: "An article the first version did not have."
publishedDateTime: 2021-03-04T05:06:07Z
webUrl: "https://brand-new-outlet.example/added-by-a-patch"
type: article
published: true
provider:
  name: Brand New Outlet
  domain: brand-new-outlet.example
  images:
    - url: "https://brand-new-outlet.example/logo.png"
topics:
  - Power Apps
  - A Topic Never Seen
---
Patched rebuilt body.
"""


def _removable(model: ReadModel, article) -> bool:
    """A plain public article: no links to or from it, in no playlist."""
    return (article.visible and _editable(article) and not article.related_from_all and not article.related
            and not article.playlists_all and not article.items_all and article.person is None)


@pytest.fixture(scope="module")
def reshaped(tmp_path_factory) -> dict:
    """A store of the corpus and its model; then, as one more segment: an
    article added (with a provider and a topic no article named), one
    removed, an unpublished one published, one given another type; then,
    as one more, the added one removed again (its provider and its topic
    named by nothing) and the published one unpublished."""
    folder = tmp_path_factory.mktemp("reshaping")
    sites = _site(folder)
    store = Store(folder / "news.json")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compaction, "IMAGE_MIN_ARTICLES", 0)
        assert load(store, sites).ok
    first = read_model(store)
    search.index_for(first)
    removable = [a for a in first.all_articles if _removable(first, a)]
    gone, retyped = removable[len(removable) // 2], removable[-1]
    flipped = next(a for a in first.all_articles if not a.visible and _editable(a)
                   and "\npublished: false" in _file(a).read_text(encoding="utf-8"))
    added = _file(retyped).with_name("added-by-a-patch.md")
    added.write_text(NEW_ARTICLE, encoding="utf-8")
    os.unlink(_file(gone))
    flip = _file(flipped)
    flip.write_text(flip.read_text(encoding="utf-8").replace("\npublished: false", "\npublished: true", 1),
                    encoding="utf-8")
    _set(_file(retyped), "type", "video")
    report = load(store, sites, compact=False, prune=True)
    assert report.ok and report.added["article"] == 1 and report.removed["article"] == 1, report
    second = ReadModel(store.read())
    added_id = next(a.id for a in second.all_articles if a.title == "Added by a patch")
    os.unlink(added)
    flip.write_text(flip.read_text(encoding="utf-8").replace("\npublished: true", "\npublished: false", 1),
                    encoding="utf-8")
    assert load(store, sites, compact=False, prune=True).removed["article"] == 1
    return {"store": store, "first": first, "second": second, "third": ReadModel(store.read()),
            "added": added_id, "gone": gone.id, "flipped": flipped.id, "retyped": retyped.id}


def _version(store: Store, n: int):
    """The manifest of the store's ``n``th version (1: its first segment alone)."""
    manifest = store.manifest()
    return type(manifest)(dict(manifest.meta), manifest.segments[:n])


@pytest.fixture(scope="module")
def grown(reshaped) -> ReadModel:
    """The first model patched with the second version."""
    store = reshaped["store"]
    manifest = store.manifest()
    segments = manifest.segments[:2]
    meta = store.read_segments(segments[1:]).meta
    model = patch(reshaped["first"], store, type(manifest)(meta, segments))
    model._search_index = searchversions.open_for(store, model)
    return model


def test_added_and_removed_articles_are_patched_in(reshaped, grown):
    second = reshaped["second"]
    assert grown.data_version == second.data_version != reshaped["first"].data_version
    assert_same_model(grown, second)
    assert_linked_within(grown)
    assert "brand-new-outlet.example" in grown.public.providers
    assert grown.public.topic_counts["a-topic-never-seen"] == 1
    assert reshaped["gone"] not in grown.preview.by_id and reshaped["flipped"] in grown.public.by_id
    assert grown.preview.by_id[reshaped["retyped"]].type == "video"


def test_a_patch_that_adds_shares_what_it_does_not_touch(reshaped, grown):
    first = reshaped["first"]
    changed = {reshaped[k] for k in ("added", "gone", "flipped", "retyped")}
    kept = [a for a in first.all_articles if a.id not in changed]
    assert sum(grown.preview.by_id[a.id] is a for a in kept) == len(kept)
    assert all(grown.providers[key] is p for key, p in first.providers.items() if key in grown.providers)
    assert all(grown.topics[slug] is t for slug, t in first.topics.items())


def test_removing_again_patches_back(reshaped, grown):
    """The added article removed: its provider and topic go with it (no
    other article names them), and the published one is hidden again."""
    third = reshaped["third"]
    model = patch(grown, reshaped["store"])
    assert_same_model(model, third)
    assert_linked_within(model)
    assert "brand-new-outlet.example" not in model.providers and "a-topic-never-seen" not in model.topics
    assert reshaped["flipped"] not in model.public.by_id


def test_the_first_model_patched_twice_at_once(reshaped):
    assert_same_model(patch(reshaped["first"], reshaped["store"]), reshaped["third"])


@pytest.fixture(scope="module")
def grown_clients(reshaped, grown):
    limits = Limits(max_cost=200_000)
    store = reshaped["store"]
    with make_client(DataHolder(store, model=grown), limits=limits) as mine, \
            make_client(DataHolder(store, model=reshaped["second"]), limits=limits) as theirs:
        yield mine, theirs


GROWN_QUERIES = [
    ("sidebars", """{ providers(first: 100) { totalCount nodes { key name names articleCount images { url } } }
        new: providers(where: {domain: {eq: "brand-new-outlet.example"}}) { totalCount nodes { key name articleCount } }
        topics(first: 100) { totalCount nodes { slug name articleCount } }
        stats { articles providers topics } }""", None),
    ("facets", """{ facets { total topics { value label count } providers { value label count }
        types { value count } months { value count } sites { value count } collections { value count } } }""", None),
    ("pages", """{ articles(first: 40, orderBy: [{field: PUBLISHED_AT, direction: DESC}]) { totalCount
        nodes { id title type provider { key name names } topics { slug name } } } }""", None),
    ("by provider and topic", """{ a: articles(where: {provider: {domain: {eq: "brand-new-outlet.example"}}}) {
        totalCount nodes { id title } }
      b: articles(where: {topics: {some: ["a-topic-never-seen"]}}) { totalCount nodes { id } }
      c: articles(where: {type: {eq: "video"}}) { totalCount } }""", None),
    ("searched", """{ search(query: "patched rebuilt", first: 20) { totalCount edges { node { id title } } } }""", None),
]


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
@pytest.mark.parametrize("name, query, variables", QUERIES + GROWN_QUERIES,
                         ids=[case[0] for case in QUERIES + GROWN_QUERIES])
def test_the_grown_model_answers_as_the_fresh_one(grown_clients, reshaped, name, query, variables, preview):
    mine, theirs = grown_clients
    samples = {**model_samples(reshaped["second"]), "topic": "a-topic-never-seen"}
    variables = _fill(variables, samples) if variables else None
    assert_answers_alike(mine, theirs, name, query, variables, preview)


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
def test_every_page_of_the_grown_model_is_the_fresh_ones(grown_clients, reshaped, preview):
    mine, theirs = grown_clients
    assert same_pages(mine, theirs, preview) == [a.id for a in reshaped["second"].view(preview).articles]


def _front(title: str, url: str, provider: tuple[str, str], topics: list[str], published: bool) -> str:
    lines = ["---", f'title: "{title}"', "publishedDateTime: 2020-05-06T07:08:09Z", f'webUrl: "{url}"',
             "type: article", f"published: {'true' if published else 'false'}",
             "provider:", f"  name: {provider[1]}", f"  domain: {provider[0]}", "topics:"]
    return "\n".join(lines + [f"  - {t}" for t in topics] + ["---", "A body.", ""])


def test_a_run_of_adds_removes_and_flips_is_patched_as_built(tmp_path):
    """Random steps on one site (articles added with known and new
    providers and topics, removed, published and unpublished, given other
    topics, a topic's first giver spelling it otherwise) and sites new to
    the store, each loaded as a segment: every model patched is the model
    built from the store; what cannot be patched says why and is built."""
    rng = random.Random(18)
    site = tmp_path / AZURE.name
    shutil.copytree(AZURE, site)
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    model = read_model(store)
    news = site / "_news"
    patched, reasons = 0, []
    targets, renamed = [site], 0
    for step in range(30):
        files = sorted(news.glob("*.md"))
        kind = rng.choice(["add", "add", "remove", "flip", "topics", "site", "rename"])
        if kind == "rename":  # the article that first names a topic spells it otherwise
            givers = sorted((num, key[1], side) for side in (True, False)
                            for key, num in model.mentions[side].givers.items()
                            if key[0] == "t" and not model.topics[key[1]]._declared)
            if givers:  # the corpus's topics are declared: those of articles added before
                num, slug, side = rng.choice(givers)
                path = _file(model.indexes.by_num[num])
                name = model.mentions[side].topic_names[slug]
                text = path.read_text(encoding="utf-8")
                assert f"  - {name}\n" in text, (path, name)
                path.write_text(text.replace(f"  - {name}\n", f"  - {name.swapcase()}\n", 1), encoding="utf-8")
                renamed += 1
        elif kind == "site":  # a site new to the store, with an article and a logo at a path of its own
            other = tmp_path / f"site-{step}"
            (other / "_news").mkdir(parents=True)
            (other / "_config.yml").write_text(f'title: "Site {step}"\nurl: "https://site-{step}.example"\n'
                                               'baseurl: "/news"\n', encoding="utf-8")
            (other / "_news" / f"2020-05-0{step % 9 + 1}-first.md").write_text(
                _front(f"Site {step} first", f"https://site-{step}.example/first", (f"site-{step}.example", "Own"),
                       ["Azure", f"Topic {step}"], True).replace("topics:", "  images:\n    - url: /logo.png\ntopics:"),
                encoding="utf-8")
            targets.append(other)
        elif kind == "add":
            provider = rng.choice([("microsoft.com", "Microsoft"), ("microsoft.com", "Microsoft Azure"),
                                   (f"outlet-{step}.example", f"Outlet {step}")])
            topics = rng.sample(["Azure", "Analytics", f"Topic {step}"], k=rng.randrange(1, 3))
            (news / f"2020-05-06-added-{step}.md").write_text(
                _front(f"Added {step}", f"https://example.org/added/{step}", provider, topics, rng.random() < 0.7),
                encoding="utf-8")
        elif kind == "remove":
            rng.choice(files).unlink()
        else:
            path = rng.choice(files)
            text = path.read_text(encoding="utf-8")
            if kind == "flip":
                text = re.sub(r"^published: (true|false)$",
                              lambda m: "published: " + ("false" if m[1] == "true" else "true"), text, count=1,
                              flags=re.M) if re.search(r"^published:", text, re.M) else \
                    text.replace("---\n", "---\npublished: false\n", 1)
            else:
                text = re.sub(r"^topics:\n(  - .*\n)*", "topics:\n  - Analytics\n  - Another Topic\n", text,
                              count=1, flags=re.M)
            path.write_text(text, encoding="utf-8")
        assert load(store, targets, compact=False, prune=True).ok
        fresh = ReadModel(store.read())
        try:
            model = patch(model, store)
        except Rebuild as reason:
            reasons.append(str(reason))
            model = fresh
            continue
        assert_same_model(model, fresh)
        # Indexes, word maps and facet tallies too (their vectors count some
        # patches' changes only once enough wait: store/tallies.py).
        assert_same_indexes(model.indexes, fresh.indexes)
        by_num = model.indexes.by_num
        assert all(by_num[a.num] is a and (a.provider is None or a.provider is model.providers[a.provider.key])
                   for a in model.all_articles)
        patched += 1
    assert patched >= 26 and len(targets) > 1 and renamed, reasons
