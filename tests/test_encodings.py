"""Files in the encodings editors and Windows tools write: a byte-order
mark names UTF-8, UTF-16 or UTF-32; without one, bytes that are not UTF-8
are read as Windows-1252 with a warning naming the file and the first such
byte, and a file that is no text is refused. Files written here."""
from __future__ import annotations

import codecs
import json

import pytest

from loaders.files import Candidate
from loaders.parse import parse
from store.db import Store
from store.errors import StrictLoadRejected
from store.ingest import load

TEXT = "---\r\ntitle: \"\u00c9cluse \u2014 \u201cvanne\u201d \U0001f6a2\"\r\nexcerpt: on\r\nheat: 12\r\n---\r\nCorps.\r\n"
WIDE = {
    "utf-8-sig": codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    "utf-16-le": codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    "utf-16-be": codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    "utf-32-le": codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
    "utf-32-be": codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"),
}


def _parse(tmp_path, name: str, raw: bytes, explicit: bool = True):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return parse(Candidate(str(tmp_path), name, explicit=explicit))


@pytest.mark.parametrize("encoding", WIDE)
def test_a_byte_order_mark_names_the_encoding(tmp_path, encoding):
    result = _parse(tmp_path, "_news/x.md", WIDE[encoding])
    assert result.error is None and result.warnings == [], result.error
    record = result.fragments[0]["data"]
    assert record["title"] == "\u00c9cluse \u2014 \u201cvanne\u201d \U0001f6a2"
    assert (record["excerpt"], record["heat"], record["body"]) == ("on", 12, "Corps.\n")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-8-sig"])
def test_an_api_page_with_a_byte_order_mark_loads(tmp_path, encoding):
    page = json.dumps({"page": 1, "value": [{"title": "Vanne \u00e9", "webUrl": "https://v.example/1"}]},
                      ensure_ascii=False)
    raw = page.encode(encoding) if encoding == "utf-8-sig" else \
        (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) + page.encode(encoding)
    result = _parse(tmp_path, "api/news/index.json", raw, explicit=False)
    assert result.error is None and result.warnings == [], result.error
    assert result.fragments[0]["data"]["title"] == "Vanne \u00e9"


def test_bytes_that_are_not_utf8_are_read_as_windows_1252_with_a_warning(tmp_path):
    raw = "---\ntitle: ok\nexcerpt: \"Caf\u00e9 \u2013 \u201cvu\u201d \u20ac5\"\n---\n".encode("cp1252")
    result = _parse(tmp_path, "_news/x.md", raw)
    assert result.error is None
    assert result.fragments[0]["data"]["excerpt"] == "Caf\u00e9 \u2013 \u201cvu\u201d \u20ac5"
    (warning,) = result.warnings
    assert (warning.path, warning.line) == ("_news/x.md", 3)
    assert f"not UTF-8 (byte 0xe9 at offset {raw.index(0xe9)}): read as Windows-1252" in warning.reason
    # Bytes Windows-1252 leaves undefined are U+FFFD, not a fault.
    result = _parse(tmp_path, "_news/y.md", b"---\ntitle: a\x81b\n---\n")
    assert result.fragments[0]["data"]["title"] == "a\ufffdb" and len(result.warnings) == 1


def test_an_api_page_that_is_not_utf8_loads_with_a_warning(tmp_path):
    raw = b'{"page": 1, "value": [{"title": "Caf\xe9", "webUrl": "https://c.example/1"}]}'
    result = _parse(tmp_path, "api/news/index.json", raw, explicit=False)
    assert result.error is None
    assert result.fragments[0]["data"]["title"] == "Caf\u00e9"
    (warning,) = result.warnings
    assert f"offset {raw.index(0xe9)}" in warning.reason and warning.line == 1


def test_strict_refuses_a_file_read_as_windows_1252(tmp_path):
    site = tmp_path / "site"
    (site / "_news").mkdir(parents=True)
    (site / "_news" / "good.md").write_text("---\ntitle: good\n---\n", encoding="utf-8")
    (site / "_news" / "old.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    with pytest.raises(StrictLoadRejected) as refused:
        load(Store(tmp_path / "strict.json"), [site], strict=True)
    (rejected,) = refused.value.report.rejected
    assert rejected.path == "_news/old.md" and "Windows-1252" in rejected.reason and "--strict" in rejected.reason
    report = load(Store(tmp_path / "news.json"), [site])
    assert not report.rejected and [w.path for w in report.warnings] == ["_news/old.md"]
    assert Store(tmp_path / "news.json").read().articles["news/old"]["title"] == "caf\u00e9"


@pytest.mark.parametrize("raw, words, line", [
    (codecs.BOM_UTF8 + b"---\ntitle: a\n\xff\n---\n", "not UTF-8 though its byte-order mark says so: bytes at offset 16", 3),
    (codecs.BOM_UTF16_LE + "---\ntitle: a\n".encode("utf-16-le") + b"\x00\xdc", "not UTF-16", 3),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content: not UTF-8 (byte 0x89 at offset 0)", 1),
    (b"---\ntitle: a\x00\n---\n", "binary content (NUL byte)", 2),
])
def test_what_is_no_text_is_refused_with_its_offset(tmp_path, raw, words, line):
    result = _parse(tmp_path, "_news/x.md", raw)
    assert result.error is not None and words in result.error.reason, result.error
    assert result.error.line == line
