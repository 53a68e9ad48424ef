"""search(query:, where:): which articles match, checked against the corpus
files read independently, and how they rank."""
from __future__ import annotations

import re

import pytest

from tests.conftest import FROZEN_NOW
from tests.independent_query import Row, corpus_rows, fold, matches

SEARCH = """
query($q: String!, $where: ArticleWhere, $after: String, $first: Int = 100) {
  search(query: $q, where: $where, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { score node { id } }
  }
}"""


def run(gql, q, where=None, first=100):
    """Every (id, score) of a search in answer order, and its totalCount."""
    hits, after = [], None
    for _ in range(len(corpus_rows()) // first + 2):
        page = gql(SEARCH, {"q": q, "where": where, "after": after, "first": first})["search"]
        hits += [(e["node"]["id"], e["score"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(hits)
            return hits
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("search paging did not end")


def words(text: str | None) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text or ""))


_TEXTS: dict[str, dict] = {}


def texts(row: Row) -> dict[str, list[list[str]]]:
    """The words of each searchable text of an article, field by field; each
    provider and topic name is a text of its own."""
    if row.id in _TEXTS:
        return _TEXTS[row.id]
    names = {row.provider_name, row.canonical_name} - {None}
    found = _TEXTS[row.id] = {
        "title": [words(row.title)], "excerpt": [words(row.excerpt)],
        "body": [words(re.sub(r"<[^>]*>", " ", row.body))],
        "provider": [words(n) for n in names], "topics": [words(t) for t in row.topics]}
    return found


def fields_with(row: Row, word: str) -> set[str]:
    return {field for field, parts in texts(row).items() if any(word in p for p in parts)}


def has_phrase(row: Row, phrase: list[str]) -> bool:
    n = len(phrase)
    return any(part[i:i + n] == phrase for parts in texts(row).values() for part in parts
               for i in range(len(part)))


def public() -> list[Row]:
    return [r for r in corpus_rows() if r.visible]


@pytest.mark.parametrize("word", ["dataverse", "portals", "excel", "redis", "gallery", "textinput"])
def test_a_word_finds_every_article_that_contains_it(gql, word):
    found = {i for i, _ in run(gql, word)}
    want = {r.id for r in public() if fields_with(r, word)}
    assert want and found == want


def test_all_words_must_match(gql):
    found = {i for i, _ in run(gql, "dataverse teams excel")}
    want = {r.id for r in public() if all(fields_with(r, w) for w in ("dataverse", "teams", "excel"))}
    assert want and found == want


@pytest.mark.parametrize("word", ["dataverse", "portal", "canvas", "component", "sharepoint",
                                  "applications", "community", "template", "forms"])
def test_a_title_match_ranks_above_a_mention_only_in_the_excerpt(gql, word):
    rank = {i: n for n, (i, _) in enumerate(run(gql, word))}
    in_title = [r.id for r in public() if "title" in fields_with(r, word)]
    only_excerpt = [r.id for r in public() if fields_with(r, word) == {"excerpt"}
                    and words(r.excerpt).count(word) == 1]
    assert in_title and only_excerpt
    assert max(rank[i] for i in in_title) < min(rank[i] for i in only_excerpt)


def test_scores_never_increase_down_the_list(gql):
    hits = run(gql, "power apps portal*", first=17)
    assert len(hits) > 17
    scores = [s for _, s in hits]
    assert all(isinstance(s, float) and s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_case_and_accents_do_not_matter(gql):
    plain = run(gql, "dataverse")
    assert run(gql, "DataVersé") == plain
    assert run(gql, "DATAVERSE") == plain
    # ...in the text too: the corpus writes one word in full-width letters.
    full_width = [i for i, _ in run(gql, "textinput")]
    assert full_width == ["samples/power-apps-community-text-conversion-component-from-full-width-to-half-width"]
    assert [i for i, _ in run(gql, "ＴＥＸＴｉｎｐｕｔ")] == full_width


@pytest.mark.parametrize("phrase", ["power apps", "release wave", "apps ai", "custom api"])
def test_a_phrase_needs_its_words_side_by_side(gql, phrase):
    found = {i for i, _ in run(gql, f'"{phrase}"')}
    want = {r.id for r in public() if has_phrase(r, phrase.split())}
    assert found == want
    assert want, "each phrase occurs in the corpus"
    loose = {r.id for r in public() if all(fields_with(r, w) for w in phrase.split())}
    if phrase == "apps ai":  # "Power Apps" and "AI Builder" are two topics, not a phrase
        assert len(loose) > 2 * len(want)


@pytest.mark.parametrize("prefix", ["datav", "portal", "compon"])
def test_a_prefix_finds_every_word_that_starts_with_it(gql, prefix):
    found = {i for i, _ in run(gql, f"{prefix}*")}
    want = {r.id for r in public()
            if any(w.startswith(prefix) for parts in texts(r).values() for p in parts for w in p)}
    assert want and found == want
    assert found >= {i for i, _ in run(gql, prefix)}


def test_too_short_a_prefix_is_refused_not_cut_short(gql):
    body = gql.raw('{ search(query: "a*") { totalCount } }')
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "a*" in error["message"]


@pytest.mark.parametrize("where", [
    {"collection": {"eq": "news"}},
    {"NOT": {"type": {"eq": "video"}}, "publishedAt": {"within": "P365D"}},
    {"topics": {"some": ["Teams integration"]}},
])
def test_where_narrows_the_hits_and_keeps_their_order(gql, where):
    everything = run(gql, "dataverse")
    rows = {r.id: r for r in corpus_rows()}
    want = [(i, s) for i, s in everything if matches(rows[i], where, FROZEN_NOW)]
    assert 0 < len(want) < len(everything)
    assert run(gql, "dataverse", where) == want


def test_nothing_to_search_for_finds_nothing(gql):
    assert run(gql, "") == []
    assert run(gql, "zzqxnotaword") == []
