"""search(query:, where:, fuzzy:): which articles match, checked against the
corpus files read independently; the query syntax and its errors; typo
tolerance; cursors. Relevance on the corpus is tests/test_relevance.py."""
from __future__ import annotations

import re

import pytest

from tests.conftest import FROZEN_NOW
from tests.independent_query import Row, corpus_rows, fold, matches

SEARCH = """
query($q: String!, $where: ArticleWhere, $after: String, $first: Int = 100, $fuzzy: Boolean = true) {
  search(query: $q, where: $where, first: $first, after: $after, fuzzy: $fuzzy) {
    totalCount pageInfo { hasNextPage endCursor } edges { score cursor node { id } }
  }
}"""


def run(gql, q, where=None, first=100, fuzzy=True, preview=False):
    """Every (id, score) of a search in answer order, and its totalCount."""
    hits, after = [], None
    for _ in range(len(corpus_rows()) // max(first, 1) + 2):
        page = gql(SEARCH, {"q": q, "where": where, "after": after, "first": first, "fuzzy": fuzzy},
                   preview=preview)["search"]
        hits += [(e["node"]["id"], e["score"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(hits)
            return hits
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("search paging did not end")


def found(gql, q, **options) -> set[str]:
    return {i for i, _ in run(gql, q, **options)}


def words(text: str | None) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text or ""))


_TEXTS: dict[str, dict] = {}


def texts(row: Row) -> dict[str, list[list[str]]]:
    """The words of each searchable text of an article, field by field; each
    provider and topic name is a text of its own."""
    if row.id in _TEXTS:
        return _TEXTS[row.id]
    names = {row.provider_name, row.canonical_name} - {None}
    made = _TEXTS[row.id] = {
        "title": [words(row.title)], "excerpt": [words(row.excerpt)],
        "body": [words(re.sub(r"<[^>]*>", " ", row.body))],
        "provider": [words(n) for n in names], "topics": [words(t) for t in row.topics]}
    return made


def fields_with(row: Row, word: str) -> set[str]:
    return {field for field, parts in texts(row).items() if any(word in p for p in parts)}


def has_phrase(row: Row, phrase: list[str]) -> bool:
    n = len(phrase)
    return any(part[i:i + n] == phrase for parts in texts(row).values() for part in parts
               for i in range(len(part)))


def public() -> list[Row]:
    return [r for r in corpus_rows() if r.visible]


def having(*wanted: str) -> set[str]:
    return {r.id for r in public() if all(fields_with(r, w) for w in wanted)}


# --- words, phrases, prefixes ------------------------------------------------------

@pytest.mark.parametrize("word", ["dataverse", "portals", "excel", "redis", "gallery", "textinput"])
def test_a_word_finds_every_article_that_contains_it(gql, word):
    want = having(word)
    assert want and found(gql, word, fuzzy=False) == want


def test_all_words_must_match(gql):
    want = having("dataverse", "teams", "excel")
    assert want and found(gql, "dataverse teams excel", fuzzy=False) == want


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
    full_width = [i for i, _ in run(gql, "textinput", fuzzy=False)]
    assert full_width == ["samples/power-apps-community-text-conversion-component-from-full-width-to-half-width"]
    assert [i for i, _ in run(gql, "ＴＥＸＴｉｎｐｕｔ", fuzzy=False)] == full_width


@pytest.mark.parametrize("phrase", ["power apps", "release wave", "apps ai", "custom api"])
def test_a_phrase_needs_its_words_side_by_side(gql, phrase):
    want = {r.id for r in public() if has_phrase(r, phrase.split())}
    assert want, "each phrase occurs in the corpus"
    assert found(gql, f'"{phrase}"') == want
    loose = having(*phrase.split())
    if phrase == "apps ai":  # "Power Apps" and "AI Builder" are two topics, not a phrase
        assert len(loose) > 2 * len(want)


def test_a_word_joined_by_punctuation_is_a_phrase(gql):
    """`power-apps` is the phrase "power apps", not two loose words."""
    assert run(gql, "power-apps") == run(gql, '"power apps"')


@pytest.mark.parametrize("prefix", ["datav", "portal", "compon"])
def test_a_prefix_finds_every_word_that_starts_with_it(gql, prefix):
    want = {r.id for r in public()
            if any(w.startswith(prefix) for parts in texts(r).values() for p in parts for w in p)}
    assert want and found(gql, f"{prefix}*") == want
    assert want >= found(gql, prefix, fuzzy=False)


def test_nothing_to_search_for_finds_nothing(gql):
    assert run(gql, "") == []
    assert run(gql, "  —  ") == []
    assert run(gql, "zzqxnotaword") == []


# --- OR, exclusion, parentheses ------------------------------------------------------

def test_or_finds_either_word(gql):
    excel, sharepoint = having("excel"), having("sharepoint")
    assert excel - sharepoint and sharepoint - excel and excel & sharepoint
    assert found(gql, "excel OR sharepoint", fuzzy=False) == excel | sharepoint
    # lower-case "or" is a word like any other
    assert found(gql, "excel or sharepoint", fuzzy=False) == having("excel", "or", "sharepoint")


def test_or_joins_the_terms_beside_it(gql):
    """`teams excel OR sharepoint` is teams AND (excel OR sharepoint)."""
    want = having("teams") & (having("excel") | having("sharepoint"))
    assert want and found(gql, "teams excel OR sharepoint", fuzzy=False) == want
    assert found(gql, "(excel OR sharepoint) teams", fuzzy=False) == want


def test_a_minus_excludes_a_word_a_phrase_or_a_group(gql):
    dataverse = having("dataverse")
    assert found(gql, "dataverse -teams", fuzzy=False) == dataverse - having("teams")
    phrased = {r.id for r in public() if has_phrase(r, ["power", "apps"])}
    assert found(gql, 'dataverse -"power apps"', fuzzy=False) == dataverse - phrased
    either = having("teams") | having("excel")
    assert found(gql, "dataverse -(teams OR excel)", fuzzy=False) == dataverse - either
    assert 0 < len(dataverse - either) < len(dataverse)
    # a hyphen inside a word joins, it does not exclude
    assert found(gql, "x-ray", fuzzy=False) == found(gql, '"x ray"', fuzzy=False)


def test_an_exclusion_is_exact_even_with_typo_tolerance(gql):
    """-portals drops the articles with "portals", not those with "portal"."""
    kept = found(gql, "dataverse -portals", fuzzy=False)
    assert found(gql, "dataverse -portals") >= kept
    assert kept & having("portal")


@pytest.mark.parametrize("query, token", [
    ("(dataverse teams", "("), ("dataverse)", ")"), ("dataverse OR", "OR"), ("OR dataverse", "OR"),
    ('"dataverse teams', '"dataverse teams'), ("-teams", "-"), ("dataverse OR -teams", "-"),
    ("-teams OR excel", "-"), ("(teams", "("), ("* teams", "*"), ("teams a*", "a*"), ("data-*", "data-*"),
])
def test_a_query_that_cannot_be_parsed_names_the_offending_token(gql, query, token):
    body = gql.raw('query($q: String!) { search(query: $q) { totalCount } }', {"q": query})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert repr(token) in error["message"], error["message"]
    position = query.index(token if token != '"dataverse teams' else '"')
    if token != "OR" or query.startswith("OR"):
        assert f"position {position}" in error["message"], error["message"]


def test_too_many_terms_are_refused(gql):
    body = gql.raw('query($q: String!) { search(query: $q) { totalCount } }',
                   {"q": " ".join(f"word{n}" for n in range(40))})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- typos ----------------------------------------------------------------------------

def test_a_word_of_five_letters_or_more_matches_with_one_typo(gql):
    assert found(gql, "dataverse") == found(gql, "datavrese") == found(gql, "dataversr")  # swap, change
    assert having("gallery") <= found(gql, "galery")  # a letter missing
    assert found(gql, "galery", fuzzy=False) == set()


def test_a_word_of_nine_letters_or_more_matches_with_two_typos(gql):
    sharepoint = having("sharepoint")
    assert sharepoint <= found(gql, "sharpoimt")      # 9 letters, two typos
    assert not sharepoint & found(gql, "shrpoimt")   # 8 letters: one typo only
    assert not having("excel") & found(gql, "exce")   # 4 letters: none


def test_exact_matches_rank_above_typo_matches(gql):
    """`portal` also finds `portals` (one typo): every article with the word
    as typed comes first, scored 1 or more; the others score below 1."""
    hits = run(gql, "portal")
    exact = having("portal")
    typo_only = {i for i, _ in hits} - exact
    assert exact and typo_only, "both kinds of hit must occur, or this proves nothing"
    ranks = [i in exact for i, _ in hits]
    assert ranks == sorted(ranks, reverse=True)
    assert all((s >= 1) == (i in exact) for i, s in hits)
    # With several words: a hit needing a typo for any of them comes after
    # every hit matching all of them as typed.
    both = run(gql, "portal dataverse")
    exact_both = having("portal", "dataverse")
    flags = [i in exact_both for i, _ in both]
    assert exact_both and not all(flags) and flags == sorted(flags, reverse=True)


def test_fuzzy_false_finds_words_as_typed(gql):
    assert found(gql, "portal", fuzzy=False) == having("portal")
    assert [(i, s) for i, s in run(gql, "portal") if s >= 1] == run(gql, "portal", fuzzy=False)


# --- where --------------------------------------------------------------------------

WHERES = [
    {"collection": {"eq": "news"}},
    {"NOT": {"type": {"eq": "video"}}, "publishedAt": {"within": "P365D"}},
    {"topics": {"some": ["Teams integration"]}},
    {"topics": {"every": ["power-apps", "Teams integration"], "none": ["Power Automate"]}},
    {"topics": {"none": ["Teams integration"]}, "quality": {"ne": 89}},
    {"provider": {"domain": {"in": ["YouTube.com", "microsoft.com"]}}},
    {"provider": {"name": {"contains": "microsoft"}}},           # tested on each hit
    {"title": {"contains": "power"}, "heat": {"gte": 50}},       # half in the engine, half not
    {"quality": {"gt": 0, "lte": 90}, "hasImages": True},
    {"OR": [{"quality": {"lt": 80}}, {"id": {"in": ["news/2021-03-21-microsoft-dataverse-customer-managed-key"]}}]},
    {"OR": [{"excerpt": {"contains": "teams"}}, {"collection": {"eq": "samples"}}]},
    {"AND": [{"hasRelated": False}, {"NOT": {"quality": {"in": [89, 71]}}}]},
    {"publishedAt": {"gte": "2021-01-01T00:00:00Z", "lt": "2021-04-01T00:00:00Z"}, "type": {"ne": "video"}},
    {"text": "teams OR excel"},
    {"published": True, "collection": {"in": ["news", "learning"], "notIn": ["learning"]}},
]


@pytest.mark.parametrize("where", WHERES)
def test_where_narrows_the_hits_and_keeps_their_order(gql, where):
    everything = run(gql, "dataverse")
    rows = {r.id: r for r in corpus_rows()}
    want = [(i, s) for i, s in everything if matches(rows[i], _independent(where), FROZEN_NOW)]
    assert 0 < len(want) < len(everything)
    assert run(gql, "dataverse", where, first=7) == want


def _independent(where):
    """The independent reader's ``text`` is words only: its OR is spelt out."""
    if where.get("text") == "teams OR excel":
        return {"OR": [{"text": "teams"}, {"text": "excel"}]}
    return where


def test_unpublished_articles_need_the_preview_token(gql):
    hidden = {r.id for r in corpus_rows() if not r.visible}
    public_hits = found(gql, "microsoft")
    preview_hits = found(gql, "microsoft", preview=True)
    assert not public_hits & hidden
    assert preview_hits & hidden and preview_hits - hidden == public_hits


# --- cursors -------------------------------------------------------------------------

def test_a_cursor_keeps_its_place(gql):
    """A page after a cursor is the rest of the whole answer, whatever the
    page size; a cursor from a page of another size works the same."""
    whole = run(gql, "power apps", first=100)
    for size in (1, 3, 20):
        assert run(gql, "power apps", first=size)[:60] == whole[:60]
    page = gql(SEARCH, {"q": "power apps", "first": 30})["search"]["edges"]
    after = gql(SEARCH, {"q": "power apps", "first": 5, "after": page[24]["cursor"]})["search"]["edges"]
    assert [(e["node"]["id"], e["score"]) for e in after] == whole[25:30]


def test_pages_walk_from_exact_hits_into_typo_hits(corpus_model):
    """Typo hits rank after every exact hit, and their tier is searched only
    once a page reaches past the exact ones: pages of any size, each from
    the cursor of the one before, give the whole answer once."""
    from store import search

    def found():
        return search.search(corpus_model.public, word, None, FROZEN_NOW, True)

    for word in ("portal", "power", "flows", "teams", "excel"):
        whole = [(s, a.id) for s, a in found().page(1000)[0]]
        if any(s >= 1 for s, _ in whole) and any(s < 1 for s, _ in whole):
            break
    else:
        pytest.fail("no word has both exact and typo hits")
    for size in (1, 4, 9, 50):
        walked: list = []
        while len(walked) < len(whole):
            page, start = found().page(size, walked[-1] if walked else None, len(walked))
            assert page and start == len(walked)
            walked += [(s, a.id) for s, a in page]
        assert walked == whole and found().page(size, walked[-1])[0] == []


def test_a_bad_cursor_is_refused(gql):
    body = gql.raw('{ search(query: "power", after: "bm9wZQ") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_phrase_never_runs_from_one_text_into_the_next():
    """The title, excerpt, body and names are values of one field: a phrase
    matches inside one of them, never across the end of one and the start
    of the next."""
    import tantivy

    from store import searchdocs, searchindex
    index = searchindex._new()
    writer = index.writer(15_000_000, 1)
    writer.add_json(next(searchdocs.record_documents(_Snapshot(), ["a"]))[1])
    writer.commit()
    index.reload()
    searcher = index.searcher()

    def count(*words):
        return searcher.search(tantivy.Query.phrase_query(searchindex.SCHEMA, "text", list(words)), 5, count=True).count

    assert count("tide", "tables") == 1 and count("harbour", "lights") == 1
    assert count("tables", "harbour") == 0


class _Records(dict):
    nums = {"a": 1}


class _Snapshot:
    articles = _Records(a={"id": "a", "title": "Tide tables", "excerpt": "Harbour lights", "body": "at dusk",
                           "type": "article", "collection": "news"})
    providers: dict = {}
    meta: dict = {}
