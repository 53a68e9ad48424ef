"""Split a Jekyll file into YAML front matter and body, and parse YAML safely.

Only libyaml's safe loader is used (yamlfast.py makes its Python half
faster): front matter comes from the web and ``yaml.load`` with a full
loader would construct arbitrary Python objects.
"""
from __future__ import annotations

import yaml

from .errors import LoadError
from .yamlfast import SafeLoader as _Loader

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


def split(path: str, text: str) -> tuple[str, str]:
    """Return (front matter, body). The closing fence is a line that is exactly
    ``---``: real excerpts contain ``-----`` and must not end the block."""
    if not has_front_matter(text):
        raise LoadError(path, "no front matter: the file must start with a '---' line", 1)
    start = text.index("\n") + 1 if "\n" in text else len(text)
    pos = start
    while True:
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line == FENCE:
            body = "" if end < 0 else text[end + 1 :]
            return text[start:pos], body
        if end < 0:
            raise LoadError(path, "front matter is not closed: no line that is exactly '---'", 1)
        pos = end + 1


def parse_yaml(path: str, text: str, first_line: int = 1):
    """Parse one YAML document; ``first_line`` is the file line of ``text``'s
    first line, so errors point into the file rather than the fragment."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark is not None else None
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise LoadError(path, f"invalid YAML: {reason}", line) from None
    except yaml.YAMLError as exc:
        raise LoadError(path, f"invalid YAML: {exc}") from None


def key_line(front_matter: str, key: str, first_line: int = 2) -> int | None:
    """The file line where a top-level key is defined, for error messages."""
    prefix = f"{key}:"
    quoted = (f'"{key}":', f"'{key}':")
    for number, line in enumerate(front_matter.split("\n")):
        if line.startswith(prefix) or line.startswith(quoted):
            return first_line + number
    return None
