"""The planner and paging (store/planner.py, store/paging.py) against the
reference evaluator (store/predicates.py): on generated ``where`` trees
(every operator, nested AND/OR/NOT, empty lists, nulls, ties), orderings
and cursor walks (first/after, last/before), answer for answer; also with
article numbers scrambled, with the indexes' blocks tiny (so the corpus's
830 articles cross every level) and with indexes patched into the same
articles."""
from __future__ import annotations

import contextlib
import datetime as dt
import random
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import time

from store import conditions, crossed, facets, matches, ordering, paging, planner, predicates, ranking as ranking_module
from store.db import Store
from store.errors import BadQuery
from store.indexes import Indexes
from store.objects import Article
from store.readmodel import ReadModel
from tests.conftest import FROZEN_NOW

TINY = (16, 8, 4)
TINY_TALLY = 5  # facet tallies' blocks (store/tallies.py)


def scrambled(model: ReadModel, seed: int) -> ReadModel:
    """``model`` with its articles renumbered at random, with gaps, so that
    no number is a position in any order, and indexes of tiny blocks."""
    rng = random.Random(seed)
    articles = model.all_articles
    numbers = rng.sample(range(3 * len(articles)), len(articles))
    # Articles link to others by number: the links are renumbered too.
    renumbered = {article.num: num for article, num in zip(articles, numbers)}
    for article, num in zip(articles, numbers):
        article.num = num
        for name in ("related_from_all", "items_all", "playlists_all"):
            links = getattr(article, name)
            if links:
                setattr(article, name, tuple(map(renumbered.__getitem__, links)))
        for item in article.related:
            item.owner = num
        # The corpus has no tags: some, in several spellings.
        article.tags = tuple(rng.sample(["US-LA", "us-la", "FR", "Cloud", "cloud"], rng.choice([0, 0, 1, 2])))
        article.tag_keys = predicates.tag_keys(article.tags)
    model.indexes = Indexes(articles, strides=TINY, tally_stride=TINY_TALLY)
    return model


def changed(article: Article, rng: random.Random, model: ReadModel) -> Article:
    """Another version of ``article`` under its number: other values for
    what the indexes hold."""
    other = Article.__new__(Article)
    for name in Article.__slots__:
        if hasattr(article, name):
            setattr(other, name, getattr(article, name))
    other.heat = rng.choice([None, -1, 0, 50, 999])
    other.quality = rng.choice([None, 1, 75])
    other.title = rng.choice(["Zebra", "aardvark", article.title.upper()])
    other.title_key = other.title.casefold()
    other.published_ts = rng.choice([None, 0.0, 1.6e9])
    other.month = None if other.published_ts is None else "2020-09"
    other.topics = rng.sample(list(model.topics.values()), 2)
    other.visible = not article.visible
    other.type = "changed"
    return other


@pytest.fixture(scope="module")
def models(corpus_db) -> dict[str, ReadModel]:
    """The same corpus three ways: as built, renumbered with tiny blocks,
    and renumbered with indexes patched from another set of articles."""
    plain = ReadModel(Store(corpus_db).read())
    tiny = scrambled(ReadModel(Store(corpus_db).read()), 1)
    patched = scrambled(ReadModel(Store(corpus_db).read()), 2)
    rng = random.Random(3)
    articles = patched.all_articles
    absent = rng.sample(articles, len(articles) // 3)
    kept = [a for a in articles if a not in set(absent)]
    old = {a.num: changed(a, rng, patched) for a in rng.sample(kept, len(kept) // 4)}
    start = Indexes([old.get(a.num, a) for a in kept], strides=TINY, tally_stride=TINY_TALLY)
    patched.indexes = start.patched(removed=list(old.values()), added=absent + [a for a in kept if a.num in old])
    return {"plain": plain, "tiny": tiny, "patched": patched}


def test_patched_indexes_equal_rebuilt_ones(models):
    model = models["patched"]
    assert_same_indexes(model.indexes, Indexes(model.all_articles, strides=TINY, tally_stride=TINY_TALLY))


def assert_same_indexes(patched: Indexes, rebuilt: Indexes) -> None:
    """Indexes patched hold what those built from the same articles (or
    from other objects of the same articles) hold."""
    assert [a and a.id for a in patched.by_num] == [a and a.id for a in rebuilt.by_num]
    assert patched.universe == rebuilt.universe and patched.visible == rebuilt.visible
    assert patched.postings == rebuilt.postings
    assert patched.words == rebuilt.words
    for order, ranking in rebuilt.rankings.items():
        mine = patched.rankings[order]
        assert mine.nums == ranking.nums and mine.present == ranking.present, order
        assert mine.values == ranking.values, order
        labels = [mine.labels[n] for n in mine.nums]
        assert labels == sorted(set(labels)), order
        rng = random.Random(str(order))
        for _ in range(50):
            i = rng.randrange(len(mine) + 1)
            j = rng.randrange(i, len(mine) + 1)
            assert mine.span(i, j) == ranking.span(i, j)
            members = rebuilt.universe & rebuilt.postings["type"]["article"]
            assert mine.count(members, j) == ranking.count(members, j)
    assert patched.patched([], []).postings == patched.postings  # a no-op patch changes nothing
    # Facet tallies: the same values for each article, the same counts over
    # any stretch of each tallied ranking (codes may differ: a patch numbers
    # new values as they come).
    for name, dimension in rebuilt.dimensions.items():
        mine = patched.dimensions[name]
        for num, article in enumerate(rebuilt.by_num):
            if article is not None:
                assert _named(mine, mine.of[num]) == _named(dimension, dimension.of[num]), (name, num)
    for order, tallies in rebuilt.tallies.items():
        nums = rebuilt.rankings[order].nums
        mine = patched.tallies[order]
        rng = random.Random(str(order))
        for _ in range(30):
            i = rng.randrange(len(nums) + 1)
            j = rng.randrange(i, len(nums) + 1)
            cut, want = mine.cut(nums, patched.visible, i, j), tallies.cut(nums, rebuilt.visible, i, j)
            assert mine.total(cut) == tallies.total(want), (order, i, j)
            for name, dimension in rebuilt.dimensions.items():
                assert patched.dimensions[name].counts(mine.counts(cut, name, patched.dimensions[name])) == \
                    dimension.counts(tallies.counts(want, name, dimension)), (order, name, i, j)


def _named(dimension, codes) -> object:
    return sorted(dimension.names[c] for c in codes) if dimension.many else dimension.names[codes]


def test_a_patch_leaves_the_version_it_came_from_as_it_was(corpus_db):
    model = ReadModel(Store(corpus_db).read())
    before = model.indexes
    facts = ({k: dict(v) for k, v in before.postings.items()},
             {o: list(r.nums) for o, r in before.rankings.items()},
             [(r.starts, [list(map(list, level)) for level in r.prefixes]) for r in before.rankings.values()])
    articles = model.all_articles
    after = before.patched(removed=articles[:40], added=[])
    after = after.patched(removed=[], added=articles[:20])
    assert len(after.universe) == len(articles) - 20
    assert facts == ({k: dict(v) for k, v in before.postings.items()},
                     {o: list(r.nums) for o, r in before.rankings.items()},
                     [(r.starts, [list(map(list, level)) for level in r.prefixes])
                      for r in before.rankings.values()])


# --- generated filters ---------------------------------------------------------

class Pools(dict):
    """Values to draw from, by kind (shown short in reports)."""

    def __repr__(self) -> str:
        return f"Pools({', '.join(self)})"


def values_of(model: ReadModel) -> dict:
    articles = model.all_articles
    titles = [a.title for a in articles]
    dates = sorted({a.published_at for a in articles if a.published_at})
    return Pools({
        "ids": [a.id for a in articles] + ["news/nope"],
        "titles": titles,
        "excerpts": [a.excerpt or "" for a in articles],
        "types": sorted({a.type for a in articles}) + ["nope"],
        "collections": sorted({a.collection for a in articles}) + ["nope"],
        "heats": sorted({a.heat for a in articles if a.heat is not None}),
        "qualities": sorted({a.quality for a in articles if a.quality is not None}),
        "dates": dates,
        "domains": sorted({p.domain for p in model.providers.values()}) + ["NOPE.example"],
        "keys": sorted(model.providers) + ["nope.example/x"],
        "providerIds": sorted(p.id for p in model.providers.values()),
        "names": sorted({n for a in articles for n in predicates.provider_names(a) if n}),
        "topics": sorted(model.topics) + [t.name for t in model.topics.values()] + ["nope"],
        "tags": sorted({t for a in articles for t in a.tags}) + ["us-la", "nope"],
        "sites": sorted(model.sites) + ["nope"],
        "siteTitles": sorted({s.title or "" for s in model.sites.values()}),
        "siteUrls": sorted({s.address or "" for s in model.sites.values()}) + ["https://nope.example"],
        "words": sorted({w for t in titles for w in t.lower().split() if w.isalpha()})[:200],
    })


def pick(pool: list):
    """One of ``pool`` (by position: a sampled_from would show the whole pool)."""
    return st.integers(0, len(pool) - 1).map(pool.__getitem__)


def _cased(draw, text: str) -> str:
    return draw(st.sampled_from([text, text.upper(), text.lower(), text.swapcase()]))


def _piece(draw, text: str) -> str:
    i = draw(st.integers(0, len(text)))
    j = draw(st.integers(i, min(len(text), i + 12)))
    return _cased(draw, text[i:j])


def _strings(draw, pool: list[str], textual: bool) -> dict:
    spec = {}
    for op in draw(st.lists(st.sampled_from(["eq", "ne", "in", "notIn", "contains", "startsWith",
                                             "endsWith"] if textual else ["eq", "ne", "in", "notIn"]),
                            min_size=1, max_size=3, unique=True)):
        if op in ("in", "notIn"):
            spec[op] = draw(st.lists(pick(pool), max_size=3))
        elif op == "contains":
            spec[op] = _piece(draw, draw(pick(pool)))
        elif op == "startsWith":
            text = draw(pick(pool))
            spec[op] = _cased(draw, text[:draw(st.integers(0, len(text)))])
        elif op == "endsWith":
            text = draw(pick(pool))
            spec[op] = _cased(draw, text[draw(st.integers(0, len(text))):])
        else:
            spec[op] = draw(pick(pool))
    if draw(st.booleans()):
        spec[draw(st.sampled_from(list(spec)))] = None  # a null operator is no condition
    return spec


def _ints(draw, pool: list[int]) -> dict:
    def value():
        return draw(pick(pool)) + draw(st.sampled_from([0, 0, -1, 1]))
    spec = {}
    for op in draw(st.lists(st.sampled_from(["eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte"]),
                            min_size=1, max_size=3, unique=True)):
        spec[op] = [value() for _ in range(draw(st.integers(0, 3)))] if op in ("in", "notIn") else value()
    return spec


def _dates(draw, pool: list[dt.datetime]) -> dict:
    spec = {}
    for op in draw(st.lists(st.sampled_from(["eq", "gt", "gte", "lt", "lte", "within"]),
                            min_size=1, max_size=2, unique=True)):
        if op == "within":
            spec[op] = draw(st.sampled_from(["P30D", "PT12H", "P1Y", "P400D", "P3W", "P1M"]))
        else:
            moment = draw(pick(pool)) + dt.timedelta(seconds=draw(st.sampled_from([0, 0, -1, 1])))
            spec[op] = moment.astimezone(draw(st.sampled_from([dt.timezone.utc,
                                                               dt.timezone(dt.timedelta(hours=2))])))
    return spec


@st.composite
def leaves(draw, values: dict) -> dict:
    field = draw(st.sampled_from(["id", "title", "excerpt", "type", "collection", "heat", "quality",
                                  "publishedAt", "published", "provider", "topics", "hasImages",
                                  "hasRelated", "hasItems", "text", "tags", "site"]))
    if field == "id":
        return {"id": _strings(draw, values["ids"], textual=False)}
    if field in ("title", "excerpt"):
        if draw(st.integers(0, 4)) == 0:  # any text at all, words or none
            return {field: {draw(st.sampled_from(["contains", "startsWith", "endsWith"])): draw(st.text(max_size=4))}}
        return {field: _strings(draw, values[field + "s"], textual=True)}
    if field in ("type", "collection"):
        return {field: _strings(draw, values[field + "s"], textual=True)}
    if field == "heat":
        return {"heat": _ints(draw, values["heats"])}
    if field == "quality":
        return {"quality": _ints(draw, values["qualities"])}
    if field == "publishedAt":
        return {"publishedAt": _dates(draw, values["dates"])}
    if field == "provider":
        spec = {}
        for part, pool in (("domain", "domains"), ("key", "keys"), ("id", "providerIds"), ("name", "names")):
            if draw(st.integers(0, 3)) == 0:
                spec[part] = _strings(draw, values[pool], textual=part != "id")
        if draw(st.integers(0, 4)) == 0 or not spec:
            spec["hasArticles"] = draw(st.booleans())
        return {"provider": spec}
    if field == "topics":
        ops = draw(st.lists(st.sampled_from(["some", "every", "none"]), min_size=1, max_size=2, unique=True))
        return {"topics": {op: draw(st.lists(pick(values["topics"]), max_size=3)) for op in ops}}
    if field == "tags":
        ops = draw(st.lists(st.sampled_from(["some", "every", "none"]), min_size=1, max_size=2, unique=True))
        return {"tags": {op: [_cased(draw, t) for t in draw(st.lists(pick(values["tags"]), max_size=3))]
                         for op in ops}}
    if field == "site":
        spec = {"name": _strings(draw, values["sites"], textual=True)} if draw(st.booleans()) else {}
        if draw(st.booleans()) or not spec:
            spec["title"] = _strings(draw, values["siteTitles"], textual=True)
        if draw(st.integers(0, 2)) == 0:
            spec["url"] = _strings(draw, values["siteUrls"], textual=True)
        return {"site": spec}
    if field == "text":
        return {"text": " ".join(draw(st.lists(pick(values["words"]), min_size=1, max_size=2)))}
    return {field: draw(st.booleans())}


def wheres(values: dict):
    def merged(parts: list[dict]) -> dict:
        out: dict = {}
        for part in parts:
            out.update(part)
        return out

    # Single conditions and plain conjunctions as often as nested trees:
    # each path of the planner must come up in a hundred examples.
    return st.one_of(leaves(values), st.lists(leaves(values), min_size=2, max_size=3).map(merged), st.recursive(
        leaves(values),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda ws: {"AND": ws}),
            st.lists(inner, max_size=3).map(lambda ws: {"OR": ws}),
            inner.map(lambda w: {"NOT": w}),
            st.lists(inner, min_size=2, max_size=3).map(merged)),
        max_leaves=5))


orders = st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(list(ordering.FIELDS)),
                                                 st.sampled_from(["ASC", "DESC"])),
                                       min_size=1, max_size=3, unique_by=lambda p: p[0]))

# What the planner and paging may choose between: each choice must give the
# same answers, so the test draws them too.
tunings = st.fixed_dictionaries({
    "SHORT_SPAN": st.sampled_from([0, 3, 512]),
    "WALK_LIMIT": st.sampled_from([0, 8, 4096]),
    "NARROWED": st.sampled_from([0, 8]),
    "DEFER_RATIO": st.sampled_from([0, 4, 10 ** 6]),
    "DEFER_MIN": st.sampled_from([0, 1 << 17]),
    "PENDING": st.booleans(),
    "TESTED": st.sampled_from([0, 256]),
    "WITHIN_RATIO": st.sampled_from([0, 4, 10 ** 6]),
    "SPAN_TEST_RATIO": st.sampled_from([0, 8, 10 ** 6]),
    "PASS_COST": st.sampled_from([0, 10 ** 6]),
    "WORDS_TEST_RATIO": st.sampled_from([0, 4, 10 ** 6]),
    "SORTED_MAX": st.sampled_from([0, 1024]),
    "CROSSED": st.booleans(),
})
MODULES = {"SHORT_SPAN": ranking_module, "WITHIN_RATIO": ranking_module, "WALK_LIMIT": paging, "NARROWED": paging,
           "DEFER_RATIO": planner, "DEFER_MIN": planner, "PENDING": planner, "SPAN_TEST_RATIO": conditions, "WORDS_TEST_RATIO": conditions,
           "TESTED": matches, "PASS_COST": facets, "SORTED_MAX": paging, "CROSSED": crossed,
           "MADE_WHILE_WAITING": crossed}


@contextlib.contextmanager
def tuned(tuning: dict):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in tuning.items():
            patch.setattr(MODULES[name], name, value)
        yield


class Reference:
    """The matches of one filter by the reference evaluator, sorted, and
    their pages as ``paginate`` cuts a sorted list."""

    def __init__(self, view, where, order) -> None:
        test = predicates.compile_where(where, view, FROZEN_NOW)
        normal = ordering.normalise_order(order)
        self.key = ordering.key_function(normal)
        self.items = sorted(filter(test, view.articles), key=self.key)
        self.cursors = paging.Cursors(view, normal)

    def page(self, **args) -> paging.Page:
        return paging.paginate(self.items, self.key, self.cursors.of, self.cursors.key, **{
            "first": None, "after": None, "last": None, "before": None, **args})


class Planned:
    def __init__(self, view, where, order) -> None:
        self.view, self.order = view, order
        self.members = planner.matching(view, where, FROZEN_NOW)

    def page(self, **args) -> paging.Page:
        return paging.page_of(self.view, self.members, self.order, **args)


def facts(page: paging.Page) -> tuple:
    return ([a.id for a in page.items], page.cursors, page.has_next, page.has_previous, page.total)


def reference_facets(items: list[Article]) -> dict:
    ranked = lambda c: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))  # noqa: E731
    return {"total": len(items),
            "topics": ranked(Counter(t.slug for a in items for t in a.topics)),
            "providers": ranked(Counter(a.provider.key for a in items if a.provider)),
            "types": ranked(Counter(a.type for a in items)),
            "months": sorted(Counter(a.month for a in items if a.month).items(), reverse=True),
            "tags": ranked(Counter(t for a in items for t in a.tags)),
            "sites": ranked(Counter(a.site.name for a in items if a.site)),
            "collections": ranked(Counter(a.collection for a in items))}


FACET_NAMES = ("topics", "providers", "types", "months", "tags", "sites", "collections")


@pytest.mark.parametrize("variant", ["plain", "tiny", "patched"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_planner_answers_as_the_reference(models, variant, data):
    model = models[variant]
    values = values_of(model)
    view = model.view(data.draw(st.booleans(), label="preview"))
    where = data.draw(wheres(values), label="where")
    order = data.draw(orders, label="order")
    size = data.draw(st.integers(0, 7), label="page size")
    with tuned(data.draw(tunings, label="tuning")):
        try:
            want = Reference(view, where, order)
        except BadQuery as exc:
            with pytest.raises(BadQuery, match=re.escape(str(exc))):
                Planned(view, where, order)
            return
        # totalCount alone (a pending range counted without its set), then
        # everything else.
        assert len(Planned(view, where, order).members) == len(want.items)
        got = Planned(view, where, order)
        first = want.page(first=size)
        assert facts(got.page(first=size)) == facts(first)
        # Forward from the first page, backward from a cursor, and from a
        # cursor of any article (in the set or not, in this view or not).
        after = first.cursors[-1] if first.cursors else None
        for _ in range(3):
            if after is None:
                break
            page = want.page(first=size or 1, after=after)
            assert facts(got.page(first=size or 1, after=after)) == facts(page)
            after = page.cursors[-1] if page.cursors else None
        anchor = data.draw(pick(model.all_articles), label="anchor")
        cursor = want.cursors.of(anchor)
        for args in ({"last": size, "before": cursor}, {"first": size, "after": cursor},
                     {"first": size + 2, "last": size, "after": cursor},
                     {"last": size + 1, "first": size, "before": cursor},
                     {"first": size, "after": cursor, "before": cursor}, {"last": size}):
            assert facts(got.page(**args)) == facts(want.page(**args)), args
        want_facets = reference_facets(want.items)
        for counted in (facets.count(view, got.members.numbers()), facets.facets_of(view, where, FROZEN_NOW)):
            assert counted.total == want_facets["total"]
            for name in FACET_NAMES:
                assert [(v, n) for v, _, n in counted[name]] == want_facets[name], name


@pytest.mark.parametrize("variant", ["plain", "tiny", "patched"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_facets_under_one_range_are_the_references(models, variant, data):
    """A range of one field, or no filter, is counted from the ranking's
    tallies (store/tallies.py) for the public, from the matching set for a
    preview: both as the reference counts the articles kept."""
    model = models[variant]
    values = values_of(model)
    view = model.view(data.draw(st.booleans(), label="preview"))
    field = data.draw(st.sampled_from(["heat", "quality", "publishedAt", None]), label="field")
    where = None
    if field is not None:
        pool = {"heat": values["heats"], "quality": values["qualities"], "publishedAt": values["dates"]}[field]
        ops = data.draw(st.lists(st.sampled_from(["gt", "gte", "lt", "lte", "eq"]), min_size=1, max_size=2,
                                 unique=True), label="ops")
        spec = {op: data.draw(pick(pool), label=op) for op in ops}
        where = {field: spec}
    want = reference_facets(Reference(view, where, None).items)
    counted = facets.facets_of(view, where, FROZEN_NOW)
    assert isinstance(counted.members, facets.Stretch) == (not view.preview)
    assert counted.total == want["total"]
    for name in data.draw(st.lists(st.sampled_from(FACET_NAMES), unique=True), label="asked"):
        assert [(v, n) for v, _, n in counted[name]] == want[name], name


@pytest.mark.parametrize("variant", ["plain", "tiny", "patched"])
def test_counts_under_two_ranges_are_the_references(models, variant):
    """totalCount alone under two ranges of two fields is counted from a
    crossed ranking (store/crossed.py) for the public, made while the
    request waits or in the background: the reference's count either way,
    and the set is not made for it once the crossed ranking is there."""
    model = models[variant]
    values = values_of(model)
    view = model.public
    pools = {"heat": values["heats"], "quality": values["qualities"], "publishedAt": values["dates"]}
    rng = random.Random(variant)
    indexes = model.indexes
    for waiting in (0, 1 << 17):
        with tuned({"MADE_WHILE_WAITING": waiting}):
            vars(indexes).pop("_crossed", None)  # made anew each way
            counted = 0
            for _ in range(150):
                fields = rng.sample(sorted(pools), 2)
                where = {field: {op: rng.choice(pools[field])
                                 for op in rng.sample(["gt", "gte", "lt", "lte"], rng.choice([1, 2]))}
                         for field in fields}
                want = Reference(view, where, None)
                got = planner.matching(view, where, FROZEN_NOW)
                assert len(got) == len(want.items), where
                counted += got._unmade is not None  # counted without making the set
                assert facts(paging.page_of(view, got, None, first=3)) == facts(want.page(first=3)), where
            if waiting:
                assert counted == 150
            deadline = time.monotonic() + 30
            first, second = (indexes.rankings[((field, "ASC"),)] for field in ("HEAT", "QUALITY"))
            while indexes.crossed(first, second) is None:  # made in the background
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert indexes.crossed(first, second).count(0, len(first), 0, len(second)) == len(indexes.visible)


@pytest.mark.parametrize("where", [{"nope": 1}, {"NOT": {"publishedAt": {"within": "7 days"}}},
                                   {"OR": [{"type": {"eq": "video"}}, {"publishedAt": {"gt": "2021"}}]}])
def test_bad_filters_are_refused_alike(models, where):
    view = models["plain"].public
    with pytest.raises(BadQuery) as reference:
        Reference(view, where, None)
    with pytest.raises(BadQuery) as planned:
        Planned(view, where, None)
    assert str(planned.value) == str(reference.value)


def test_a_ranking_is_sorted_by_its_key(models):
    """Each ranking, eager or built on demand, is the articles sorted by the
    order's key: missing values last either way, ties by the later fields,
    then id."""
    model = models["tiny"]
    for order in list(model.indexes.rankings) + [(("HEAT", "DESC"), ("QUALITY", "ASC"), ("TITLE", "DESC")),
                                                 (("TITLE", "DESC"), ("PUBLISHED_AT", "ASC"))]:
        key = ordering.key_function(order)
        ranking = model.indexes.ranking(order)
        assert [model.indexes.by_num[n].id for n in ranking.nums] == \
            [a.id for a in sorted(model.all_articles, key=key)], order
    heats = [a.heat for a in model.all_articles]
    assert None in heats and len(set(heats)) < len(heats), "the corpus has ties and missing values"


@pytest.mark.parametrize("variant", ["plain", "patched"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_text_filters_keep_what_the_reference_keeps(models, variant, data):
    """contains, startsWith and endsWith on titles and excerpts, narrowed by
    the fields' words: the same articles as testing every one."""
    model = models[variant]
    values = values_of(model)
    field = data.draw(st.sampled_from(["title", "excerpt"]), label="field")
    op = data.draw(st.sampled_from(["contains", "startsWith", "endsWith"]), label="op")
    if data.draw(st.booleans()):
        text = data.draw(pick(values[field + "s"]), label="text")
        pattern = _piece(data.draw, text) if op == "contains" else \
            text[:len(text) // 2] if op == "startsWith" else text[len(text) // 2:]
    else:
        pattern = data.draw(st.text(max_size=5), label="pattern")
    where = {field: {op: pattern}}
    if data.draw(st.booleans()):
        where["heat"] = {"gte": data.draw(pick(values["heats"]), label="heat")}
    view = model.view(data.draw(st.booleans(), label="preview"))
    with tuned({"WORDS_TEST_RATIO": data.draw(st.sampled_from([0, 10 ** 6]), label="ratio")}):
        test = predicates.compile_where(where, view, FROZEN_NOW)
        assert planner.matching(view, where, FROZEN_NOW).numbers() == \
            planner.NumberSet(a.num for a in view.articles if test(a))
