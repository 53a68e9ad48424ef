"""The words of a text field, for the filters that look inside it
(``contains``, ``startsWith``, ``endsWith``, which ignore case).

A field's text, case-folded, is cut into words (runs of word characters).
Each word keeps the numbers of the articles whose field has it, and each
piece of one to three characters of a word keeps the words it is in. A
pattern's own words must each lie inside a word of any text that contains
the pattern, so the articles with a word containing each of them are the
candidates: a few set operations, instead of a test of every article. The
candidates are then tested (the planner does), since a word of the pattern
may sit anywhere in a word of the text.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable

from .layered import Layered
from .numbersets import NumberSet, union

_WORD = re.compile(r"\w+")
PIECE = 3  # the longest piece by which words are found


def words_of(text: str | None) -> set[str]:
    return set(_WORD.findall(text.casefold())) if text else set()


def _pieces(word: str) -> set[str]:
    return {word[i:i + size] for size in range(1, PIECE + 1) for i in range(len(word) - size + 1)}


class WordIndex:
    """``words[word]`` is its number and ``spelled[number]`` the word;
    ``postings[number]`` the articles with it; ``pieces[piece]`` the
    numbers of the words with that piece."""

    __slots__ = ("words", "spelled", "postings", "pieces", "_owned", "_new")

    def __init__(self, texts: Iterable[tuple[int, str | None]]) -> None:
        grouped: defaultdict[str, list[int]] = defaultdict(list)
        for num, text in texts:
            for word in words_of(text):
                grouped[word].append(num)
        self.words = {word: i for i, word in enumerate(grouped)}
        self.spelled = list(grouped)
        self.postings = [NumberSet(nums) for nums in grouped.values()]
        pieces: defaultdict[str, list[int]] = defaultdict(list)
        for word, i in self.words.items():
            for piece in _pieces(word):
                pieces[piece].append(i)
        self.pieces = {piece: NumberSet(ids) for piece, ids in pieces.items()}
        self._owned = self._new = None

    def __getstate__(self):
        # A patched index may share ``spelled`` with others (see copy): its
        # own words are those its map names.
        spelled: list = [None] * len(self.postings)
        for word, i in self.words.items():
            spelled[i] = word
        return (spelled, self.postings, dict(self.pieces))

    def __setstate__(self, state) -> None:
        self.spelled, self.postings, self.pieces = state
        self.words = {word: i for i, word in enumerate(self.spelled) if word is not None}
        self._owned = self._new = None

    def __eq__(self, other) -> bool:
        """The same words in the same articles (numbering aside)."""
        mine = {w: bits for w, i in self.words.items() if (bits := self.postings[i])}
        theirs = {w: bits for w, i in other.words.items() if (bits := other.postings[i])}
        return mine == theirs

    def matching_words(self, part: str) -> NumberSet:
        """The numbers of the words that contain ``part`` (case-folded)."""
        if len(part) <= PIECE:
            return self.pieces.get(part, NumberSet())
        found = NumberSet.intersection(*(self.pieces.get(part[i:i + PIECE], NumberSet())
                                         for i in range(len(part) - PIECE + 1)))
        spelled = self.spelled
        return NumberSet(i for i in found if part in spelled[i])

    def candidates(self, pattern: str) -> tuple[list[NumberSet], int] | None:
        """For each word of ``pattern``, the words of this field that
        contain it, and how many articles they hold in all (a bound on the
        candidates); None when the pattern has no word to look for."""
        parts = sorted(set(_WORD.findall(pattern.casefold())), key=len, reverse=True)
        if not parts:
            return None
        found = [self.matching_words(part) for part in parts]
        size = min(sum(len(self.postings[i]) for i in ids) for ids in found)
        return found, size

    def articles(self, words: NumberSet) -> NumberSet:
        return union(self.postings[i] for i in words)

    # --- patching --------------------------------------------------------------

    def copy(self) -> "WordIndex":
        """An index to patch (``discard``, ``add``, then ``settle``). The
        maps of words and pieces are laid over this one's
        (store/layered.py) rather than copied, a copy of every word for the
        few a change brings. Word numbers only grow, so ``spelled`` is
        shared: a new word is appended to it in place, and an index made
        before never asks for a number its own map does not give."""
        other = WordIndex.__new__(WordIndex)
        other.words, other.pieces = Layered.of(self.words), Layered.of(self.pieces)
        other.spelled, other.postings = self.spelled, list(self.postings)
        other._owned = set()
        other._new = ({}, {})  # words and pieces this patch adds or changes
        return other

    def settle(self) -> None:
        words, pieces = self._new
        if words or pieces:
            self.words = self.words.patched(put=words)
            self.pieces = self.pieces.patched(put=pieces)
        self._owned = self._new = None

    def discard(self, num: int, text: str | None) -> None:
        for word in words_of(text):
            self._posting(self._number(word)).discard(num)

    def _number(self, word: str) -> int | None:
        found = self._new[0].get(word)
        return self.words.get(word) if found is None else found

    def add(self, num: int, text: str | None) -> None:
        for word in words_of(text):
            i = self._number(word)
            if i is None:
                i = self._new[0][word] = len(self.spelled)
                self.spelled.append(word)
                self.postings.extend(NumberSet() for _ in range(i + 1 - len(self.postings)))
                self._owned.add(("word", i))
                new_pieces = self._new[1]
                for piece in _pieces(word):
                    found = new_pieces.get(piece)
                    if found is None:
                        found = self.pieces.get(piece)
                        found = new_pieces[piece] = NumberSet(found) if found is not None else NumberSet()
                    found.add(i)
            self._posting(i).add(num)

    def _posting(self, i: int) -> NumberSet:
        if ("word", i) not in self._owned:
            self.postings[i] = NumberSet(self.postings[i])
            self._owned.add(("word", i))
        return self.postings[i]
