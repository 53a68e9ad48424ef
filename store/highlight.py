"""Highlights of a search hit: its title and its best excerpt or body
fragment, with the words the search matched marked.

Words are found the way the index finds them (store/searchindex.py ``spans``:
the same cutting and folding), so a mark is exactly a word the query
matched: a word as typed or within its typos, a prefix's words, each word
of a phrase where the phrase occurs; never an excluded word. Offsets are
in characters (Unicode code points) of the highlight's ``text``.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from . import searchdocs, searchindex
from .searchsyntax import Node, Phrase, Prefix, Word, terms, typos_allowed

FRAGMENT = 200      # characters of an excerpt or body fragment
WHOLE = 300         # an excerpt up to this long is shown whole
CONTEXT = 40        # characters kept before the first mark of a fragment


@dataclass(frozen=True)
class Highlight:
    field: str
    text: str
    ranges: tuple[tuple[int, int], ...]

    @property
    def html(self) -> str:
        parts, at = [], 0
        for start, end in self.ranges:
            parts += [html.escape(self.text[at:start]), "<mark>", html.escape(self.text[start:end]), "</mark>"]
            at = end
        parts.append(html.escape(self.text[at:]))
        return "".join(parts)


class Matcher:
    """The terms of one search, to find in a text."""

    def __init__(self, tree: Node | None, fuzzy: bool) -> None:
        found = terms(tree)
        self.words = {t.text: (typos_allowed(t.text) if fuzzy else 0) for t in found if isinstance(t, Word)}
        self.prefixes = tuple(t.text for t in found if isinstance(t, Prefix))
        self.phrases = [t.words for t in found if isinstance(t, Phrase)]

    def _term(self, word: str) -> str | None:
        """Which term ``word`` matches, if any."""
        if word in self.words:
            return word
        for prefix in self.prefixes:
            if word.startswith(prefix):
                return prefix + "*"
        for term, typos in self.words.items():
            if typos and abs(len(term) - len(word)) <= typos and _distance(term, word, typos) <= typos:
                return term
        return None

    def marks(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of each matched word of ``text``, in order."""
        tokens = searchindex.spans(text)
        marked: dict[int, tuple[int, int, str]] = {}
        for i, (word, start, end) in enumerate(tokens):
            term = self._term(word)
            if term is not None:
                marked[i] = (start, end, term)
        if self.phrases:
            words = [w for w, _, _ in tokens]
            for phrase in self.phrases:
                n = len(phrase)
                for i in range(len(words) - n + 1):
                    if tuple(words[i:i + n]) == phrase:
                        for j in range(i, i + n):
                            marked[j] = (tokens[j][1], tokens[j][2], " ".join(phrase))
        return [marked[i] for i in sorted(marked)]


def _distance(a: str, b: str, bound: int) -> int:
    """Edit distance with transpositions (optimal string alignment), or
    ``bound + 1`` once it is certainly more than ``bound``."""
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > bound:
            return bound + 1
        previous2, previous = previous, row
    return previous[-1]


def _whole(field: str, text: str, marks: list) -> Highlight:
    return Highlight(field, text, tuple((s, e) for s, e, _ in marks))


def _fragment(field: str, text: str, marks: list) -> tuple[tuple[int, int], Highlight]:
    """The window of ``text`` with the most different terms marked (then the
    most marks), and how good it is."""
    best, best_start = (0, 0), 0
    for k, (start, _, _) in enumerate(marks):
        inside = [m for m in marks[k:] if m[1] <= start + FRAGMENT - CONTEXT]
        value = (len({m[2] for m in inside}), len(inside))
        if value > best:
            best, best_start = value, start
    begin = max(0, best_start - CONTEXT)
    if begin:  # start at a word
        space = text.find(" ", begin, best_start)
        begin = space + 1 if space >= 0 else begin
    end = min(len(text), begin + FRAGMENT)
    if end < len(text):  # end at a word
        space = text.rfind(" ", begin, end)
        end = space if space > begin else end
    inside = tuple((s - begin, e - begin) for s, e, _ in marks if s >= begin and e <= end)
    return best, Highlight(field, text[begin:end], inside)


def highlights(article, matcher: Matcher) -> list[Highlight]:
    """The title, then the excerpt or the body fragment that holds more of
    the search's terms (the excerpt when as good; either unmarked when
    neither has any)."""
    found = [_whole("title", article.title, matcher.marks(article.title))]
    candidates = []
    for field, raw in (("excerpt", article.excerpt), ("body", searchdocs.plain(article.body))):
        text = " ".join((raw or "").split())
        if not text:
            continue
        marks = matcher.marks(text)
        if field == "excerpt" and len(text) <= WHOLE:
            value = (len({m[2] for m in marks}), len(marks))
            candidates.append((value, _whole(field, text, marks)))
        else:
            candidates.append(_fragment(field, text, marks))
    if candidates:
        best = max(candidates, key=lambda c: c[0])  # the first (the excerpt) among equals
        found.append(best[1])
    return found
