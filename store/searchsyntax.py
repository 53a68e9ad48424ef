"""What people type into a search box, parsed into our own query tree.

    power apps            both words (every term is required)
    "release wave"        the words side by side
    portal*               any word that starts with "portal"
    excel OR sharepoint   either word; OR joins the terms beside it, so
                          `teams excel OR sharepoint` is teams AND (excel OR sharepoint)
    -preview              no article with the word; also -"a phrase", -(a OR b)
    (a OR b) (c OR d)     parentheses group

Words are cut and folded the way the index cuts and folds text (the
``analyze`` function the caller passes), so ``DataVersé`` is ``dataverse``
and ``x-ray`` is the phrase "x ray". Anything that cannot be parsed raises
``BadQuery`` naming the offending token and its position, never a guess.
The tree is the engine's input (store/search.py), not tantivy's query
language, which users never see.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from .errors import BadQuery

MAX_TERMS = 32
MIN_PREFIX = 2  # letters before a `*`: shorter prefixes match nearly every article


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Prefix:
    text: str


@dataclass(frozen=True)
class All:
    """Every one of ``parts`` matches and none of ``excluded`` does."""
    parts: tuple["Node", ...]
    excluded: tuple["Node", ...] = ()


@dataclass(frozen=True)
class Any:
    parts: tuple["Node", ...]


Node = Union[Word, Phrase, Prefix, All, Any]
Terms = Union[Word, Phrase, Prefix]


@dataclass(frozen=True)
class _Token:
    kind: str    # "word", "phrase", "(", ")", "OR", "-"
    text: str    # as typed
    at: int      # position in the query, from 0


def _tokens(query: str) -> list[_Token]:
    found: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            found.append(_Token(c, c, i))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise BadQuery(f'search query: the quote at position {i} is never closed: '
                               f'{_excerpt(query, i)}')
            found.append(_Token("phrase", query[i:end + 1], i))
            i = end + 1
        elif c == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] not in "-)":
            found.append(_Token("-", "-", i))
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in '()"':
                i += 1
            text = query[start:i]
            found.append(_Token("OR" if text == "OR" else "word", text, start))
    return found


def _excerpt(query: str, at: int) -> str:
    return repr(query[max(0, at - 20):at + 20])


class _Parser:
    def __init__(self, query: str, analyze: Callable[[str], list[str]]) -> None:
        self.query = query
        self.analyze = analyze
        self.tokens = _tokens(query)
        self.i = 0
        self.terms = 0

    def fail(self, token: _Token | None, what: str) -> BadQuery:
        if token is None:
            return BadQuery(f"search query: {what} at the end of {self.query!r}")
        return BadQuery(f"search query: {what}: {token.text!r} at position {token.at} "
                        f"of {_excerpt(self.query, token.at)}")

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def sequence(self, closing: _Token | None) -> Node | None:
        """Terms side by side, up to a closing parenthesis (or the end)."""
        parts: list[Node] = []
        excluded: list[Node] = []
        first = self.peek()
        while (token := self.peek()) is not None and token.kind != ")":
            if token.kind == "-":
                self.take()
                operand = self.alternatives()
                if self.peek() is not None and self.peek().kind == "OR":
                    raise self.fail(token, "an excluded term cannot be one of the alternatives of OR")
                if operand is not None:
                    excluded.append(operand)
            else:
                operand = self.alternatives()
                if operand is not None:
                    parts.append(operand)
        if closing is not None and self.peek() is None:
            raise self.fail(closing, "this parenthesis is never closed")
        if excluded and not parts:
            raise self.fail(first, "a search needs a term that is not excluded")
        if not parts:
            return None
        if len(parts) == 1 and not excluded:
            return parts[0]
        return All(tuple(parts), tuple(excluded))

    def alternatives(self) -> Node | None:
        """One operand, or several joined by OR."""
        options = [self.operand()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            after = self.peek()
            if after is None or after.kind in (")", "OR"):
                raise self.fail(token, "OR needs a term after it")
            if after.kind == "-":
                raise self.fail(after, "an excluded term cannot be one of the alternatives of OR")
            options.append(self.operand())
        options = [o for o in options if o is not None]
        if not options:
            return None
        return options[0] if len(options) == 1 else Any(tuple(options))

    def operand(self) -> Node | None:
        token = self.take()
        if token.kind == "OR":
            raise self.fail(token, "OR needs a term before it")
        if token.kind == "(":
            inner = self.sequence(token)
            if self.peek() is None:
                raise self.fail(token, "this parenthesis is never closed")
            self.take()
            return inner  # None for "()" or "(—)", as a word of punctuation alone
        if token.kind == "phrase":
            words = self.analyze(token.text[1:-1])
            return self.count(Word(words[0]) if len(words) == 1 else Phrase(tuple(words)) if words else None)
        return self.word(token)

    def word(self, token: _Token) -> Node | None:
        text = token.text
        if not text.endswith("*"):
            words = self.analyze(text)
            if not words:
                return None  # punctuation alone
            return self.count(Word(words[0]) if len(words) == 1 else Phrase(tuple(words)))
        words = self.analyze(text[:-1])
        if not words or not text[-2].isalnum():
            raise self.fail(token, "* must follow the letters of a word")
        if len(words[-1]) < MIN_PREFIX:
            raise self.fail(token, f"a prefix needs at least {MIN_PREFIX} letters before *")
        parts = [self.count(Word(w)) for w in words[:-1]] + [self.count(Prefix(words[-1]))]
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def count(self, node: Node | None) -> Node | None:
        if node is not None:
            self.terms += 1
            if self.terms > MAX_TERMS:
                raise BadQuery(f"search query: at most {MAX_TERMS} terms, got more")
        return node


def parse(query: str, analyze: Callable[[str], list[str]]) -> Node | None:
    """The tree of ``query``, or None when it holds nothing to search for
    (empty, or only punctuation)."""
    parser = _Parser(query, analyze)
    tree = parser.sequence(None)
    token = parser.peek()
    if token is not None:  # only a closing parenthesis stops the top level early
        raise parser.fail(token, "this parenthesis closes nothing")
    return tree


def terms(node: Node | None) -> list[Terms]:
    """The words, phrases and prefixes of ``node`` that a hit may match (not
    the excluded ones)."""
    if node is None:
        return []
    if isinstance(node, (Word, Phrase, Prefix)):
        return [node]
    return [term for part in node.parts for term in terms(part)]


def typos_allowed(word: str) -> int:
    """Edit distance a word may be matched at (as Meilisearch and Algolia
    allow): none under 5 letters, one from 5, two from 9. Numbers must
    match as typed: 2021 is no typo of 2022."""
    if word.isdigit():
        return 0
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0
