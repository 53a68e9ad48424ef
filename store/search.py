"""Ranked full-text search (BM25F) built from the read model.

Fields are weighted (a word in the title counts more than one in the body),
text is folded to lower case without accents, and a query is a list of words,
``"quoted phrases"`` and ``prefix*`` terms that must all match. Document
frequencies are kept per view so unpublished articles never shape the
scores of a public answer.
"""
from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict

from .errors import BadQuery
from .readmodel import Article, ReadModel, View

FIELD_WEIGHTS = {"title": 4.0, "topics": 2.0, "provider": 1.5, "excerpt": 1.5, "body": 1.0}
K1 = 1.2
B = 0.75
MAX_PREFIX_EXPANSION = 64
MAX_QUERY_TERMS = 32

_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")
_QUERY = re.compile(r'"([^"]*)"|(\S+)')


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str | None) -> list[str]:
    if not text:
        return []
    return _WORD.findall(fold(text))


def field_texts(article: Article) -> dict[str, str]:
    body = article.body or ""
    if "<" in body:
        body = _TAG.sub(" ", body)  # HTML bodies (samples, newsletters): words only
    names = []
    if article.provider is not None:
        names.append(article.provider.name)
    if article.provider_name:
        names.append(article.provider_name)
    return {"title": article.title, "excerpt": article.excerpt or "", "body": body,
            "provider": " ".join(names), "topics": " ".join(t.name for t in article.topics)}


class SearchIndex:
    def __init__(self, model: ReadModel) -> None:
        self.model = model
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        lengths: list[float] = []
        for article in model.all_articles:
            length = 0.0
            for field, text in field_texts(article).items():
                weight = FIELD_WEIGHTS[field]
                words = tokens(text)
                length += weight * len(words)
                for word in words:
                    row = postings[word]
                    row[article.ord] = row.get(article.ord, 0.0) + weight
            lengths.append(length)
        self.postings = dict(postings)
        self.vocabulary = sorted(self.postings)
        self.lengths = lengths
        visible = [a.visible for a in model.all_articles]
        self.visible = visible
        self.stats = {}
        for preview in (False, True):
            docs = [i for i, v in enumerate(visible) if preview or v]
            total = sum(lengths[i] for i in docs)
            self.stats[preview] = (len(docs), (total / len(docs)) if docs else 1.0)
        self.df_public = {w: sum(1 for i in row if visible[i]) for w, row in self.postings.items()}

    def _df(self, word: str, preview: bool) -> int:
        return len(self.postings.get(word, ())) if preview else self.df_public.get(word, 0)

    def _expand(self, prefix: str) -> list[str]:
        start = bisect_left(self.vocabulary, prefix)
        words = []
        for word in self.vocabulary[start:]:
            if not word.startswith(prefix) or len(words) >= MAX_PREFIX_EXPANSION:
                break
            words.append(word)
        return words

    def _term_scores(self, words: list[str], preview: bool) -> dict[int, float]:
        """BM25 of the best-scoring word of a term (its alternatives are
        prefix expansions), per document."""
        count, avg = self.stats[preview]
        scores: dict[int, float] = {}
        for word in words:
            df = self._df(word, preview)
            if not df:
                continue
            idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
            for doc, tf in self.postings[word].items():
                if not preview and not self.visible[doc]:
                    continue
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[doc] / avg))
                score = idf * norm
                if score > scores.get(doc, 0.0):
                    scores[doc] = score
        return scores

    def run(self, query: str, preview: bool) -> dict[int, float]:
        """Document ordinal -> score for documents matching every term."""
        terms = parse_query(query)
        if not terms:
            return {}
        result: dict[int, float] | None = None
        for kind, value in terms:
            if kind == "word":
                scores = self._term_scores([value], preview)
            elif kind == "prefix":
                scores = self._term_scores(self._expand(value), preview)
            else:
                scores = self._phrase(value, preview)
            if result is None:
                result = scores
            else:
                result = {d: s + scores[d] for d, s in result.items() if d in scores}
            if not result:
                return {}
        return result or {}

    def _phrase(self, words: list[str], preview: bool) -> dict[int, float]:
        parts = [self._term_scores([w], preview) for w in words]
        common = set(parts[0])
        for part in parts[1:]:
            common &= part.keys()
        articles = self.model.all_articles
        hits = {}
        for doc in common:
            texts = field_texts(articles[doc])
            if any(_contains(tokens(text), words) for text in texts.values()):
                hits[doc] = sum(part[doc] for part in parts)
        return hits


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    first = needle[0]
    return any(haystack[i:i + n] == needle for i, w in enumerate(haystack) if w == first)


def parse_query(query: str) -> list[tuple[str, object]]:
    terms: list[tuple[str, object]] = []
    for phrase, bare in _QUERY.findall(query or ""):
        if phrase:
            words = tokens(phrase)
            if len(words) == 1:
                terms.append(("word", words[0]))
            elif words:
                terms.append(("phrase", words))
        elif bare.endswith("*") and tokens(bare):
            words = tokens(bare)
            terms.extend(("word", w) for w in words[:-1])
            terms.append(("prefix", words[-1]))
        else:
            terms.extend(("word", w) for w in tokens(bare))
    if len(terms) > MAX_QUERY_TERMS:
        raise BadQuery(f"a search may have at most {MAX_QUERY_TERMS} terms, got {len(terms)}")
    return terms


def index_for(model: ReadModel) -> SearchIndex:
    """Built on first use and kept for the model's lifetime (one data version)."""
    index = getattr(model, "_search_index", None)
    if index is None:
        index = model._search_index = SearchIndex(model)
    return index


def text_matches(view: View, text: str) -> frozenset[int]:
    """Ordinals of the articles that the ``text`` filter keeps."""
    return frozenset(index_for(view.model).run(text, view.preview))


def search(view: View, query: str) -> list[tuple[Article, float]]:
    hits = index_for(view.model).run(query, view.preview)
    articles = view.model.all_articles
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(articles[doc], round(score, 6)) for doc, score in ranked]
