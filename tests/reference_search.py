"""The search index as it was before it was made compact: postings as
nested dicts and BM25F scored per query. Kept, unchanged, only so that
tests/test_search_index.py can check that store/search.py still gives the
same hits, scores and order for any query. Not imported by the application.
"""
from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict

from store.errors import BadQuery
from store.readmodel import Article, ReadModel, View

FIELD_WEIGHTS = {"title": 4.0, "topics": 2.0, "provider": 1.5, "excerpt": 1.5, "body": 1.0}
# Length normalisation per field: a long body is diluted, while titles and
# excerpts vary little (a short excerpt must not outweigh the title) and
# name lists not at all.
FIELD_B = {"title": 0.3, "topics": 0.0, "provider": 0.0, "excerpt": 0.3, "body": 0.75}
K1 = 1.2
MAX_PREFIX_EXPANSION = 256
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


def field_texts(article: Article) -> dict[str, list[str]]:
    """Each field's texts. Provider and topic names stay separate strings so
    a phrase cannot run from one name into the next."""
    body = article.body or ""
    if "<" in body:
        body = _TAG.sub(" ", body)  # HTML bodies (samples, newsletters): words only
    names: list[str] = []
    for name in (article.provider.name if article.provider else None, article.provider_name):
        if name and name not in names:
            names.append(name)
    return {"title": [article.title], "excerpt": [article.excerpt or ""], "body": [body],
            "provider": names, "topics": [t.name for t in article.topics]}


class SearchIndex:
    def __init__(self, model: ReadModel) -> None:
        self.model = model
        # field -> word -> document ordinal -> occurrences
        postings: dict[str, dict[str, dict[int, int]]] = {f: defaultdict(dict) for f in FIELD_WEIGHTS}
        lengths: dict[str, list[int]] = {f: [] for f in FIELD_WEIGHTS}
        for article in model.all_articles:
            for field, texts in field_texts(article).items():
                words = [word for text in texts for word in tokens(text)]
                lengths[field].append(len(words))
                rows = postings[field]
                for word in words:
                    row = rows[word]
                    row[article.ord] = row.get(article.ord, 0) + 1
        self.postings = {f: dict(rows) for f, rows in postings.items()}
        self.vocabulary = sorted({w for rows in self.postings.values() for w in rows})
        visible = [a.visible for a in model.all_articles]
        self.visible = visible
        # Document frequencies, document counts and average field lengths
        # per view, so unpublished articles never shape public scores.
        self.df: dict[bool, dict[str, int]] = {False: {}, True: {}}
        for word in self.vocabulary:
            docs = set()
            for rows in self.postings.values():
                docs.update(rows.get(word, ()))
            self.df[True][word] = len(docs)
            public = sum(1 for doc in docs if visible[doc])
            if public:
                self.df[False][word] = public
        self.counts: dict[bool, int] = {}
        self.coefficients: dict[bool, dict[str, list[float]]] = {}
        for preview in (False, True):
            docs = [i for i, v in enumerate(visible) if preview or v]
            self.counts[preview] = len(docs)
            coefficients = {}
            for field, weight in FIELD_WEIGHTS.items():
                average = sum(lengths[field][i] for i in docs) / len(docs) if docs else 0.0
                b = FIELD_B[field]
                # BM25F normalises each field by its own average length, so a
                # long body does not dilute a word in the title.
                coefficients[field] = [weight / (1 - b + b * n / average) if average else weight
                                       for n in lengths[field]]
            self.coefficients[preview] = coefficients

    def _df(self, word: str, preview: bool) -> int:
        return self.df[preview].get(word, 0)

    def _expand(self, prefix: str, preview: bool) -> list[str]:
        """Every word of the view that starts with ``prefix``. Too short a
        prefix is refused rather than cut short, which would drop matches."""
        known = self.df[preview]
        words = []
        for word in self.vocabulary[bisect_left(self.vocabulary, prefix):]:
            if not word.startswith(prefix):
                break
            if word in known:
                words.append(word)
                if len(words) > MAX_PREFIX_EXPANSION:
                    raise BadQuery(f"{prefix}* matches more than {MAX_PREFIX_EXPANSION} words: "
                                   "give a longer prefix")
        return words

    def _term_scores(self, words: list[str], preview: bool) -> dict[int, float]:
        """BM25F of the best-scoring word of a term (its alternatives are
        prefix expansions), per document."""
        count = self.counts[preview]
        coefficients = self.coefficients[preview]
        visible = self.visible
        scores: dict[int, float] = {}
        for word in words:
            df = self._df(word, preview)
            if not df:
                continue
            idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
            weighted: dict[int, float] = {}
            for field, rows in self.postings.items():
                coefficient = coefficients[field]
                for doc, tf in rows.get(word, {}).items():
                    if preview or visible[doc]:
                        weighted[doc] = weighted.get(doc, 0.0) + tf * coefficient[doc]
            for doc, tf in weighted.items():
                score = idf * tf * (K1 + 1) / (tf + K1)
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
                scores = self._term_scores(self._expand(value, preview), preview)
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
            texts = field_texts(articles[doc]).values()
            if any(_contains(tokens(text), words) for field in texts for text in field):
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


def search(index: SearchIndex, view: View, query: str) -> list[tuple[Article, float]]:
    """Hits best first, ties by id; scores rounded before sorting. Takes its
    index explicitly: ``model._search_index`` belongs to store/search.py."""
    hits = index.run(query, view.preview)
    articles = view.model.all_articles
    ranked = [(articles[doc], round(score, 6)) for doc, score in hits.items()]
    ranked.sort(key=lambda hit: (-hit[1], hit[0].id))
    return ranked
