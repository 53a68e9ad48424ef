"""Decode a Jekyll file and split it into YAML front matter and body
(yamldoc.py parses the front matter)."""
from __future__ import annotations

from .errors import LoadError

FENCE = "---"


def decode(path: str, raw: bytes) -> str:
    """Bytes to text: UTF-8 (BOM dropped), CRLF and CR folded to LF."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LoadError(path, f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}", line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise LoadError(path, "binary content (NUL byte)", line)
    return text


def has_front_matter(text: str) -> bool:
    first = text.split("\n", 1)[0]
    return first.rstrip() == FENCE


def split(path: str, text: str, fence: str = FENCE) -> tuple[str, str]:
    """Return (front matter, body). The closing fence is a line that is
    ``---`` (``+++`` for TOML), blanks after it allowed, or YAML's ``...``,
    as Jekyll reads it: real excerpts contain ``-----`` and must not end the
    block."""
    if fence == FENCE and not has_front_matter(text):
        raise LoadError(path, "no front matter: the file must start with a '---' line", 1)
    closers = (fence, "...") if fence == FENCE else (fence,)  # "...": YAML's own end, as Jekyll
    start = text.index("\n") + 1 if "\n" in text else len(text)
    pos = start
    while True:
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        # The usual fence first: a test per line of every file.
        if line == fence or (line[:1] in "-.+" and line and line.rstrip() in closers):
            body = "" if end < 0 else text[end + 1 :]
            return text[start:pos], body
        if end < 0:
            raise LoadError(path, f"front matter is not closed: no line that is exactly '{fence}'", 1)
        pos = end + 1
