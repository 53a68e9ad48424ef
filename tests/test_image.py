"""The read-model image (store/image.py) on the real corpus: a model from the
image is the model built from the store, attribute for attribute and answer
byte for answer byte; an image that does not fit its store is never served;
a failing image build never stops a load; details are read from the store
file the model was opened on, and a damaged record is named."""
from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import weakref
from pathlib import Path

import pytest
from tinydb import TinyDB

from graph.settings import Limits
from graph.state import DataHolder, read_model
from store import compaction, image, ingest, storage
from store.db import Store
from store.errors import StoreCorrupt
from store.ingest import load
from store.objects import Article, Provider, Site, Topic
from store.readmodel import ReadModel
from tests.conftest import AZURE, FROZEN_NOW, POWER_APPS, SEED, TOKEN, make_client
from tests.stores import copy_store as copy_files, plain_tables

# --- describing a model as plain data ----------------------------------------------

# Slots holding other objects, described apart; every other slot is a plain value
# (a slot added later is compared without anyone listing it here).
_LINKED = {"provider", "topics", "images", "_details", "_span", "_records", "site", "person", "event"}
PLAIN = tuple(name for name in Article.__slots__ if name not in _LINKED)


def _image(i) -> tuple:
    return (i.url, i.path, i.width, i.height, i.title, i.is_cached, i.extra, i.aspect_ratio)


def _related(item) -> dict:
    return {"title": item.title, "excerpt": item.excerpt, "url": item.url, "amp_url": item.amp_url,
            "cdn_amp_url": item.cdn_amp_url, "published_at": item.published_at, "type": item.type,
            "quality": item.quality, "provider": item.provider and item.provider.key,
            "provider_name": item.provider_name, "images": [_image(i) for i in item.images],
            "extra": item.extra, "owner": item.owner}


def _plain(value):
    # A set's repr follows its insertion history, which unpickling does not keep.
    return sorted(value) if isinstance(value, (set, frozenset)) else value


def eager(article: Article) -> dict:
    facts = {name: _plain(getattr(article, name)) for name in PLAIN}
    facts["provider"] = article.provider and article.provider.key
    facts["site"] = article.site and article.site.name
    facts["person"] = article.person and person_facts(article.person)
    facts["event"] = article.event and event_facts(article.event)
    facts["topics"] = [t.slug for t in article.topics]
    facts["images"] = [_image(i) for i in article.images]
    facts["image"] = article.image and _image(article.image)
    return facts


def lazy(article: Article) -> dict:
    source = article.source
    return {"body": article.body, "featured_content": article.featured_content,
            "extra": article.extra,
            "source": (source.path, source.root, source.loader, source.paths),
            "related": [_related(item) for item in article.related]}


def provider_facts(p: Provider) -> dict:
    return {name: getattr(p, name) for name in Provider.__slots__ if name != "images"} | \
        {"images": [_image(i) for i in p.images]}


def person_facts(person) -> dict:
    facts = {name: getattr(person, name) for name in person.__slots__ if name not in ("article", "affiliation", "links")}
    facts["article"] = person.article.id
    facts["affiliation"] = person.affiliation and person.affiliation.key
    facts["links"] = [(link.network, link.url, link.username, link.followers) for link in person.links]
    return facts


def event_facts(event) -> dict:
    facts = {name: getattr(event, name) for name in event.__slots__ if name != "article"}
    facts["article"] = event.article.id
    return facts


def site_facts(site: Site) -> dict:
    facts = {name: getattr(site, name) for name in Site.__slots__ if name != "collections"}
    facts["collections"] = [(c.name, c.title, c.output, c.extra) for c in site.collections]
    return facts


def topic_facts(t: Topic) -> dict:
    return {name: getattr(t, name) for name in Topic.__slots__ if name != "images"} | \
        {"images": [_image(i) for i in t.images]}


def view_facts(view) -> dict:
    ids = lambda index: {key: [a.id for a in items] for key, items in index.items()}  # noqa: E731
    return {"preview": view.preview, "articles": [a.id for a in view.articles],
            # Maps for lookups: their order means nothing (a patch lays keys over them).
            "by_id": sorted(view.by_id), "by_url": {k: view.by_url[k].id for k in sorted(view.by_url)},
            "by_topic": ids(view.by_topic), "by_provider": ids(view.by_provider),
            "by_type": ids(view.by_type), "by_collection": ids(view.by_collection),
            "by_site": ids(view.by_site), "sites": list(view.sites), "by_domain": ids(view.by_domain),
            "people": [p.id for p in view.people], "events": [e.id for e in view.events],
            "providers_by_domain": {d: [p.key for p in ps] for d, ps in view.providers_by_domain.items()},
            "providers": {d: provider_facts(p) for d, p in view.providers.items()},
            "topics": {s: topic_facts(t) for s, t in view.topics.items()},
            "provider_counts": view.provider_counts, "topic_counts": view.topic_counts,
            "related_count": view.related_count, "provider_refs": dict(sorted(view.provider_refs.items())),
            "site_collections": {name: [(c.name, c.title, c.declared) for c in found]
                                 for name, found in view.site_collections.items()}}


def mention_facts(said, unknown=frozenset()) -> dict:
    """What a model keeps of what articles say (readmodel Mentions), for
    the patches that add and remove articles; without what a patch lost
    track of (``unknown``: the first giver taken out, others giving it)."""
    return {"domains": dict(sorted(said.domains.items())),
            "names": {d: list(names.items()) for d, names in sorted(said.names.items())
                      if not any(k[0] == "n" and k[1] == d for k in unknown)},
            "images": {d: [_image(i) for i in images] for d, images in sorted(said.images.items())
                       if ("i", d) not in unknown},
            "name_images": {k: [_image(i) for i in images] for k, images in sorted(said.name_images.items())
                            if ("ni", *k) not in unknown},
            "topic_names": {s: n for s, n in sorted(said.topic_names.items()) if ("t", s) not in unknown},
            "givers": {k: n for k, n in sorted(said.givers.items()) if k not in unknown and
                       not (k[0] == "n" and any(u[0] == "n" and u[1] == k[1] for u in unknown))}}


def _same(mine, theirs, what: str) -> None:
    assert mine == theirs, what
    # repr as well: == hides 1 == 1.0 == True, a tuple for a list, int keys for str keys.
    assert repr(mine) == repr(theirs), f"{what}: equal values of different types or order"


def assert_same_model(mine: ReadModel, slow: ReadModel) -> None:
    """``mine`` (from an image) holds what ``slow`` (built from the store) holds."""
    assert [a.id for a in mine.all_articles] == [a.id for a in slow.all_articles]
    assert (mine.data_version, mine.loaded_at) == (slow.data_version, slow.loaded_at)
    # The model's maps are keyed in the order articles first named each key,
    # which nothing reads (the views' are sorted): compared by key.
    _same({d: provider_facts(p) for d, p in sorted(mine.providers.items())},
          {d: provider_facts(p) for d, p in sorted(slow.providers.items())}, "providers")
    _same({s: topic_facts(t) for s, t in sorted(mine.topics.items())},
          {s: topic_facts(t) for s, t in sorted(slow.topics.items())}, "topics")
    _same({n: site_facts(s) for n, s in mine.sites.items()},
          {n: site_facts(s) for n, s in slow.sites.items()}, "sites")
    _same([person_facts(p) for p in mine.people], [person_facts(p) for p in slow.people], "people")
    _same([event_facts(e) for e in mine.events], [event_facts(e) for e in slow.events], "events")
    for a, b in zip(mine.all_articles, slow.all_articles):
        _same(eager(a), eager(b), f"eager fields of {a.id}")
        _same(lazy(a), lazy(b), f"details of {a.id}")
    for preview in (False, True):
        _same(view_facts(mine.view(preview)), view_facts(slow.view(preview)), f"view preview={preview}")
    for side in (True, False):
        unknown = mine.mentions[side].unknown
        _same(mention_facts(mine.mentions[side], unknown), mention_facts(slow.mentions[side], unknown),
              f"mentions of side {side}")


def assert_linked_within(model: ReadModel) -> None:
    """Every reference in a model from an image points into that model."""
    articles = model.all_articles
    by_num = model.indexes.by_num
    for article in articles:
        assert by_num[article.num] is article
        assert article._records is model.records
        assert article.provider is None or article.provider is model.providers[article.provider.key]
        assert all(t is model.topics[t.slug] for t in article.topics)
        for linked in (article.related_from_all, article.items_all or (), article.playlists_all or ()):
            assert all(by_num[n] is not None for n in linked)
        for item in article.related:
            assert item.provider is None or item.provider is model.providers[item.provider.key]
            assert item.owner == article.num
        for typed in (article.person, article.event):
            assert typed is None or typed.article is article
        if article.person is not None and article.person.affiliation is not None:
            assert article.person.affiliation is model.providers[article.person.affiliation.key]
    assert all(p is p.article.person for p in model.people)
    assert all(e is e.article.event for e in model.events)
    for view in (model.public, model.preview):
        assert view.model is model
        assert all(by_num[a.num] is a for a in view.articles)


def slow_model(store: Store) -> ReadModel:
    return ReadModel(store.read())


def copy_store(source: Store, folder) -> Store:
    """The store's files (with their mtimes, which the stamp names) and its
    image, elsewhere (the stamp names no path)."""
    target = Store(folder / os.path.basename(source.path))
    copy_files(source.path, target.path)
    shutil.copyfile(image.path_for(source), image.path_for(target))
    return target


def segment_of(store: Store) -> str:
    """The file of a store of one segment, which its image is made for."""
    (name,) = plain_tables(store.path)["segments"]
    return os.path.join(store.path + ".d", name)


def store_files(store: Store) -> list[str]:
    """What is in the store's folder (but the compaction's lock file and its
    search index's folder, tests/test_search_versions.py) and in its
    segments' folder."""
    folder = os.path.dirname(store.path)
    return sorted(n for n in os.listdir(folder)
                  if not n.endswith(".compact.lock") and n != os.path.basename(store.path) + ".search") \
        + sorted(os.listdir(store.path + ".d"))


# --- the corpus, loaded once for this module --------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def images_at_any_size():
    """The corpus (830 articles) is below the size a load writes images for."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compaction, "IMAGE_MIN_ARTICLES", 0)
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("image") / "corpus.json")
    report = load(store, [POWER_APPS, AZURE, SEED])
    assert report.ok and report.written, report.rejected
    return store


@pytest.fixture(scope="module")
def models(corpus) -> tuple[ReadModel, ReadModel]:
    """(the model from the image, the model built from the store)."""
    from_image = image.load(corpus)
    assert from_image is not None, "a load must leave an image that fits its store"
    return from_image, slow_model(corpus)


# 1. the image's model is the model built from the store ------------------------------------

def test_a_load_leaves_an_image_stamped_for_its_store(corpus):
    with open(image.path_for(corpus), "rb") as handle:
        stamp = json.loads(handle.readline())
    meta = corpus.read().meta
    written = os.stat(segment_of(corpus))
    assert stamp == {"code": image.FINGERPRINT, "dataVersion": meta["dataVersion"],
                     "loadedAt": meta["loadedAt"], "file": [written.st_size, written.st_mtime_ns]}


def test_the_image_model_holds_no_details_until_asked(corpus):
    model = image.load(corpus)
    assert model.records.path == segment_of(corpus)
    assert all(a._details is None and a._span is not None for a in model.all_articles)
    assert model.records.cache == {}


def test_the_image_model_equals_the_model_built_from_the_store(models):
    from_image, slow = models
    assert len(from_image.all_articles) == 830  # the whole corpus (a few articles are unpublished)
    assert_same_model(from_image, slow)
    assert_linked_within(from_image)


def indexes_facts(model: ReadModel) -> dict:
    indexes = model.indexes
    return {"numbers": [a and a.id for a in indexes.by_num],
            "postings": {key: {value: list(bits) for value, bits in values.items()}
                         for key, values in indexes.postings.items()},
            "rankings": {order: list(ranking.nums) for order, ranking in indexes.rankings.items()}}


def test_the_image_holds_the_models_indexes(models):
    from_image, slow = models
    _same(indexes_facts(from_image), indexes_facts(slow), "indexes")
    articles = set(map(id, from_image.all_articles))
    assert all(id(a) in articles for a in from_image.indexes.by_num if a is not None)
    assert from_image.indexes.visible == from_image.indexes.postings["visible"][True]


def test_the_corpus_exercises_every_lazy_field(models):
    """The comparison above means something: the corpus has what it compares."""
    _, slow = models
    articles = slow.all_articles
    assert sum(1 for a in articles if a.featured_content) > 100
    assert sum(1 for a in articles if a.extra) > 100
    assert sum(1 for a in articles if len(a.source.paths) > 1) > 100
    assert sum(1 for a in articles if any(map(slow.preview.related_target, a.related))) > 10
    assert sum(len(a.related) for a in articles) > 300
    assert any(not b.visible for a in articles for b in slow.preview.related_from(a))  # public != preview
    assert len(slow.preview.articles) > len(slow.public.articles)


# 2. and answers the same bytes ---------------------------------------------------------------

ARTICLE_FIELDS = """id slug collection title excerpt body type url originalUrl ampUrl cdnAmpUrl
  publishedAt quality heat published featuredContent providerName extra
  provider { id domain name description extra names articleCount images { url width height title isCached aspectRatio extra } }
  topics { id slug name keywords hashtags articleCount extra parent { slug } }
  images { url width height title isCached aspectRatio extra } image { url aspectRatio }
  source { path loader paths }"""

RELATED_FIELDS = """title excerpt url ampUrl cdnAmpUrl publishedAt type quality providerName extra
  provider { domain name } images { url width height extra }"""

EVERY_ARTICLE = """query($after: String) { articles(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { %s related { %s article { id title } } relatedFrom { id } } } }""" % (ARTICLE_FIELDS, RELATED_FIELDS)

QUERIES = [
    # (name, query, variables)
    ("nested articles with related and relatedFrom", """{ articles(first: 30, where: {hasRelated: true}) {
        totalCount edges { cursor node { id title body related { %s article { id body
          related(first: 3) { title article { id extra } } relatedFrom(first: 3) { id source { path } } } }
        relatedFrom { id title related(first: 2) { url } } } } } }""" % RELATED_FIELDS, None),
    ("linked article by id", "query($id: ID!) { article(id: $id) { %s related { %s article { id } } relatedFrom { id } } }"
     % (ARTICLE_FIELDS, RELATED_FIELDS), {"id": "{linked}"}),
    ("link target by id", "query($id: ID!) { article(id: $id) { id body extra relatedFrom { id body extra } } }",
     {"id": "{target}"}),
    ("featured content", "query($id: ID!) { article(id: $id) { id body featuredContent extra source { path loader paths } } }",
     {"id": "{featured}"}),
    ("unpublished article", "query($id: ID!) { article(id: $id) { %s related { title } relatedFrom { id } } }"
     % ARTICLE_FIELDS, {"id": "{hidden}"}),
    ("by url", "query($u: String) { article(url: $u) { id body related { url article { id } } } }",
     {"u": "{url}"}),
    ("facets", """{ all: facets { total topics { value label count } providers { value label count }
        types { value count } months { value count } }
      linked: facets(where: {hasRelated: true}) { total providers { value count } }
      text: facets(where: {text: "power apps"}) { total topics { value count } } }""", None),
    ("topic facets", """query($s: String!) { f: facets(where: {topics: {some: [$s]}}) { total
        topics { value label count } providers { value label count } types { value count }
        months { value count } } }""", {"s": "{topic}"}),
    ("providers", """{ providers(first: 100) { totalCount pageInfo { hasNextPage endCursor }
        nodes { id domain name description extra names articleCount images { url width height extra }
          articles(first: 5) { totalCount nodes { id body } } } } }""", None),
    ("one provider", """query($d: String!, $n: String) { provider(domain: $d, name: $n) { id key name names articleCount
        articles(first: 20, orderBy: [{field: HEAT, direction: DESC}]) { nodes { id heat extra } } } }""",
     {"d": "{domain}", "n": "{name}"}),
    ("topics", """{ topics(first: 100) { totalCount nodes { id slug name keywords hashtags extra articleCount
        parent { slug } images { url } articles(first: 3) { nodes { id title } } } } }""", None),
    ("one topic", """query($s: String) { topic(slug: $s) { id name articleCount
        articles(first: 50, orderBy: [{field: TITLE, direction: ASC}]) { totalCount nodes { id title body } } } }""",
     {"s": "{topic}"}),
    ("search", """{ words: search(query: "power apps", first: 50) { totalCount edges { score cursor node { id title } } }
      prefix: search(query: "micro*", first: 20) { totalCount edges { score node { id } } }
      phrase: search(query: "\\"data lake\\"") { totalCount edges { score node { id body } } }
      narrowed: search(query: "azure", where: {collection: {eq: "news"}}) { totalCount edges { score node { id } } } }""",
     None),
    ("text filter and orders", """{ a: articles(where: {text: "canvas app"}, orderBy: [{field: QUALITY}]) {
        totalCount nodes { id quality } }
      b: articles(last: 10, orderBy: [{field: TITLE, direction: ASC}]) { nodes { id title } }
      c: articles(where: {OR: [{published: false}, {hasImages: true}]}, first: 40) { totalCount nodes { id published } } }""",
     None),
    ("stats and nodes", """query($a: ID!, $p: ID!, $t: ID!) { stats { articles providers topics relatedItems
        collections { value count } dataVersion loadedAt }
      a: node(id: $a) { __typename id ... on Article { body extra } }
      p: node(id: $p) { __typename id ... on Provider { name articleCount } }
      t: node(id: $t) { __typename id ... on Topic { slug name } } }""",
     {"a": "{linked}", "p": "provider:{key}", "t": "topic:{topic}"}),
]


def model_samples(model) -> dict:
    """Real values of ``model`` to put in QUERIES' variables: a linked
    article and its target, a hidden and a featured one, the provider and
    the topic with the most articles."""
    public = model.public
    linked = next(a for a in public.articles if any(map(public.related_target, a.related)))
    target = next(filter(None, map(public.related_target, linked.related)))
    provider = max(public.providers.values(), key=lambda p: len(public.by_provider.get(p.key, ())))
    topic = max(public.topics.values(), key=lambda t: len(public.by_topic.get(t.slug, ())))
    return {"linked": linked.id, "target": target.id, "url": linked.url,
            "hidden": next(a for a in model.preview.articles if not a.visible).id,
            "featured": next(a for a in public.articles if a.featured_content and a.extra).id,
            "domain": provider.domain, "name": provider.name, "key": provider.key,
            "topic": topic.slug}


@pytest.fixture(scope="module")
def samples(models) -> dict:
    return model_samples(models[1])


def _fill(variables: dict | None, samples: dict) -> dict | None:
    return variables and {k: v.format(**samples) for k, v in variables.items()}


@pytest.fixture(scope="module")
def clients(corpus, models):
    """Two servers on the same store: one on the image model, one on the slow path."""
    from_image, slow = models
    limits = Limits(max_cost=200_000)  # a page of 100 articles with their related lists
    with make_client(DataHolder(corpus, model=from_image), limits=limits) as mine, \
            make_client(DataHolder(corpus, model=slow), limits=limits) as theirs:
        yield mine, theirs


def _post(client, query: str, variables: dict | None, preview: bool):
    headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
@pytest.mark.parametrize("name, query, variables", QUERIES, ids=[case[0] for case in QUERIES])
def test_answers_are_byte_identical(clients, samples, name, query, variables, preview):
    mine, theirs = clients
    variables = _fill(variables, samples)
    ours, reference = _post(mine, query, variables, preview), _post(theirs, query, variables, preview)
    assert reference.status_code == 200 and "errors" not in reference.json(), reference.text[:500]
    assert ours.status_code == reference.status_code
    assert ours.content == reference.content, f"{name}: the image model answers differently"


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
def test_every_article_answers_the_same_page_by_page(clients, models, preview):
    mine, theirs = clients
    assert same_pages(mine, theirs, preview) == [a.id for a in models[1].view(preview).articles]


def same_pages(mine, theirs, preview: bool) -> list[str]:
    """Walks every article page by page on two servers, requiring the same bytes; the ids seen."""
    seen, after = [], None
    while True:
        ours, reference = (_post(c, EVERY_ARTICLE, {"after": after}, preview) for c in (mine, theirs))
        assert reference.status_code == 200 and "errors" not in reference.json(), reference.text[:500]
        assert ours.content == reference.content, f"the page after {after} differs"
        page = reference.json()["data"]["articles"]
        seen += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_the_preview_answers_differ_from_the_public_ones(clients, samples):
    """The byte comparisons above are not of two empty answers to the hidden article."""
    mine, _ = clients
    query = "query($id: ID!) { article(id: $id) { id body } }"
    public = _post(mine, query, {"id": samples["hidden"]}, False).json()
    preview = _post(mine, query, {"id": samples["hidden"]}, True).json()
    assert public["data"]["article"] is None
    assert preview["data"]["article"]["id"] == samples["hidden"]


# 3. stale and foreign images ----------------------------------------------------------------

NEW_TITLE = "Edited for the image test"
NEW_WORDS = "A sentence only the second load has."


def make_site(folder: Path) -> Path:
    """A small site to change: the Azure sample (linked news) and the
    power-apps samples (HTML bodies)."""
    site = folder / "site"
    shutil.copytree(AZURE, site)
    shutil.copytree(POWER_APPS / "_samples", site / "_samples")
    return site


def edit(site: Path, title: str, words: str = "") -> str:
    """Give the first sample of ``site`` a new title and more body; returns its id."""
    path = sorted((site / "_samples").glob("*.md"))[0]
    text = path.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("title:"))
    text = text.replace(line, f"title: {json.dumps(title)}", 1)
    path.write_text(text.rstrip("\n") + words + "\n", encoding="utf-8")
    return f"samples/{path.stem}"


@pytest.fixture
def small_site(tmp_path) -> tuple[Path, Store]:
    """A small site, loaded (so it has an image), to change and load again."""
    site = make_site(tmp_path)
    store = Store(tmp_path / "db" / "news.json")
    assert load(store, [site]).ok
    assert os.path.exists(image.path_for(store))
    return site, store


@pytest.fixture(scope="module")
def two_loads(tmp_path_factory) -> dict:
    """A site loaded, a model taken from its image, one file changed, loaded again."""
    folder = tmp_path_factory.mktemp("two-loads")
    site = make_site(folder)
    store = Store(folder / "news.json")
    assert load(store, [site, SEED]).ok
    first = image.load(store)
    assert first is not None
    old_image = Path(image.path_for(store)).read_bytes()
    first_slow = slow_model(store)  # what the first load wrote, read before the second

    article_id = edit(site, NEW_TITLE, f"<p>{NEW_WORDS}</p>")
    report = load(store, [site, SEED])
    assert report.ok and report.written and report.updated["article"] == 1
    assert report.data_version != first.data_version
    return {"store": store, "first": first, "first_slow": first_slow, "old_image": old_image,
            "id": article_id}


def test_a_second_load_gives_a_new_image_with_the_change(two_loads):
    store = two_loads["store"]
    model = image.load(store)
    assert model is not None, "the second load must leave an image too"
    article = model.preview.by_id[two_loads["id"]]
    assert article.title == NEW_TITLE and NEW_WORDS in article.body
    assert model.data_version != two_loads["first"].data_version
    assert_same_model(model, slow_model(store))


def test_a_server_reloads_onto_the_image_of_a_new_load(small_site):
    site, store = small_site
    holder = DataHolder(store)
    assert all(a._details is None for a in holder.model.all_articles), "not started from the image"
    query = {"query": '{ articles(where: {collection: {eq: "samples"}}, first: 1, '
                      'orderBy: [{field: TITLE, direction: ASC}]) { nodes { id title body } } }'}
    article_id = edit(site, "!First: an edited sample", f"<p>{NEW_WORDS}</p>")
    with make_client(holder) as client:
        before = client.post("/graphql", json=query).json()["data"]["articles"]["nodes"][0]
        assert load(store, [site]).written and holder.reload_if_changed()
        after = client.post("/graphql", json=query).json()["data"]["articles"]["nodes"][0]
    assert before["id"] != article_id
    assert after["id"] == article_id and after["title"] == "!First: an edited sample"
    assert NEW_WORDS in after["body"]
    assert all(a._details is None for a in holder.model.all_articles), "the reload ignored the new image"


def test_an_old_image_over_the_new_store_is_ignored(two_loads, tmp_path, caplog):
    store = copy_store(two_loads["store"], tmp_path)
    with open(image.path_for(store), "wb") as handle:
        handle.write(two_loads["old_image"])  # fits the first load, not this store file
    with caplog.at_level(logging.INFO, logger="newsgraph"):
        assert image.load(store) is None
    assert "does not fit" in caplog.text and image.path_for(store) in caplog.text
    model = read_model(store)
    assert model.preview.by_id[two_loads["id"]].title == NEW_TITLE
    assert_same_model(model, slow_model(store))


def test_an_image_of_another_store_is_ignored(two_loads, corpus, tmp_path):
    store = copy_store(two_loads["store"], tmp_path)
    shutil.copyfile(image.path_for(corpus), image.path_for(store))
    assert image.load(store) is None
    assert [a.id for a in read_model(store).all_articles] == [a.id for a in slow_model(store).all_articles]


def test_an_image_made_by_other_code_is_ignored(two_loads, tmp_path, monkeypatch):
    store = copy_store(two_loads["store"], tmp_path)
    assert image.load(store) is not None
    monkeypatch.setattr(image, "FINGERPRINT", "another-version")
    assert image.load(store) is None


def _stamp_line(store: Store) -> bytes:
    with open(image.path_for(store), "rb") as handle:
        return handle.readline()


DAMAGE = {
    "stamp only": lambda stamp, pickled: stamp,
    "truncated pickle": lambda stamp, pickled: stamp + pickled[: len(pickled) // 2],
    "garbage after the stamp": lambda stamp, pickled: stamp + b"\x80\x05not a pickle at all" * 50,
    "garbage stamp": lambda stamp, pickled: b"\x00\xff" * 64 + pickled,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_image_falls_back_to_the_store_with_a_warning(two_loads, tmp_path, caplog, damage):
    store = copy_store(two_loads["store"], tmp_path)
    raw = Path(image.path_for(store)).read_bytes()
    stamp = _stamp_line(store)
    with open(image.path_for(store), "wb") as handle:
        handle.write(DAMAGE[damage](stamp, raw[len(stamp):]))
    with caplog.at_level(logging.WARNING, logger="newsgraph"):
        model = read_model(store)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and image.path_for(store) in warnings[0].getMessage(), caplog.text
    assert all(a._details is not None for a in model.all_articles), "not the slow path"
    assert_same_model(model, slow_model(store))


def _plain_tinydb(path: str, tables: dict) -> None:
    with TinyDB(path) as db:  # TinyDB's own JSONStorage: the whole file on one line
        db.storage.write(tables)


def _indented(path: str, tables: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(tables, handle, indent=2)


@pytest.mark.parametrize("rewrite", [_plain_tinydb, _indented], ids=["plain TinyDB", "indented JSON"])
def test_a_store_in_another_layout_never_uses_the_image(two_loads, tmp_path, rewrite):
    store = copy_store(two_loads["store"], tmp_path)
    path = segment_of(store)
    with open(path, encoding="utf-8") as handle:
        tables = json.load(handle)
    rewrite(path, tables)  # the same data and meta record, other offsets
    assert json.loads(Path(path).read_text(encoding="utf-8")) == tables
    assert image.load(store) is None
    model = read_model(store)
    assert model.preview.by_id[two_loads["id"]].title == NEW_TITLE
    assert_same_model(model, slow_model(Store(two_loads["store"].path)))


# 4. the forked build ------------------------------------------------------------------------

class RecordingWriter(image.ImageWriter):
    made: list = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        RecordingWriter.made.append(self)


@pytest.fixture(scope="module")
def forked(tmp_path_factory) -> Store:
    target = Store(tmp_path_factory.mktemp("forked") / "corpus.json")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(image, "FORK_THRESHOLD", 1)
        patch.setattr(image, "ImageWriter", RecordingWriter)
        RecordingWriter.made.clear()
        report = load(target, [POWER_APPS, AZURE, SEED])
    assert report.ok and report.written
    (writer,) = RecordingWriter.made
    assert writer.process is not None, "the image was not built in a forked child"
    assert writer.process.exitcode == 0
    return target


def test_a_forked_build_gives_the_same_model(forked):
    model = image.load(forked)
    assert model is not None, "the forked build left no image that fits"
    assert_same_model(model, slow_model(forked))
    assert_linked_within(model)


# 5. a failing image build ------------------------------------------------------------------

def _full_disk(*args, **kwargs):
    raise OSError(28, "No space left on device")


def _fsync_failing_for_images(real):
    """os.fsync that fails for an image's temporary file only (a full disk
    while the image is written, after the store file was written)."""
    def fsync(fd):
        if ".image.tmp-" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(28, "No space left on device")
        return real(fd)
    return fsync


def _children() -> list[str]:
    """This process's children, with their state (Z: a zombie)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == os.getpid():
            found.append(f"{stat.parent.name} {fields[0]}")
    return found


class RefusedModel:
    def __init__(self, *args, **kwargs) -> None:
        raise ValueError("a record shape the model refuses")


def _refuse_model(patch) -> None:
    patch.setattr(image, "ReadModel", RefusedModel)


FAILURES = {
    "save raises": lambda patch: patch.setattr(image, "save", _full_disk),
    "fsync fails mid-save": lambda patch: patch.setattr(os, "fsync", _fsync_failing_for_images(os.fsync)),
    "model build raises": _refuse_model,
}


@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forked"])
@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failing_image_build_does_not_stop_the_load(small_site, monkeypatch, caplog, failure, fork):
    site, store = small_site
    before = store.read().meta["dataVersion"]
    article_id = edit(site, "Published without an image")
    FAILURES[failure](monkeypatch)
    if fork:
        monkeypatch.setattr(image, "FORK_THRESHOLD", 1)
    error = report = None
    with caplog.at_level(logging.WARNING, logger="newsgraph"):
        try:
            report = load(store, [site])
        except Exception as exc:  # reported below, with what it means
            error = exc
    assert error is None, (
        f"store/image.py ImageWriter: with a {'forked' if fork else 'in-process'} build, "
        f"'{failure}' made the whole load fail with {error!r}, so the store was not published; "
        "a failed image build must only leave no image")
    monkeypatch.undo()

    assert report.ok and report.written and report.data_version != before
    assert store.read().meta["dataVersion"] == report.data_version
    assert "no read-model image written" in caplog.text, caplog.text
    assert store_files(store)[:3] == ["news.json", "news.json.d", "news.json.lock"] \
        and len(store_files(store)) == 5, \
        "no image, old or new, and no temporary file may remain"
    assert _children() == [], "no builder process may remain, not even a zombie"
    with make_client(DataHolder(store)) as client:
        answer = client.post("/graphql", json={"query": f'{{ stats {{ dataVersion }} '
                                                         f'article(id: "{article_id}") {{ title body }} }}'})
    assert "errors" not in answer.json(), answer.text
    data = answer.json()["data"]
    assert data["stats"]["dataVersion"] == report.data_version
    assert data["article"]["title"] == "Published without an image" and len(data["article"]["body"]) > 100


def test_a_failed_build_removes_what_it_left(small_site, monkeypatch, caplog):
    """A build that fails (a forked builder killed mid-write, say) may leave
    a temporary file of the image; the failed build removes it, not the
    next load."""
    site, store = small_site
    edit(site, "A builder's part left behind")
    left = Path(os.path.dirname(store.path), storage.temp_prefix(image.path_for(store)) + "part")

    class RefusedAfterAHelper:
        def __init__(self, *args, **kwargs) -> None:
            left.write_bytes(b"the part of a builder killed mid-write")
            raise ValueError("a record shape the model refuses")

    monkeypatch.setattr(image, "ReadModel", RefusedAfterAHelper)
    with caplog.at_level(logging.WARNING, logger="newsgraph"):
        report = load(store, [site])
    assert report.ok and report.written
    assert "no read-model image written" in caplog.text
    assert store_files(store)[:3] == ["news.json", "news.json.d", "news.json.lock"] \
        and len(store_files(store)) == 5, \
        "store/image.py ImageWriter: a failed build must remove every temporary file of the image"


# 6. a model keeps reading the store file it was opened on ----------------------------------

def test_an_image_model_reads_its_own_store_file_after_a_new_load(two_loads):
    first = two_loads["first"]  # taken before the second load, and no detail read since
    assert first.records.cache == {}
    article = first.preview.by_id[two_loads["id"]]
    old = two_loads["first_slow"].preview.by_id[two_loads["id"]]
    assert article.title == old.title != NEW_TITLE
    assert len(article.body) > 100 and article.body == old.body and NEW_WORDS not in article.body
    assert_same_model(first, two_loads["first_slow"])
    # The file at the store's path is the second load's.
    assert NEW_WORDS in Store(two_loads["store"].path).read().articles[two_loads["id"]]["body"]


# 7. a damaged record is named ---------------------------------------------------------------

def _nul_bytes(raw: bytes, article_id: str) -> bytes:
    middle = len(raw) // 2
    return raw[:middle] + b"\x00" * 16 + raw[middle + 16:]


def _another_id(raw: bytes, article_id: str) -> bytes:
    wrong = article_id[:-1] + ("y" if article_id[-1] != "y" else "z")
    return raw.replace(json.dumps(article_id).encode(), json.dumps(wrong).encode(), 1)


def _shifted(raw: bytes, article_id: str) -> bytes:
    return raw[1:] + b" "


DAMAGED_RECORDS = {"NUL bytes": _nul_bytes, "another id": _another_id, "shifted by a byte": _shifted}


@pytest.mark.parametrize("damage", list(DAMAGED_RECORDS))
def test_a_damaged_record_is_named_when_its_details_are_read(small_site, caplog, damage):
    _, store = small_site
    model = image.load(store)
    before = slow_model(store)
    article, neighbour = [a for a in before.all_articles if a.body and len(a.body) > 100][:2]
    article, neighbour = model.preview.by_id[article.id], model.preview.by_id[neighbour.id]
    offset, length = article._span
    path = segment_of(store)
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:
        handle.seek(offset)
        raw = handle.read(length)
        assert json.loads(raw)["id"] == article.id
        damaged = DAMAGED_RECORDS[damage](raw, article.id)
        assert len(damaged) == len(raw) and damaged != raw
        handle.seek(offset)
        handle.write(damaged)
    assert os.path.getsize(path) == size
    # An edited store no longer fits its image (the stamp names its mtime),
    # but a model already made from the image reads the damaged bytes.
    assert image.load(store) is None

    with pytest.raises(StoreCorrupt) as caught:
        article.body
    assert caught.value.path == path
    assert path in str(caught.value) and repr(article.id) in str(caught.value)
    assert f"at byte {offset}" in str(caught.value)
    assert neighbour.body == before.preview.by_id[neighbour.id].body  # the rest still reads

    with make_client(DataHolder(store, model=model)) as client, \
            caplog.at_level(logging.ERROR, logger="newsgraph"):
        answer = client.post("/graphql", json={"query": f'{{ article(id: "{article.id}") {{ title body }} }}'})
    body = answer.json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert body["data"]["article"]["body"] is None  # never a wrong body
    assert path in caplog.text  # the operator learns which file


# Found while writing the above --------------------------------------------------------------

def test_a_failed_store_write_leaves_no_forked_builder_holding_the_lock(small_site, monkeypatch):
    site, store = small_site
    edit(site, "Never published")
    monkeypatch.setattr(image, "FORK_THRESHOLD", 1)
    monkeypatch.setattr(image, "ImageWriter", RecordingWriter)  # to find the child
    monkeypatch.setattr(storage, "_write_lines", _full_disk)     # before before_replace runs
    RecordingWriter.made.clear()
    with pytest.raises(OSError):
        load(store, [site])
    monkeypatch.undo()
    assert image.load(store) is not None, "the old store and its image stay, and fit"
    # The builder starts only once the store file is written (it builds from
    # that file); an earlier version forked it first, and it then waited
    # for ever holding the flock of store.lock() it inherited. (A load now
    # writes its segment before any compaction makes an image.)
    assert all(writer.process is None for writer in RecordingWriter.made)
    report = load(store, [site], lock_timeout=0.5)
    assert report.written
    assert image.load(store).preview.by_id  # the next load made an image that fits


def test_a_dropped_image_model_is_freed_like_a_built_one(small_site, tmp_path):
    _, store = small_site
    plain = Store(tmp_path / "plain.json")  # the same store without an image: the slow path
    copy_files(store.path, plain.path)
    built = weakref.ref(read_model(plain))
    gc.collect()
    assert built() is None
    from_image = read_model(store)
    assert from_image.records.fd is not None
    dropped = weakref.ref(from_image)
    del from_image
    gc.collect()
    assert dropped() is None, (
        "BUG (store/image.py load): the gc.freeze() inside image.load() puts the model (and "
        "everything else alive) in the permanent generation, so gc.collect() cannot free a model "
        "from an image once dropped, nor close its store file descriptor; graph/server.py run() "
        "(--workers > 1) reads a model only as a check and relies on gc.collect() to free it")
