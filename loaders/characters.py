"""Characters YAML refuses, and what a file most likely meant by them.

YAML allows tab, line feed, carriage return, printable characters and
U+0085; it refuses the other C0 and C1 control characters, DEL, lone
surrogates and U+FFFE/U+FFFF. Real front matter holds them anyway: text
pasted from Windows-1252 documents keeps its punctuation as C1 code points
(U+0097 is that encoding's em dash, U+0092 its right quote). Such a
character is replaced by what Windows-1252 means by it (or U+FFFD where it
means nothing), and the file is loaded with a warning naming the line and
the code point.
"""
from __future__ import annotations

import re

REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def _windows_1252(char: str) -> str:
    code = ord(char)
    if 0x80 <= code <= 0x9f:
        try:
            return bytes([code]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d mean nothing there
            pass
    return REPLACEMENT


def replace_refused(text: str) -> tuple[str, list[tuple[int, str, str]]]:
    """``text`` with each refused character replaced, and (line, code point,
    replacement) for each, lines counted from 1 within ``text``."""
    found = REFUSED.search(text)
    if found is None:  # nearly every file: one scan in C
        return text, []
    replaced: list[tuple[int, str, str]] = []
    parts: list[str] = []
    last, line = 0, 1
    for match in REFUSED.finditer(text, found.start()):
        char = match.group()
        instead = _windows_1252(char)
        line += text.count("\n", last, match.start())  # from the last match: linear
        replaced.append((line, f"U+{ord(char):04X}", instead))
        parts.append(text[last:match.start()])
        parts.append(instead)
        last = match.end()
    parts.append(text[last:])
    return "".join(parts), replaced
