"""Generated site files for fuzzing the loaders, and what every parse of
one, and every load of a site of them, must satisfy; shared by
tests/test_fuzz_files.py and scripts/fuzz_files.py.

Files are built from structures (front matter of the family's keys and
others, with the values YAML and JSON can spell, unquoted words YAML 1.1
reads as other things, impossible dates, huge numbers), written in several
encodings, then at random damaged byte by byte; JSON API pages come in each
of the family's shapes."""
from __future__ import annotations

import codecs
import datetime as dt
import json
import math
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson
import yaml
from hypothesis import strategies as st

from graph.state import DataHolder
from loaders.files import Candidate
from loaders.normalize import ARTICLE_KEYS
from loaders.values import INT_RANGE
from loaders.parse import UNFORESEEN, parse
from store.db import Store
from store.ingest import load
from tests.conftest import make_client
from tests.fuzzing import check_answer

PARSE_SECONDS = 5.0  # one file of a few kilobytes; hostile ones take milliseconds
KEYS = sorted(ARTICLE_KEYS | {"abstract", "sourceUrl", "score", "ampUrl", "category", "categories",
                              "date", "draft", "taxonomy", "_id", "location", "updatedDateTime",
                              "locale", "reviewedOn", "x"})
NESTED_KEYS = ["name", "domain", "id", "url", "width", "height", "title", "images", "lat", "long",
               "isoCode", "countryOrRegion", "followers", "publishedDateTime", "y"]
# Plain words YAML 1.1 reads as something else, and spellings that are no date.
WORDS = ["yes", "No", "on", "OFF", "~", "null", "0x1F", "0o7", "1_000", "1e3", "1.5e+3", ".inf", "-.Inf",
         ".nan", "2020-01-01", "2021-02-30", "2021-13-01T10:00:00Z", "2020-01-01 10:00:00 +0200",
         "190:20:30", "=", "<<", "!!int x", "*undefined", "&anchor v", "|", ">", "'", '"', "{", "[", "#",
         "- x", "a: b", "NO", "US-WA", "\ufeff", "\u0097", "\x07",
         # explicit tags: what the safe constructors build, and what they refuse
         "!!binary aGk=", "!!set {a, b}", "!!omap [a: 1]", "!!pairs [a: 2020-01-01]", "!!timestamp x",
         "!!bool x", "!!int ''", "!!float", "!!str", "!!null x", "!!python/object:os.system x", "!local x",
         "&a [*a]", "{? [1] : x}", "{1: a, 2020-01-01: b, null: c}",
         # nesting deeper than a record may be written (orjson stops at 255)
         "[" * 300 + "]" * 300, "{a: " * 100 + "x" + "}" * 100]
DEEP = [[[]]]
for _ in range(300):
    DEEP = [DEEP]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-2**70, max_value=2**70), st.floats(),
    st.text(max_size=30), st.sampled_from(WORDS),
    st.dates(min_value=dt.date(1, 1, 1)), st.datetimes(timezones=st.just(dt.timezone.utc)),
    st.sampled_from(["0001-01-01 00:00:00 +05:00", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z"]),
)


def _values(leaves):
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.sampled_from(NESTED_KEYS) | st.text(max_size=6), inner,
                                          max_size=4), max_leaves=20)


documents = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), _values(scalars), max_size=12)


@st.composite
def plain_front_matter(draw) -> str:
    """`key: word` lines written by hand, unquoted as an author writes them."""
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        key = draw(st.sampled_from(KEYS))
        word = draw(st.sampled_from(WORDS) | st.text(max_size=20).filter(lambda t: "\n" not in t))
        indent = draw(st.sampled_from(["", "  ", "  - ", "- ", "\t"]))
        lines.append(f"{indent}{key}: {word}" if draw(st.booleans()) else f"{indent}{word}")
    return "\n".join(lines) + "\n"


@st.composite
def front_matter_text(draw) -> str:
    if draw(st.booleans()):
        body = draw(plain_front_matter())
    else:
        document = draw(documents)
        try:
            body = yaml.safe_dump(document, default_flow_style=draw(st.sampled_from([None, True, False])),
                                  allow_unicode=draw(st.booleans()), sort_keys=False)
        except yaml.YAMLError:
            body = ""
    # Mostly well fenced: the parse of the YAML is what is fuzzed.
    fence = draw(st.sampled_from(["---\n"] * 6 + ["---\r\n", "+++\n", "", "--- \n"]))
    closing = draw(st.sampled_from(["---\n"] * 6 + ["...\n", "", "----\n"]))
    return fence + body + closing + draw(st.text(max_size=40))


def encoded(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8", "surrogatepass")
    if encoding in ("utf-16-le", "utf-16-be"):
        bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        return bom + text.encode(encoding, "surrogatepass")
    return text.encode(encoding, "replace" if encoding == "cp1252" else "surrogatepass")


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    """``raw`` with a few bytes flipped, inserted, deleted, or cut short."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        at = draw(st.integers(0, len(data)))
        if kind == "insert":
            data[at:at] = bytes([draw(st.integers(0, 255))])
        elif kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 3))]
        elif kind == "cut":
            del data[at:]
    return bytes(data)


@st.composite
def front_matter_files(draw) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "cp1252"]))
    raw = encoded(draw(front_matter_text()), encoding)
    return draw(damaged(raw)) if draw(st.integers(0, 3)) == 0 else raw


json_scalars = st.one_of(st.none(), st.booleans(), st.just(DEEP), st.integers(min_value=-2**63, max_value=2**64 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                         st.sampled_from(WORDS + ["2020-05-12T09:45:10.1234567Z", "/assets/x.png",
                                                  "_news/x.md", "../x.md", "/_news/y.md"]))
ITEM_KEYS = ["path", "title", "excerpt", "heat", "tags", "type", "webUrl", "ampWebUrl", "cdnAmpWebUrl",
             "publishedDateTime", "updatedDateTime", "provider", "images", "locale", "categories", "topics",
             "content", "sourceUrl", "originalUrl", "quality", "related", "location"]
items = st.dictionaries(st.sampled_from(ITEM_KEYS), _values(json_scalars), max_size=10)
locations = st.none() | st.dictionaries(
    st.sampled_from(["long", "lat", "isoCode", "countryOrRegion", "provinceOrState", "county", "z"]),
    json_scalars, max_size=7) | json_scalars


@st.composite
def api_pages(draw) -> bytes:
    listed = st.lists(st.one_of(items, items, items, _values(json_scalars)), max_size=4)
    shape = draw(st.sampled_from(["value", "news", "article", "list", "fragment", "other"]))
    if shape == "value":
        page = {"page": draw(json_scalars), "value": draw(listed), "nextPage": draw(json_scalars)}
    elif shape == "news":
        page = {"location": draw(locations), "updatedDateTime": draw(json_scalars),
                "news": draw(st.none() | listed)}
    elif shape == "article":
        page = draw(items)
    elif shape == "list":
        page = draw(listed)
    elif shape == "fragment":
        page = {"path": draw(json_scalars), "content": draw(st.text(max_size=40))}
    else:
        page = draw(_values(json_scalars))
    raw = json.dumps(page, ensure_ascii=False).encode("utf-8", "surrogatepass")  # orjson stops at 255 levels
    if draw(st.integers(0, 3)) == 0:
        raw = draw(damaged(raw))
    return raw


def check_parsed(result, path: str, raw: bytes, seconds: float) -> None:
    """What a parse of any file must be: quick; a rejection that names the
    file with a reason and a line inside it; or records the store can
    write and the API can answer."""
    assert seconds < PARSE_SECONDS, (path, seconds)
    if result.error is not None:
        error = result.error
        assert error.path == path and isinstance(error.reason, str) and error.reason.strip(), error
        assert "Traceback" not in error.reason and UNFORESEEN not in error.reason, error
        assert error.line is None or 1 <= error.line <= raw.count(b"\n") + 2 or \
            error.line <= len(raw) + 2, (error, error.line)
        assert not result.fragments
        return
    for warning in result.warnings:
        assert warning.path == path and warning.reason.strip()
    for fragment in result.fragments:
        orjson.dumps(fragment)  # the store writes it: nothing orjson refuses
        _check_record(fragment["kind"], fragment["data"])


def _check_record(kind: str, record: dict) -> None:
    if kind != "article":
        return
    assert isinstance(record["id"], str) and record["id"]
    assert record["title"] is None or isinstance(record["title"], str)
    for key in ("quality", "heat"):
        value = record.get(key)
        assert value is None or (type(value) is int and INT_RANGE[0] <= value <= INT_RANGE[1]), (key, value)
    for key in ("excerpt", "url", "type", "ampUrl", "cdnAmpUrl", "originalUrl"):
        assert record.get(key) is None or isinstance(record[key], str), (key, record[key])
    for name in record.get("topics") or ():
        assert isinstance(name, str) and name.strip()
    for tag in record.get("tags") or ():
        assert isinstance(tag, str) and tag
    for image in record.get("images") or ():
        assert isinstance(image["url"], str)
    for place in record.get("locations") or ():
        for key in ("lat", "long"):
            assert place.get(key) is None or (isinstance(place[key], float) and math.isfinite(place[key]))


FRONT_MATTER_NAMES = ["_news/x.md", "_posts/2020-1-2-x.md", "_terms/topics/x.md", "_terms/providers/x.md",
                      "_data/organizations/x.md", "_people/x.md", "_events/x.md", "_data/topics/x.yaml",
                      "about.md", "x.txt"]
API_NAMES = ["api/news/index.json", "api/covid/us-wa/index.json", "api/news/2020-01-01-x/index.json"]
OUTCOMES: Counter = Counter()  # what the parses gave, for scripts/fuzz_files.py to print


def parse_checked(root: Path, name: str, raw: bytes, explicit: bool) -> None:
    """Write ``raw`` as ``name`` in ``root``, parse it, and check the result."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    start = time.perf_counter()
    result = parse(Candidate(str(root), name, explicit=explicit))
    check_parsed(result, name, raw, time.perf_counter() - start)
    OUTCOMES["rejected" if result.error else "skipped" if result.skipped else "records"] += 1


GOOD = "---\ntitle: \"Locks reopen\"\npublishedDateTime: 2021-06-01T10:00:00Z\n---\nBody.\n"
EVERY_FIELD = """{ articles(first: 50) { totalCount nodes { id title excerpt url type publishedAt quality heat
  tags topics { name } provider { id name domain } images { url width height } extra
  related { title url publishedAt provider { name } } site { name }
  locations { isoCode countryOrRegion provinceOrState county lat long } } }
  providers(first: 20) { nodes { id name domain articleCount } }
  topics(first: 20) { nodes { name articleCount } } stats { articles } }"""


def site_checked(files: list[tuple[str, bytes]]) -> None:
    """A site of a good article and ``files`` (each named apart) loads:
    only generated files are rejected, the good one lands, and a query of
    every field of what landed answers without an error."""
    work = Path(tempfile.mkdtemp(prefix="newsgraph-fuzz-site-"))
    try:
        site = work / "site"
        (site / "_news").mkdir(parents=True)
        (site / "_config.yml").write_text("title: Fuzzed\n", encoding="utf-8")
        (site / "_news" / "good.md").write_text(GOOD, encoding="utf-8")
        written = set()
        for n, (name, raw) in enumerate(files):
            if name.endswith("/index.json"):
                name = name.replace("/index.json", f"-{n}/index.json")
            else:
                stem, _, suffix = name.rpartition(".")
                name = f"{stem}-{n}.{suffix}"
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            (site / name).write_bytes(raw)
            written.add(name)
        store = Store(work / "news.json")
        report = load(store, [site])
        assert {error.path for error in report.rejected} <= written, report.rejected
        assert not any(UNFORESEEN in error.reason for error in report.rejected), report.rejected
        holder = DataHolder(store)
        assert holder.model.preview.by_id["news/good"].title == "Locks reopen"
        with make_client(holder) as client:
            response = client.post("/graphql", json={"query": EVERY_FIELD})
            body = check_answer(EVERY_FIELD, response.status_code, response.content, hidden=frozenset())
            assert "errors" not in body, body["errors"]
        OUTCOMES["sites"] += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
