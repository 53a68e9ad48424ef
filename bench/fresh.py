"""Request bodies whose values are drawn at random per request.

A frontend rarely sends the same filter values twice (a date picker, a
slider, "since my last visit"), so a benchmark that cycles a pool of values
measures the server's memos rather than its queries. Here each request
body is made from a template when it is sent, with every value drawn anew:
a range bound uniformly across the field's range, a date-time to the
second, a word or id from a list. The load driver draws them itself
(bench/wrk.lua in Lua, bench/pyload.py in Python), so there is no pool to
run out of and no value comes back except by chance.

The template file is plain lines, easy to read in Lua:

    template {"query":"...","variables":{"h":@1@,"d":"@2@"}}
    int 1 -1 1000000             # slot 1: an integer in [lo, hi]
    date 2 1420070400 1798761599 # slot 2: an ISO date-time in UTC, to the second
    within 3 3600 378000000      # slot 3: an ISO-8601 duration "PT<seconds>S"
    pick 4 word other more       # slot 4: one of the words

Words, ids and slugs are written bare inside JSON and GraphQL strings, so
they must need no escaping (``safe``).
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

SLOT = re.compile(r"@(\d+)@")
_SAFE = re.compile(r"[A-Za-z0-9:/_.\-]+")


def safe(word: str) -> bool:
    """A value that can be written into JSON and GraphQL strings as it is."""
    return _SAFE.fullmatch(word) is not None


@dataclass(frozen=True)
class Slot:
    kind: str                 # int, date, within or pick
    low: int = 0
    high: int = 0
    words: tuple[str, ...] = ()

    def draw(self, rng: random.Random) -> str:
        if self.kind == "int":
            return str(rng.randint(self.low, self.high))
        if self.kind == "date":
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(rng.randint(self.low, self.high)))
        if self.kind == "within":
            return f"PT{rng.randint(self.low, self.high)}S"
        return self.words[rng.randrange(len(self.words))]

    def line(self, number: int) -> str:
        if self.kind == "pick":
            return f"pick {number} {' '.join(self.words)}"
        return f"{self.kind} {number} {self.low} {self.high}"

    @property
    def quoted(self) -> bool:
        """Written as a string (a date, a duration, a word), not a number."""
        return self.kind != "int"


@dataclass(frozen=True)
class Template:
    """A request body with numbered slots, each filled per request."""
    body: str
    slots: tuple[Slot, ...]

    def expand(self, rng: random.Random) -> bytes:
        values = [slot.draw(rng) for slot in self.slots]
        return SLOT.sub(lambda m: values[int(m.group(1)) - 1], self.body).encode()

    def text(self) -> str:
        return "\n".join([f"template {self.body}",
                          *(slot.line(k) for k, slot in enumerate(self.slots, 1))]) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.text())


def read(text: str) -> Template | None:
    """The template of a bodies file, or None for a file of plain bodies."""
    if not text.startswith("template "):
        return None
    lines = text.splitlines()
    body = lines[0][len("template "):]
    slots: dict[int, Slot] = {}
    for line in lines[1:]:
        kind, number, *rest = line.split()
        if kind == "pick":
            slots[int(number)] = Slot("pick", words=tuple(rest))
        else:
            slots[int(number)] = Slot(kind, int(rest[0]), int(rest[1]))
    return Template(body, tuple(slots[k] for k in range(1, len(slots) + 1)))


def template(document: str, slots: dict[str, Slot], inline: bool) -> Template:
    """The request body of ``document`` (an operation with variables), its
    variables drawn per request: sent as variables, or with ``inline``
    written into the document as literals (its variable definitions
    dropped), as a script or curl user writes them."""
    names = list(slots)
    marks = {name: f"@{k}@" for k, name in enumerate(names, 1)}
    if inline:
        document = re.sub(r"^(query \w+)\([^)]*\)", r"\1", document)
        for name in names:
            literal = f'"{marks[name]}"' if slots[name].quoted else marks[name]
            document = re.sub(rf"\${name}\b", literal, document)
        body = orjson.dumps({"query": document}).decode()
    else:
        body = orjson.dumps({"query": document, "variables": marks}).decode()
        for name in names:
            if not slots[name].quoted:
                body = body.replace(f'"{marks[name]}"', marks[name])
    return Template(body, tuple(slots[name] for name in names))
