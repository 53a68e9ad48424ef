"""The compact search index (store/search.py) answers exactly as the index
it replaced (tests/reference_search.py, kept unchanged): same hits, same
scores, same order, for every kind of query, in both views; its pages are
slices of that answer; and it survives to_bytes/from_bytes unchanged."""
from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from store import search
from store.errors import BadQuery
from tests import reference_search as reference


@pytest.fixture(scope="module")
def model(corpus_model):
    return corpus_model


@pytest.fixture(scope="module")
def old(model):
    return reference.SearchIndex(model)


@pytest.fixture(scope="module")
def title_words(model) -> list[str]:
    return sorted({w for a in model.all_articles for w in reference.tokens(a.title)})


@pytest.fixture(scope="module")
def title_runs(model) -> list[list[str]]:
    """Each title's words, in order, for pairs and phrases that occur."""
    return [reference.tokens(a.title) for a in model.all_articles]


def answer(run, query: str):
    """A search's hits as (id, score), or the refusal it ends with."""
    try:
        return [(article.id, score) for article, score in run(query)]
    except BadQuery as exc:
        return ("BadQuery", str(exc))


def differences(model, old, queries) -> list[tuple]:
    found = []
    for view in (model.public, model.preview):
        for query in queries:
            want = answer(lambda q: reference.search(old, view, q), query)
            got = answer(lambda q: search.search(view, q), query)
            if got != want:
                found.append((view.preview, query, want[:3], got[:3]))
    return found


def test_every_title_word_alone(model, old, title_words):
    assert len(title_words) > 1000
    assert differences(model, old, title_words) == []


def test_pairs_of_words(model, old, title_words, title_runs):
    side_by_side = sorted({f"{a} {b}" for run in title_runs for a, b in zip(run, run[1:])})
    rng = random.Random(7)
    anywhere = [f"{rng.choice(title_words)} {rng.choice(title_words)}" for _ in range(300)]
    three = [" ".join(run[:3]) for run in title_runs if len(run) >= 3][:200]
    assert len(side_by_side) > 500
    assert differences(model, old, side_by_side + anywhere + three) == []


def test_prefixes(model, old, title_words):
    prefixes = sorted({w[:n] + "*" for w in title_words for n in (1, 2, 3, 4) if len(w) >= n})
    queries = prefixes + [f"{w} {p}" for w, p in zip(title_words[::7], prefixes[::11])]
    refused = [q for q in prefixes
               if isinstance(answer(lambda q: reference.search(old, model.public, q), q), tuple)]
    assert refused, "some short prefixes expand to too many words"
    assert differences(model, old, queries) == []


def test_phrases(model, old, title_runs):
    phrases = sorted({f'"{" ".join(run[i:i + n])}"' for run in title_runs
                      for n in (2, 3) for i in range(0, max(0, len(run) - n + 1), 2)})
    phrases = phrases[::len(phrases) // 150]  # checking a phrase reads every candidate's texts
    mixed = [f'{p} {run[0]} {run[-1][:3]}*' for p, run in zip(phrases[::5], title_runs) if run]
    assert len(phrases) >= 150
    assert differences(model, old, phrases + mixed) == []


def test_case_accents_and_odd_input(model, old, title_words):
    sample = title_words[::5]
    variants = [w.upper() for w in sample] + [w.title() for w in sample]
    variants += [w.replace("e", "é").replace("a", "Å") for w in sample]
    variants += ["".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in w)
                 for w in sample[::3]]  # full-width letters and digits
    variants += ["", "   ", '""', '"" dataverse', "*", "a*b", "zzqx a*", "dataverse a*", "-", "_a_",
                 "power_apps", "power-apps", "C#", "naïve café", "ＴＥＸＴｉｎｐｕｔ"]
    assert differences(model, old, variants) == []


def test_folding_and_words_match_the_reference():
    # ASCII text takes a faster path (lower case, a translation table).
    rng = random.Random(11)
    alphabet = [chr(c) for c in range(128)] + list("éÉüİıßſΣσςﬁＡａ가\u0301\u0308\u00a0½²…—")
    for _ in range(5000):
        text = "".join(rng.choice(alphabet[:128] if rng.random() < 0.5 else alphabet)
                       for _ in range(rng.randint(1, 15)))
        assert search.fold(text) == reference.fold(text), ascii(text)
        assert search.tokens(text) == reference.tokens(text), ascii(text)


def test_text_filter_keeps_the_same_articles(model, old, title_words):
    for view in (model.public, model.preview):
        for query in title_words[::9] + ["power apps", '"power apps"', "compon*"]:
            want = frozenset(old.run(query, view.preview))
            assert search.text_matches(view, query) == want, query


def pages(hits: search.Hits, first: int):
    """Every hit of ``hits``, walking pages of ``first`` with cursor keys."""
    walked, after = [], None
    while True:
        window, start = hits.page(first, after)
        assert start == len(walked)
        walked += window
        if not window or start + len(window) == len(hits):
            return walked
        last_article, last_score = window[-1]
        after = (-last_score, last_article.id)


@pytest.mark.parametrize("query", ["dataverse", "power apps", "portal*", "power*", '"power apps"',
                                   "apps", "teams excel", "compon* power"])
def test_pages_are_slices_of_the_ranking(model, query):
    for view in (model.public, model.preview):
        hits = search.find(view, query)
        everything = hits.ranking()
        assert len(everything) == len(hits) >= 5
        for first in (1, 3, 10, 100):
            assert pages(hits, first) == everything
        assert hits.page(0)[0] == [] and hits.page(0)[1] == 0
        # A cursor that is no hit's key lands between hits, as bisect would.
        keys = [(-score, article.id) for article, score in everything]
        for article, score in everything[::3]:
            for cursor in [(-score, article.id + "~"), (-score, ""), (-score - 1e-7, article.id),
                           (-score + 5e-7, article.id), (-score, article.id)]:
                start = sum(1 for key in keys if key <= cursor)
                window, at = hits.page(4, cursor)
                assert (window, at) == (everything[start:start + 4], start), cursor
        assert hits.page(5, (1e9, "")) == ([], len(everything))  # after a score of -1e9
        assert hits.page(5, (-1e9, "")) == (everything[:5], 0)   # after a score of 1e9


def test_pages_after_a_filter(model):
    hits = search.find(model.preview, "power apps")
    kept = hits.where(lambda article: article.visible and article.collection == "news")
    want = [(a, s) for a, s in hits.ranking() if a.visible and a.collection == "news"]
    assert 0 < len(kept) == len(want) < len(hits)
    assert kept.ranking() == want
    assert pages(kept, 7) == want
    one_word = search.find(model.public, "dataverse")
    assert one_word.ranked
    kept = one_word.where(lambda article: article.type != "video")
    assert pages(kept, 3) == [(a, s) for a, s in one_word.ranking() if a.type != "video"]


def test_a_restored_index_answers_the_same(model, title_words):
    built = search.index_for(model)
    data = built.to_bytes()
    restored = search.SearchIndex.from_bytes(model, data)
    assert restored.to_bytes() == data
    assert restored.vocabulary == built.vocabulary
    queries = title_words[::4] + ["power apps", '"power apps"', "compon*", "portal* dataverse"]
    for preview in (False, True):
        for query in queries:
            a, b = built.run(query, preview), restored.run(query, preview)
            assert (list(a.docs), list(a.scores), a.ranked) == (list(b.docs), list(b.scores), b.ranked)


def test_from_bytes_refuses_what_it_cannot_use(model):
    data = search.index_for(model).to_bytes()
    with pytest.raises(ValueError):
        search.SearchIndex.from_bytes(model, b"not an index")

    class OtherVersion:
        data_version = "another"
        all_articles = model.all_articles

    with pytest.raises(ValueError, match="data version"):
        search.SearchIndex.from_bytes(OtherVersion(), data)
    with pytest.raises(ValueError, match="cut short"):
        search.SearchIndex.from_bytes(model, data[:-10])
    with pytest.raises(ValueError, match="KeyError"):
        search.SearchIndex.from_bytes(model, data.replace(b'"views"', b'"vuews"', 1))


def made_up(count: int, seed: int, hidden: float):
    """A collection in the shape the index reads (articles with ord, id,
    visibility and texts; views), from a small vocabulary, so that words
    repeat in one field and appear in several, and many scores come close."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(60)] + ["café", "Naïve", "DATA", "x2"]
    providers = [SimpleNamespace(name=f"Prov {w}") for w in vocabulary[:8]]
    topics = [SimpleNamespace(name=f"Topic {a} {b}") for a, b in zip(vocabulary[:10], vocabulary[10:20])]

    def text(most: int) -> str:
        words = vocabulary[:rng.randint(5, len(vocabulary))]
        return " ".join(rng.choice(words) for _ in range(rng.randint(0, most)))

    articles = [SimpleNamespace(
        id=f"a/{rng.randint(0, 10**6):07d}-{i}", ord=i, visible=rng.random() >= hidden,
        title=text(12), excerpt=text(40) or None, body=text(rng.choice([0, 0, 400])) or None,
        provider=rng.choice(providers + [None]), provider_name=rng.choice([None, "Prov w1", "Other"]),
        topics=rng.sample(topics, rng.randint(0, 3))) for i in range(count)]
    model = SimpleNamespace(all_articles=articles, data_version=f"made-up-{seed}")
    model.public = SimpleNamespace(model=model, preview=False)
    model.preview = SimpleNamespace(model=model, preview=True)
    return model, reference.tokens(" ".join(vocabulary))


@pytest.mark.parametrize("hidden", [0.0, 0.2])
def test_a_made_up_collection(monkeypatch, hidden):
    merged = []
    ties = search._ties

    def watched(runs, values):
        result = ties(runs, values)
        merged.append(result != (runs, values))
        return result

    monkeypatch.setattr(search, "_ties", watched)
    model, words = made_up(2000, seed=1, hidden=hidden)
    old = reference.SearchIndex(model)
    built = search.index_for(model)
    assert any(merged), "some distinct scores round alike, and their articles go by id"
    assert (built.views[False] is built.views[True]) == (hidden == 0.0)
    queries = words + [w.upper() for w in words] + [f"{a} {b}" for a in words[::3] for b in words[::4]]
    queries += ["w*", "w1*", "w5* cafe", '"prov w1"', '"topic w2 w12"', '"w3 w3"', "naive", "x*"]
    assert differences(model, old, queries) == []
    restored = search.SearchIndex.from_bytes(model, built.to_bytes())
    assert (restored.views[False] is restored.views[True]) == (hidden == 0.0)
    for query in queries:
        for preview in (False, True):
            a, b = built.run(query, preview), restored.run(query, preview)
            assert (list(a.docs), list(a.scores)) == (list(b.docs), list(b.scores))


def test_an_empty_collection():
    model, _ = made_up(0, seed=2, hidden=0.0)
    index = search.index_for(model)
    assert search.search(model.public, "anything") == [] == search.search(model.preview, "any*")
    restored = search.SearchIndex.from_bytes(model, index.to_bytes())
    assert restored.vocabulary == [] and len(restored.run("w1", True)) == 0


def _joined(model, cuts: list[float]) -> search.SearchIndex:
    """The index made as store/image.py's indexer and its helper make it:
    the postings of consecutive vocabulary ranges, joined."""
    indexing = search.Indexing(model)
    size = len(indexing.vocabulary)
    bounds = [0] + [round(size * cut) for cut in cuts] + [size]
    parts = [indexing.postings(a, b) for a, b in zip(bounds, bounds[1:])]
    return search.SearchIndex.joined(model, indexing.vocabulary, parts)


@pytest.mark.parametrize("cuts", [[0.35], [0.0], [1.0], [0.1, 0.5, 0.9]],
                         ids=["helper takes 65%", "helper takes all", "helper takes none", "four parts"])
@pytest.mark.parametrize("collection", ["corpus", "made up, none hidden", "made up, 20% hidden"])
def test_postings_made_in_parts_join_into_the_same_index(model, collection, cuts):
    if collection != "corpus":
        model, _ = made_up(1500, seed=3, hidden=0.2 if "20%" in collection else 0.0)
    whole = search.SearchIndex(model)
    joined = _joined(model, cuts)
    assert joined.to_bytes() == whole.to_bytes()
    assert (joined.views[False] is joined.views[True]) == (whole.views[False] is whole.views[True])
    assert len(joined.vocabulary) > 60 and len(joined.views[True].docs) > 1000
