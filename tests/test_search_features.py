"""What a search box needs besides hits: highlights on each hit, similar
articles, and completions as the user types, on the real corpus."""
from __future__ import annotations

import html
import json
import re

import pytest

from tests.conftest import ROOT
from tests.independent_query import corpus_rows, fold

README = (ROOT / "README.md").read_text(encoding="utf-8")

HIGHLIGHTS = """query($q: String!, $fuzzy: Boolean, $first: Int = 20) {
  search(query: $q, first: $first, fuzzy: $fuzzy) { edges { node { id title excerpt }
    highlights { field text html ranges } } } }"""


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


def edges(gql, q, fuzzy=True, first=20):
    return gql(HIGHLIGHTS, {"q": q, "fuzzy": fuzzy, "first": first})["search"]["edges"]


def marked(highlight: dict) -> list[str]:
    return [highlight["text"][start:end] for start, end in highlight["ranges"]]


def test_a_highlight_is_its_text_with_the_matched_words_marked(gql):
    for edge in edges(gql, "dataverse teams"):
        title, fragment = edge["highlights"]
        assert title["field"] == "title" and title["text"] == edge["node"]["title"]
        assert fragment["field"] in ("excerpt", "body")
        for highlight in (title, fragment):
            text, ranges = highlight["text"], highlight["ranges"]
            assert all(0 <= s < e <= len(text) for s, e in ranges)
            assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:])), "ranges are in order, apart"
            assert {fold(w) for w in marked(highlight)} <= {"dataverse", "teams", "team"}  # team: one typo
            rebuilt = html.unescape(highlight["html"].replace("<mark>", "").replace("</mark>", ""))
            assert rebuilt == text
            assert re.findall(r"<mark>(.*?)</mark>", highlight["html"]) == [html.escape(w) for w in marked(highlight)]
        assert "dataverse" in {fold(w) for w in marked(title) + marked(fragment)}


def test_every_occurrence_of_a_matched_word_is_marked(gql):
    for edge in edges(gql, "dataverse", fuzzy=False):
        for highlight in edge["highlights"]:
            assert len(highlight["ranges"]) == words(highlight["text"]).count("dataverse")


def test_the_html_is_escaped(gql):
    edge = next(e for e in edges(gql, "barcodes scan", first=50) if "&" in e["node"]["title"])
    title = edge["highlights"][0]
    assert title["text"] == "PowerApps - Scan & Log Barcodes"
    assert title["html"] == "PowerApps - <mark>Scan</mark> &amp; Log <mark>Barcodes</mark>"


def test_excluded_words_are_not_marked_and_typos_only_with_fuzzy(gql):
    for edge in edges(gql, "dataverse -excel"):
        for highlight in edge["highlights"]:
            assert "excel" not in {fold(w) for w in marked(highlight)}
    typo = edges(gql, "dataverce")
    assert typo and all("Dataverse" in marked(e["highlights"][0]) or "dataverse" in map(fold, marked(e["highlights"][1]))
                        for e in typo if "dataverse" in fold(e["node"]["title"] + (e["node"]["excerpt"] or "")))
    assert edges(gql, "dataverce", fuzzy=False) == []


def test_the_fragment_is_the_excerpt_or_the_body_part_that_holds_the_words(gql):
    rows = {r.id: r for r in corpus_rows()}
    seen = set()
    for edge in edges(gql, "redis", fuzzy=False, first=50) + edges(gql, "dataverse", fuzzy=False, first=50):
        row = rows[edge["node"]["id"]]
        fragment = edge["highlights"][1]
        seen.add(fragment["field"])
        if fragment["field"] == "body":
            assert fragment["ranges"], "the body is shown only for the words it holds"
            assert len(fragment["text"]) <= 200
            assert fragment["text"] in " ".join(re.sub(r"<[^>]*>", " ", row.body).split())
        else:
            assert fragment["text"] in " ".join((row.excerpt or "").split())
    assert seen == {"excerpt", "body"}, "both kinds must occur, or this proves nothing"


def test_an_article_list_has_no_highlights(gql):
    data = gql("{ articles(first: 2) { edges { highlights { text } } } }")
    assert [e["highlights"] for e in data["articles"]["edges"]] == [None, None]


# --- similar -------------------------------------------------------------------------

SIMILAR = """query($id: ID!, $first: Int) { article(id: $id) { id topics { slug }
  similar(first: $first) { id topics { slug } } } }"""


def test_similar_articles_are_never_the_article_and_share_its_subject(gql):
    ids = [e["node"]["id"] for e in edges(gql, "dataverse teams", fuzzy=False, first=8)]
    sharing = []
    for ident in ids:
        article = gql(SIMILAR, {"id": ident, "first": 5})["article"]
        similar = article["similar"]
        assert len(similar) == 5 and ident not in {a["id"] for a in similar}
        assert len({a["id"] for a in similar}) == 5
        own = {t["slug"] for t in article["topics"]}
        sharing += [bool(own & {t["slug"] for t in a["topics"]}) for a in similar]
    assert sum(sharing) / len(sharing) > 0.9


def test_similar_never_shows_an_unpublished_article_without_the_token(gql):
    hidden = {r.id for r in corpus_rows() if not r.visible}
    shown_hidden = 0
    for row in [r for r in corpus_rows() if r.visible][::25]:
        public = gql(SIMILAR, {"id": row.id, "first": 20})["article"]["similar"]
        assert not {a["id"] for a in public} & hidden
        preview = gql(SIMILAR, {"id": row.id, "first": 20}, preview=True)["article"]["similar"]
        shown_hidden += bool({a["id"] for a in preview} & hidden)
    assert shown_hidden, "the preview does see unpublished similar articles"


def test_similar_takes_first_within_the_page_limit(gql):
    ident = next(r.id for r in corpus_rows() if r.visible)
    assert len(gql(SIMILAR, {"id": ident, "first": 2})["article"]["similar"]) == 2
    assert len(gql(SIMILAR, {"id": ident, "first": None})["article"]["similar"]) == 5
    body = gql.raw(SIMILAR, {"id": ident, "first": 1000})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- suggest -------------------------------------------------------------------------

SUGGEST = "query($p: String!, $first: Int) { suggest(prefix: $p, first: $first) { text kind } }"


@pytest.mark.parametrize("prefix", ["pow", "Power ap", "data", "canvas ap", "MICROSOFT TE", "azu"])
def test_suggestions_complete_the_prefix(gql, prefix):
    found = gql(SUGGEST, {"p": prefix, "first": 10})["suggest"]
    assert 0 < len(found) <= 10
    assert len({fold(s["text"]) for s in found}) == len(found), "no suggestion twice"
    *whole, start = words(prefix)
    for suggestion in found:
        assert suggestion["kind"] in ("topic", "provider", "title")
        text = words(suggestion["text"])
        assert any(text[i:i + len(whole)] == whole and text[i + len(whole)].startswith(start)
                   for i in range(len(text) - len(whole))), suggestion
    kinds = [s["kind"] for s in found]
    assert kinds == sorted(kinds, key=["topic", "provider", "title"].index), "topics, providers, then titles"


def test_suggestions_name_topics_and_providers(gql):
    assert gql(SUGGEST, {"p": "power a", "first": 1})["suggest"] == [{"text": "Power Apps", "kind": "topic"}]
    found = gql(SUGGEST, {"p": "powerapps9", "first": 20})["suggest"]
    assert found == [{"text": "PowerApps911", "kind": "provider"}]


def test_suggestions_never_show_an_unpublished_title_without_the_token(gql):
    hidden = [r for r in corpus_rows() if not r.visible]
    public_titles = {r.title for r in corpus_rows() if r.visible}
    leaked = 0
    for row in hidden:
        prefix = " ".join(row.title.split()[:3])
        titles = {s["text"] for s in gql(SUGGEST, {"p": prefix, "first": 50})["suggest"] if s["kind"] == "title"}
        assert titles <= public_titles
        preview = {s["text"] for s in gql(SUGGEST, {"p": prefix, "first": 50}, preview=True)["suggest"]}
        leaked += row.title in preview
    assert leaked, "the preview does suggest unpublished titles"


def test_nothing_to_complete_suggests_nothing(gql):
    assert gql(SUGGEST, {"p": "", "first": 5})["suggest"] == []
    assert gql(SUGGEST, {"p": "zzqx", "first": 5})["suggest"] == []
    assert gql(SUGGEST, {"p": "pow", "first": 0})["suggest"] == []


# --- docs/search.md ----------------------------------------------------------------------

DOC = (ROOT / "docs" / "search.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("query", re.findall(r"^```graphql\n(.*?)^```", DOC, re.M | re.S))
def test_the_documented_queries_find_something_on_the_demo(demo_client, query):
    body = demo_client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    assert all(value for value in body["data"].values()), body


def test_the_documented_error_is_the_error_given(demo_client):
    (shown,) = re.findall(r"^```json\n(.*?)^```", DOC, re.M | re.S)
    shown = json.loads(shown)
    query = re.search(r"of '(.*)'", shown["message"]).group(1)
    body = demo_client.post("/graphql", json={"query": "query($q: String!) { search(query: $q) { totalCount } }",
                                              "variables": {"q": query}}).json()
    (error,) = body["errors"]
    assert {"message": error["message"], "extensions": error["extensions"]} == shown


def test_the_readme_typo_example_holds(demo_client):
    typo, word = re.search(r"forgiving typos \(`(\w+)` finds `(\w+)`\)", README).groups()
    count = lambda q, fuzzy: demo_client.post("/graphql", json={  # noqa: E731
        "query": "query($q: String!, $f: Boolean) { search(query: $q, fuzzy: $f) { totalCount } }",
        "variables": {"q": q, "f": fuzzy}}).json()["data"]["search"]["totalCount"]
    assert count(typo, True) == count(word, False) > 0 == count(typo, False)
