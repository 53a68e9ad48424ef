"""Decode a Jekyll file and split it into YAML front matter and body
(yamldoc.py parses the front matter)."""
from __future__ import annotations

import codecs

from .errors import LoadError, LoadWarning

FENCE = "---"

# Byte-order marks, longest first: UTF-32's LE mark begins with UTF-16's.
BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
        (codecs.BOM_UTF8, "utf-8", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"))


def decode(path: str, raw: bytes, warnings: list | None = None) -> str:
    """Bytes to text, CRLF and CR folded to LF. A byte-order mark names the
    encoding (UTF-8, UTF-16 or UTF-32, as Windows editors save); without one
    the file is UTF-8, or else most likely Windows-1252 (what editors on
    Windows wrote before UTF-8): read so, with a warning naming the first
    byte that is not UTF-8, which --strict makes a rejection."""
    for bom, encoding, name in BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                start = len(bom) + exc.start
                raise LoadError(path, f"not {name} though its byte-order mark says so: "
                                      f"bytes at offset {start}", _line(raw, start, encoding)) from None
            break
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            if b"\x00" in raw:  # no text in any 8-bit encoding: an image, an archive
                raise LoadError(path, f"binary content: not UTF-8 (byte 0x{raw[exc.start]:02x} at offset "
                                      f"{exc.start}) and it holds NUL bytes", line) from None
            text = raw.decode("cp1252", errors="replace")  # 0x81 0x8d 0x8f 0x90 0x9d: U+FFFD
            if warnings is not None:
                warnings.append(LoadWarning(
                    path, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}): read as "
                          "Windows-1252; save the file as UTF-8", line))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise LoadError(path, "binary content (NUL byte)", line)
    return text


def _line(raw: bytes, offset: int, encoding: str) -> int:
    """The line of a byte offset in a file of a wide encoding."""
    return raw[:offset].decode(encoding, errors="replace").count("\n") + 1


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
