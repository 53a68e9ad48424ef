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

RANGES = ((0x00, 0x08), (0x0b, 0x0c), (0x0e, 0x1f), (0x7f, 0x84), (0x86, 0x9f), (0xd800, 0xdfff),
          (0xfffe, 0xffff))
REFUSED = re.compile("[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in RANGES) + "]")
REPLACEMENT = "\ufffd"


def _windows_1252(char: str) -> str:
    code = ord(char)
    if 0x80 <= code <= 0x9f:
        try:
            return bytes([code]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d mean nothing there
            pass
    return REPLACEMENT


# Each refused character and what it is read as: one str.translate in C,
# however many a file holds (a file of millions took a loop seconds).
_READ_AS = {code: _windows_1252(chr(code)) for low, high in RANGES for code in range(low, high + 1)}


def replace_refused(text: str, listed: int) -> tuple[str, list[tuple[int, str, str]], int]:
    """``text`` with each refused character replaced; (line, code point,
    replacement) for the first ``listed`` of them, lines counted from 1
    within ``text``; and how many there were."""
    found = REFUSED.search(text)
    if found is None:  # nearly every file: one scan in C
        return text, [], 0
    replaced: list[tuple[int, str, str]] = []
    last, line = 0, 1
    for match in REFUSED.finditer(text, found.start()):
        if len(replaced) == listed:
            break
        char = match.group()
        line += text.count("\n", last, match.start())  # from the last match: linear
        last = match.start()
        replaced.append((line, f"U+{ord(char):04X}", _READ_AS[ord(char)]))
    return text.translate(_READ_AS), replaced, len(REFUSED.findall(text, found.start()))
