"""docs/sites.md says what the loader does: its table of key aliases, its
examples of the static API's shapes, its messages for bad files and its
example of what `load` prints are each checked here against files written
here, so the page cannot drift from the code."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from graph.state import DataHolder
from loaders.files import Candidate, discover
from loaders.parse import parse
from store.db import Store
from store.ingest import load
from tests.conftest import GQL, make_client
from tests.procs import newsgraph
from tests.test_site_shapes import write_site

DOC = (Path(__file__).resolve().parents[1] / "docs" / "sites.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return DOC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _rows(section: str) -> list[list[str]]:
    """The body rows of the first table in ``section``, cell by cell."""
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def _ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _pattern(example: str) -> re.Pattern:
    """A message as the page writes it, with ``…`` standing for any text."""
    return re.compile(".*".join(re.escape(part) for part in example.split("…")))


def _parse(root: Path, name: str, content: str | bytes):
    _write(root / name, content)
    return parse(Candidate(str(root), name, explicit=True))


# The article fields the page lists with keys in order, and the record field each fills.
ALIASED = {"excerpt": "excerpt", "url": "url", "ampUrl": "ampUrl", "cdnAmpUrl": "cdnAmpUrl",
           "quality": "quality"}


def _key_rows() -> dict[str, list[str]]:
    rows = {}
    for field, keys in _rows(_section("Front matter keys")):
        name = _ticked(field)[0]
        if name in ALIASED:
            rows[name] = _ticked(keys.split("(", 1)[0])
    return rows


def test_the_page_lists_every_aliased_field():
    rows = _key_rows()
    assert set(rows) == set(ALIASED)
    assert all(len(keys) >= 2 for keys in rows.values()), rows


@pytest.mark.parametrize("field", sorted(ALIASED))
def test_each_key_of_the_page_fills_its_field_and_the_first_present_wins(field, tmp_path):
    keys = _key_rows()[field]
    value = (lambda n: 10 + n) if field == "quality" else (lambda n: f"https://k{n}.example/a")
    for n, key in enumerate(keys):
        # Only this key: it fills the field, and leaves `extra`.
        result = _parse(tmp_path, f"_news/{field}-{n}.md", f"---\ntitle: t\n{key}: {json.dumps(value(n))}\n---\n")
        record = result.fragments[0]["data"]
        assert record[ALIASED[field]] == value(n), (key, record)
        assert key not in record["extra"]
        # This key and every later one: this key wins.
        later = "".join(f"{k}: {json.dumps(value(m))}\n" for m, k in enumerate(keys) if m >= n)
        record = _parse(tmp_path, f"_news/{field}-{n}-all.md", f"---\ntitle: t\n{later}---\n").fragments[0]["data"]
        assert record[ALIASED[field]] == value(n), (key, record)


ITEM = {"title": "Lock gates replaced", "webUrl": "https://canal.example/gates", "heat": None,
        "publishedDateTime": "2021-06-02T09:00:00.1234567Z", "tags": None, "images": None}


def _api_example(example: str) -> str:
    """The page's example as a file: ``[items]`` one item, ``{…}`` an
    empty object, a bare ``…`` some text (``…`` inside a string stays)."""
    text = example.replace("[items]", json.dumps([ITEM])).replace("{…}", "{}")
    return re.sub(r":\s*…", ': "text"', text)


def test_each_static_api_shape_of_the_page_reads_as_it_says(tmp_path):
    # The rows whose example is JSON (the last names a file instead).
    rows = [row for row in _rows(_section("The static API")) if _ticked(row[1])[0][0] in "{["]
    assert len(rows) == 5
    for n, (shape, example, read_as) in enumerate(rows):
        text = _api_example(_ticked(example)[0])
        value = json.loads(text)
        for item in value if isinstance(value, list) else [value]:
            if str(item.get("path", "")).startswith("_news/"):  # it exists: not stale
                _write(tmp_path / item["path"], "---\ntitle: t\n---\n")
        _write(tmp_path / "api" / str(n) / "index.json", text)
        result = parse(Candidate(str(tmp_path), f"api/{n}/index.json"))
        assert result.error is None, (shape, result.error)
        if read_as.startswith("skipped"):
            assert result.skipped and not result.fragments, (shape, result)
            continue
        assert len(result.fragments) == 1, (shape, result)
        record = result.fragments[0]["data"]
        if "[items]" in example:
            assert (record["title"], record["url"], record["heat"], record.get("tags"), record["images"]) \
                == ("Lock gates replaced", "https://canal.example/gates", None, None, [])
            # .NET's seven fractional digits, cut to six.
            assert record["publishedAt"] == "2021-06-02T09:00:00.123456Z"
        else:  # one article per file: `content` is its body, `sourceUrl` its url
            assert (record["id"], record["title"], record["url"]) == ("news/2021-06-02-x", "text", "text")
            assert record["body"].startswith("<p>")


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)


def _laughs() -> str:
    lines = ['l0: &l0 "ha"'] + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "\n".join(lines)


# A file for each row of the page's table of bad files, by the words that
# start the row's first cell.
BAD = {
    "an impossible date": ("_news/x.md", "---\ntitle: t\npublishedDateTime: 2021-02-30\n---\n"),
    "a tab": ("_news/x.md", "---\ntitle: t\nprovider:\n\tname: p\n---\n"),
    "a quote never closed": ("_news/x.md", "---\ntitle: t\nexcerpt: \"open\nheat: 3\nwebUrl: \"https://w.example\"\n---\n"),
    "aliases that would expand": ("_news/x.md", f"---\ntitle: t\n{_laughs()}\n---\n"),
    "an alias that holds itself": ("_news/x.md", "---\ntitle: t\nring: &ring [1, *ring]\n---\n"),
    "more than 8 MB": ("_news/x.md", None),
    "bytes that are not UTF-8": ("_news/x.md", b"\xef\xbb\xbf---\ntitle: t\nexcerpt: \"abc\xff\"\n---\n"),
    "a field of the wrong type": ("_news/x.md", "---\ntitle: t\nheat: hot\n---\n"),
    "a typed number past": ("_news/x.md", "---\ntitle: t\nheat: 3000000000\n---\n"),
    "a file name that is not UTF-8": (b"_news/caf\xe9.md", "---\ntitle: t\n---\n"),
    "more than 250,000 values": ("_news/x.md", "---\n" + "".join(f"k{n}: v\n" for n in range(130_000)) + "---\n"),
    "a value whose explicit tag": ("_news/x.md", "---\ntitle: t\nn: !!int twelve\n---\n"),
    "lists or mappings nested": ("_news/x.md", "---\ntitle: t\nx: " + "[" * 100 + "]" * 100 + "\n---\n"),
    "more than 20,000 records": ("api/news/index.json", '{"value": [' + ",".join(["{}"] * 30_000) + "]}"),
}


def test_each_bad_file_of_the_page_is_named_as_it_says(tmp_path):
    rows = _rows(_section("Bad and hostile files"))
    assert len(rows) == len(BAD)
    for n, (holds, says) in enumerate(rows):
        (case,) = [key for key in BAD if holds.startswith(key)]
        name, content = BAD[case]
        root = tmp_path / str(n)
        if content is None:  # 50 MiB, sparse: the size alone refuses it
            (root / name).parent.mkdir(parents=True)
            with open(root / name, "wb") as handle:
                handle.truncate(50 * 1024 * 1024)
            result = parse(Candidate(str(root), name, explicit=True))
        elif isinstance(name, bytes):  # as the walk finds it
            _write(Path(os.fsdecode(os.fsencode(root) + b"/" + name)), content)
            (candidate,) = discover(root)[1]
            result = parse(candidate)
        else:
            result = _parse(root, name, content)
        assert result.error is not None, case
        messages = _ticked(says)
        if case == "bytes that are not UTF-8":
            messages = messages[:1]  # the NUL byte's is the next case's
            nul = _parse(tmp_path / "nul", name, b"---\ntitle: t\x00\n---\n")
            assert _pattern(_ticked(says)[1]).search(str(nul.error)), nul.error
        for message in messages:
            assert _pattern(message).search(str(result.error)), (case, message, str(result.error))


def _summary_lines(text: str) -> list[str]:
    """What `load` prints, without the table (the page shows its rows alone)."""
    lines = [re.sub(r"\s+", " ", line.strip()) for line in text.splitlines() if line.strip()]
    return [line for line in lines if not line.startswith(("records ", "articles ", "...", "┏", "┃", "┡",
                                                           "│", "└")) or line.startswith("articles in")]


def _shape(line: str, whole: bool = True) -> re.Pattern:
    """A printed line with its numbers, data version, plurals and the path
    of the page's example (`_news/x.md`) left open."""
    parts = re.split(r"(_news/x\.md|[0-9a-f]{16}|\d+|files|items)", line)
    wild = {"_news/x.md": r"\S+", "files": "files?", "items": "items?"}
    pattern = "".join(wild.get(part) or (r"[0-9a-f]{16}" if len(part) == 16 else r"\d+")
                      if i % 2 else re.escape(part) for i, part in enumerate(parts))
    return re.compile(pattern + ("$" if whole else ""))


def test_what_load_prints_is_what_the_page_shows(tmp_path):
    block = _section("What `load` prints").split("```\n", 1)[1].split("```", 1)[0]
    shown = _summary_lines(block)
    assert len(shown) == 4, shown
    site = write_site(tmp_path / "site")
    _write(site / "_news" / "fog.md", "---\ntitle: \"Fog \u0097 again\"\n---\n")
    result = subprocess.run(newsgraph("load", str(site), "--db", "news.json"), cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    printed = _summary_lines(result.stdout)
    assert len(printed) == len(shown), (printed, shown)
    for line, expected in zip(printed, shown):
        assert _shape(expected).match(line), (line, expected)
    # Then, on standard error, each stale collection file on a line of its own.
    stale = _shape(re.search(r"`(stale [^`]+)`", _section("The static API")).group(1), whole=False)
    assert any(stale.match(line) for line in result.stderr.splitlines()), result.stderr


def test_the_news_api_location_example_answers_as_the_page_shows(tmp_path):
    part = DOC.split("\n### The COVID-19 news API's location\n", 1)[1].split("\n## ", 1)[0]
    feeds = re.findall(r"^`(api/[^`]+\.json)`:\n\n```json\n(.*?)^```", part, re.M | re.S)
    assert len(feeds) == 2
    site = tmp_path / "site"
    _write(site / "_config.yml", "title: Quayside\n")
    _write(site / re.search(r"`(_news/[^`]+\.md)`", part).group(1), "---\ntitle: Ferries run again\n---\n")
    for name, text in feeds:
        _write(site / name, text)
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    query = re.search(r"```graphql\n(.*?)```", part, re.S).group(1)
    shown = json.loads(part.rsplit("answers\n\n```json\n", 1)[1].split("```", 1)[0])
    with make_client(DataHolder(store)) as client:
        assert GQL(client)(query) == shown
    # A block that is no place rejects the file with the page's reason.
    reason = " ".join(re.search(r"\(`(location\.lat must be [^`]+)`\)", part).group(1).split())
    _write(site / "api/covid/bad/index.json", json.dumps({"location": {"lat": "north"}, "news": []}))
    result = parse(Candidate(str(site), "api/covid/bad/index.json"))
    assert result.error is not None and result.error.reason == reason
