"""Relevance on the real corpus: every public article is asked for the way a
reader would ask for it, and must come back near the top.

The queries are made from the corpus files read independently (tests/
independent_query.py): an article's exact title; three distinctive words
of its excerpt (those fewest public articles contain); two words side by
side, and the same reversed; a prefix; the distinctive words misspelt by
one and by two edits; OR between two articles' words; and exclusion. Each
kind's hit rate is asserted (and printed with -s)."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from store import search
from tests.conftest import FROZEN_NOW
from tests.independent_query import Row, corpus_rows, fold


def words(text: str | None) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text or ""))


def everything(row: Row) -> list[list[str]]:
    body = re.sub(r"<[^>]*>", " ", row.body)
    names = [row.provider_name or "", row.canonical_name or ""]
    return [words(part) for part in (row.title, row.excerpt, body, *names, *row.topics)]


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return [r for r in corpus_rows() if r.visible]


@pytest.fixture(scope="module")
def df(rows) -> Counter:
    """In how many public articles each word occurs."""
    counts: Counter = Counter()
    for row in rows:
        counts.update({w for part in everything(row) for w in part})
    _DF[id(counts)] = counts
    return counts


@pytest.fixture(scope="module")
def ask(corpus_model):
    def ask(query: str, first: int, fuzzy: bool = True) -> list[str]:
        found = search.search(corpus_model.public, query, None, FROZEN_NOW, fuzzy)
        return [a.id for _, a in found.page(first)[0]]
    return ask


def distinctive(row: Row, df: Counter, n: int, min_length: int = 3) -> list[str]:
    """The ``n`` words of the excerpt that fewest articles hold."""
    return [w for w in _by_rarity(row.excerpt, id(df)) if len(w) >= min_length][:n]


_RARITY: dict = {}


def _by_rarity(excerpt: str | None, df_id: int) -> list[str]:
    found = _RARITY.get((excerpt, df_id))
    if found is None:
        df = _DF[df_id]
        candidates = [w for w in dict.fromkeys(words(excerpt)) if not w.isdigit()]
        found = _RARITY[excerpt, df_id] = sorted(candidates, key=lambda w: (df[w], w))
    return found


_DF: dict = {}


def rate(results: list[bool], name: str) -> float:
    assert results, f"{name}: no article could be asked, so this proves nothing"
    value = sum(results) / len(results)
    print(f"{name}: {sum(results)}/{len(results)} = {value:.3f}")
    return value


def test_each_article_is_in_the_top_3_for_its_exact_title(rows, ask):
    assert rate([r.id in ask(r.title, 3) for r in rows], "exact title, top 3") == 1.0


def test_each_article_is_in_the_top_10_for_three_distinctive_words_of_its_excerpt(rows, df, ask):
    asked = [r for r in rows if len(distinctive(r, df, 3)) == 3]
    assert len(asked) > 0.95 * len(rows)
    assert rate([r.id in ask(" ".join(distinctive(r, df, 3)), 10) for r in asked],
                "three excerpt words, top 10") == 1.0


def _pair(row: Row, df: Counter) -> tuple[str, str] | None:
    """The two side-by-side title words that fewest articles hold, when the
    reversed pair occurs nowhere in the article."""
    title = words(row.title)
    pairs = [(a, b) for a, b in zip(title, title[1:]) if a != b and len(a) > 2 and len(b) > 2]
    text = everything(row)
    pairs = [(a, b) for a, b in pairs
             if not any(part[i:i + 2] == [b, a] for part in text for i in range(len(part)))]
    return min(pairs, key=lambda p: (df[p[0]] + df[p[1]], p), default=None)


def test_a_phrase_finds_its_article_and_its_reversed_words_do_not(rows, df, ask):
    """In the top 10 when at most 10 articles hold the phrase (a title's
    rarest pair may be "power apps"), among the hits always."""
    pairs: Counter = Counter()
    for row in rows:
        pairs.update({(a, b) for part in everything(row) for a, b in zip(part, part[1:])})
    asked = [(r, p) for r in rows if (p := _pair(r, df))]
    assert len(asked) > 0.8 * len(rows)
    assert rate([r.id in ask(f'"{a} {b}"', min(100, max(10, pairs[a, b]))) for r, (a, b) in asked],
                "phrase, top 10 (or among its holders)") == 1.0
    assert rate([r.id not in ask(f'"{b} {a}"', 100) for r, (a, b) in asked], "reversed phrase, not found") == 1.0
    assert rate([r.id in ask(f"{b} {a}", 10) for r, (a, b) in asked], "reversed words, top 10") >= 0.95


def test_a_prefix_finds_its_article(rows, df, ask):
    """A distinctive word and the start of the next one, as while typing."""
    asked = [(r, w) for r in rows if len(w := distinctive(r, df, 2, min_length=6)) == 2]
    assert len(asked) > 0.8 * len(rows)
    assert rate([r.id in ask(f"{a} {b[:4]}*", 10) for r, (a, b) in asked], "word and prefix*, top 10") >= 0.99


def _misspelt(word: str, edits: int, df: Counter) -> str | None:
    """``word`` with its middle letters swapped (one edit each), ``edits``
    times, when that is no word of the corpus."""
    letters = list(word)
    for k in range(edits):
        i = 1 + 2 * k
        if i + 1 >= len(letters) - 1 or letters[i] == letters[i + 1]:
            return None
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    typo = "".join(letters)
    return None if df[typo] or typo == word else typo


@pytest.mark.parametrize("edits, length", [(1, 5), (2, 9)])
def test_a_misspelt_word_still_finds_its_article(rows, df, ask, edits, length):
    asked = []
    for row in rows:
        long = [w for w in distinctive(row, df, 10, min_length=length) if w.isalpha()]
        other = [w for w in distinctive(row, df, 3) if w not in long[:1]]
        if long and other and (typo := _misspelt(long[0], edits, df)):
            asked.append((row, f"{typo} {' '.join(other[:2])}", f"{long[0]} {' '.join(other[:2])}"))
    assert len(asked) > (0.5 if edits == 1 else 0.2) * len(rows)
    name = f"{edits} edit{'s' if edits > 1 else ''} in a word of {length}+ letters, top 10"
    assert rate([r.id in ask(q, 10) for r, q, _ in asked], name) >= 0.99
    assert rate([r.id not in ask(q, 100, fuzzy=False) or r.id in ask(exact, 100, fuzzy=False)
                 for r, q, exact in asked], "the same without typo tolerance finds only exact") == 1.0


def test_or_finds_both_articles(rows, df, ask):
    pairs = [(a, b) for a, b in zip(rows, rows[1:])
             if distinctive(a, df, 1) and distinctive(b, df, 1)
             and df[distinctive(a, df, 1)[0]] + df[distinctive(b, df, 1)[0]] <= 20]
    assert len(pairs) > 0.5 * len(rows)
    hits = []
    for a, b in pairs:
        found = ask(f"{distinctive(a, df, 1)[0]} OR {distinctive(b, df, 1)[0]}", 20, fuzzy=False)
        hits.append(a.id in found and b.id in found)
    assert rate(hits, "OR of two articles' words, both in the top 20") == 1.0


def test_exclusion_drops_the_articles_with_the_word(rows, df, ask):
    asked = [(r, w) for r in rows if len(w := distinctive(r, df, 3)) == 3]
    query = lambda w: f"{w[0]} {w[1]} -{w[2]}"  # noqa: E731
    assert rate([r.id not in ask(query(w), 100) for r, w in asked], "excluded word, not found") == 1.0
    unrelated = "zzqxnotaword"
    assert rate([r.id in ask(f"{w[0]} {w[1]} -{unrelated}", 10) for r, w in asked],
                "excluding a word it lacks, top 10") == 1.0


def test_an_exact_match_ranks_above_every_typo_match(rows, df, ask, corpus_model):
    """Pinned: for each distinctive word of 6+ letters, the articles holding
    it as typed all come before the articles reached only through a typo."""
    holders: dict[str, set[str]] = {}
    for row in rows:
        for part in everything(row):
            for w in part:
                holders.setdefault(w, set()).add(row.id)
    checked = 0
    for row in rows[::5]:
        for word in distinctive(row, df, 3, min_length=6):
            hits = search.search(corpus_model.public, word, None, FROZEN_NOW, True).page(100)[0]
            exact = [a.id in holders[word] for _, a in hits]
            assert exact == sorted(exact, reverse=True), word
            assert all((score >= 1) == flag for (score, _), flag in zip(hits, exact)), word
            checked += not all(exact)
    assert checked > 10, "typo matches must occur, or this proves nothing"
