"""Hostile and broken files, written here: each is named with its line and
reason (or loads with a warning), none is fatal, and the whole site loads
in bounded time and memory, the good files landing."""
from __future__ import annotations

import codecs
import json
import os
import resource
import subprocess
import threading
import time
from pathlib import Path

import pytest

from graph.state import DataHolder
from loaders import yamldoc
from loaders.files import Candidate
from loaders.parse import parse
from store.db import Store
from store.ingest import load
from tests.conftest import make_client
from tests.procs import newsgraph

MEMORY_BOUND = 1536 * 1024 * 1024  # address space of the load; an expanded alias bomb needs far more
TIME_BOUND = 120  # seconds; the load takes a few

GOOD = "---\ntitle: \"Dredging resumes\"\nexcerpt: \"The channel reopens.\"\npublishedDateTime: 2021-02-28T00:00:00Z\n---\n"


def _laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    return "\n".join(lines)


FILES = {
    "_config.yml": "title: Hostile\n",
    "_news/good.md": GOOD,
    "_news/impossible-day.md": "---\ntitle: x\npublishedDateTime: 2021-02-30\n---\n",
    "_news/impossible-month.md": "---\ntitle: x\nexcerpt: y\npublishedDateTime: 2021-13-01T10:00:00Z\n---\n",
    "_news/impossible-any-key.md": "---\ntitle: x\nreview:\n  by: someone\n  reviewedOn: 2019-02-29\n---\n",
    "_news/alias-bomb.md": f"---\ntitle: x\n{_laughs()}\n---\n",
    "_news/recursive.md": "---\ntitle: x\nloop: &loop [1, *loop]\n---\n",
    "_news/control-character.md": "---\ntitle: \"Fog\"\nexcerpt: \"Visibility fell \u0097 then rose.\"\n---\n",
    "_news/byte-order-mark.md": "---\ntitle: \"Sea\ufeff level\"\n---\n",
    "_news/tab.md": "---\ntitle: x\nprovider:\n\tname: y\n---\n",
    "_news/unclosed-quote.md": "---\ntitle: x\nexcerpt: \"never closed\nheat: 3\nwebUrl: \"https://x.example\"\ntype: article\n---\n",
    "_news/colon-in-value.md": "---\ntitle: x\nprovider:\n  name: DM: Dredging Monthly\n  domain: youtube.com\n---\n",
    "_news/many-topics.md": "---\ntitle: \"Ten thousand topics\"\ntopics:\n"
                            + "".join(f"  - Topic {n}\n" for n in range(10_000)) + "---\n",
    "_data/topics/many.yaml": "".join(f"- name: Subject {n}\n  keywords: [k{n}]\n" for n in range(10_000)),
    # Encodings Windows tools write, and words YAML 1.1 would read as other things.
    "_news/utf-16-le.md": codecs.BOM_UTF16_LE + "---\r\ntitle: \"\u00c9cluse\"\r\n---\r\n".encode("utf-16-le"),
    "_news/utf-16-be.md": codecs.BOM_UTF16_BE + "---\ntitle: \"Ch\u00e2teau\"\n---\n".encode("utf-16-be"),
    "_news/windows-1252.md": "---\ntitle: x\nexcerpt: \"Caf\u00e9 \u201copen\u201d\"\n---\n".encode("cp1252"),
    "_news/yes.md": "---\ntitle: yes\nexcerpt: 2020-01-01\ntags: [NO, on]\n---\n",
    # Dates at the ends of the calendar: the first and last UTC can hold, and
    # some that have no UTC time (kept as written where untyped).
    "_news/first-day.md": "---\ntitle: x\npublishedDateTime: 0001-01-01T00:00:00Z\nseen: 0001-01-01 00:00:00 +05:00\n---\n",
    "_news/last-day.md": "---\ntitle: x\npublishedDateTime: 9999-12-31T23:00:00-05:00\n---\n",
    # Nested deeper than the store's JSON writer goes (it crashed the load).
    "_news/deep.md": "---\ntitle: x\nx: " + "[" * 300 + "]" * 300 + "\n---\n",
    "api/deep/index.json": '{"title": "x", "webUrl": "https://d.example", "x": ' + "[" * 300 + "]" * 300 + "}",
}
HUGE = "_news/huge-front-matter.md"

# path -> (line, words the reason must hold); None: loads (with a warning, when warned)
REJECTED = {
    "_news/impossible-day.md": (3, "publishedDateTime: 2021-02-30 is not a date"),
    "_news/impossible-month.md": (4, "publishedDateTime: 2021-13-01T10:00:00Z is not a date"),
    "_news/impossible-any-key.md": (5, "reviewedOn: 2019-02-29 is not a date"),
    "_news/alias-bomb.md": (2, "alias bomb"),
    "_news/recursive.md": (2, "recursive"),
    "_news/tab.md": (4, "tab"),
    "_news/unclosed-quote.md": (3, "closing quote"),
    "_news/deep.md": (3, "x nests lists or mappings more than 64 deep"),
    "_news/last-day.md": (3, "publishedDateTime: 9999-12-31T23:00:00-05:00 is outside the dates UTC can hold"),
    "api/deep/index.json": (None, "x nests lists or mappings more than 64 deep"),
    HUGE: (None, "limit"),
}
WARNED = {
    "_news/control-character.md": (3, "U+0097"),
    "_news/windows-1252.md": (3, "not UTF-8 (byte 0xe9 at offset 26): read as Windows-1252"),
    "_news/colon-in-value.md": (4, "': '"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("hostile") / "site"
    for name, text in FILES.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with open(site / HUGE, "w", encoding="utf-8") as handle:  # 50 MB of front matter
        handle.write("---\ntitle: x\nexcerpt: \"")
        chunk = "lorem ipsum " * 8192
        for _ in range(50 * 1024 * 1024 // len(chunk)):
            handle.write(chunk)
        handle.write("\"\n---\n")
    return site


def _bounded():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BOUND, MEMORY_BOUND))


def _load(site: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(newsgraph("load", str(site), "--db", str(db), *args), capture_output=True,
                          text=True, timeout=TIME_BOUND, preexec_fn=_bounded)


def test_each_hostile_file_is_named_and_the_rest_lands(hostile, tmp_path):
    db = tmp_path / "news.json"
    result = _load(hostile, db)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 3, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    for path, (line, words) in REJECTED.items():
        named = [text for text in lines if text.startswith(f"rejected {path}:")]
        assert len(named) == 1, (path, lines)
        where = f"rejected {path}:{line}: " if line else f"rejected {path}: "
        assert named[0].startswith(where) and words in named[0], named[0]
    for path, (line, words) in WARNED.items():
        named = [text for text in lines if text.startswith(f"warning {path}:{line}: ")]
        assert len(named) == 1 and words in named[0], (path, lines)
    assert len([text for text in lines if text.startswith("rejected ")]) == len(REJECTED)

    articles = Store(db).read().articles
    assert set(articles) == {f"news/{Path(p).stem}" for p in FILES if p.startswith("_news/")
                             and p not in REJECTED}
    assert articles["news/good"]["title"] == "Dredging resumes"
    assert articles["news/control-character"]["excerpt"] == "Visibility fell \u2014 then rose."
    assert articles["news/byte-order-mark"]["title"] == "Sea level"
    assert articles["news/colon-in-value"]["provider"]["name"] == "DM: Dredging Monthly"
    assert len(articles["news/many-topics"]["topics"]) == 10_000
    assert (articles["news/utf-16-le"]["title"], articles["news/utf-16-be"]["title"]) == ("\u00c9cluse", "Ch\u00e2teau")
    assert articles["news/windows-1252"]["excerpt"] == "Caf\u00e9 \u201copen\u201d"
    first = articles["news/first-day"]
    assert (first["publishedAt"], first["extra"]["seen"]) == ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00")
    with make_client(DataHolder(Store(db))) as client:  # and every answer about them holds
        body = client.post("/graphql", json={"query": "{ facets { months { value count } } articles(first: 100, "
                                                      "orderBy: [{field: PUBLISHED_AT, direction: ASC}]) "
                                                      "{ nodes { id title publishedAt extra tags } } }"}).json()
        assert "errors" not in body, body["errors"]
        assert body["data"]["facets"]["months"][-1] == {"value": "0001-01", "count": 1}  # sorted last, not first
        assert body["data"]["articles"]["nodes"][0]["id"] == "news/first-day"
    yes = articles["news/yes"]
    assert (yes["title"], yes["excerpt"], yes["tags"]) == ("yes", "2020-01-01", ["NO", "on"])
    topics = Store(db).read().topics
    assert len([slug for slug in topics if slug.startswith("subject-")]) == 10_000
    assert topics["subject-9999"]["keywords"] == ["k9999"]


def test_strict_refuses_what_loads_only_with_a_warning(hostile, tmp_path):
    db = tmp_path / "news.json"
    result = _load(hostile, db, "--strict")
    assert result.returncode == 4
    for path in WARNED:
        assert f"rejected {path}:" in result.stderr and "--strict" in result.stderr
    assert not db.exists()


def test_a_load_without_strict_then_one_with_it_refuses_the_stored_warnings(hostile, tmp_path):
    db = tmp_path / "news.json"
    assert _load(hostile, db).returncode == 3
    again = _load(hostile, db, "--strict")
    assert again.returncode == 4
    assert all(f"rejected {path}:" in again.stderr for path in WARNED)


def test_load_watch_names_an_impossible_date_and_goes_on_watching(tmp_path):
    site = tmp_path / "site"
    (site / "_news").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Watched\n", encoding="utf-8")
    good = site / "_news" / "good.md"
    good.write_text(GOOD, encoding="utf-8")
    db = tmp_path / "news.json"
    process = subprocess.Popen(newsgraph("load", str(site), "--db", str(db), "--watch"),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    watching, named = threading.Event(), threading.Event()

    def read() -> None:
        for line in process.stderr:
            lines.append(line)
            if line.startswith("watching "):
                watching.set()
            if line.startswith("rejected _news/bad.md:3: "):
                named.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert watching.wait(30), "".join(lines)
        (site / "_news" / "bad.md").write_text("---\ntitle: x\npublishedDateTime: 2021-02-30\n---\n",
                                               encoding="utf-8")
        assert named.wait(30), "".join(lines)
        assert "is not a date" in "".join(lines) and "Traceback" not in "".join(lines)
        # Still watching: a later change lands.
        good.write_text(GOOD.replace("Dredging resumes", "Dredging resumes again"), encoding="utf-8")
        deadline = time.monotonic() + 30
        while Store(db).read().articles["news/good"]["title"] != "Dredging resumes again":
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(10)
        reader.join(5)
        process.stderr.close()


def test_a_file_name_that_is_not_utf8_is_named_and_the_rest_lands(tmp_path):
    site = tmp_path / "site"
    (site / "_news").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Names\n", encoding="utf-8")
    (site / "_news" / "good.md").write_text(GOOD, encoding="utf-8")
    raw = os.fsencode(site)
    os.mkdir(raw + b"/_news/r\xe9sum\xe9s")  # Latin-1 names, from an old archive
    for name in (b"/_news/caf\xe9.md", b"/_news/r\xe9sum\xe9s/one.md"):
        with open(raw + name, "wb") as handle:
            handle.write(GOOD.encode())
    db = tmp_path / "news.json"
    for _ in range(2):  # a second load names them again
        result = _load(site, db)
        assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
        rejected = sorted(line for line in result.stderr.splitlines() if line.startswith("rejected "))
        assert rejected == ["rejected _news/caf\\xe9.md: the file name is not UTF-8: rename the file "
                            "(its bytes are shown escaped here)",
                            "rejected _news/r\\xe9sum\\xe9s/one.md: the file name is not UTF-8: rename the "
                            "file (its bytes are shown escaped here)"]
        assert set(Store(db).read().articles) == {"news/good"}
    # A load told which path changed (load --watch) names it too.
    report = load(Store(db), [site], changed=[os.fsdecode(raw + b"/_news/caf\xe9.md")])
    assert [error.path for error in report.rejected] == ["_news/caf\\xe9.md"]


def test_numbers_past_what_is_answered_are_named_and_past_what_is_stored_kept_as_digits(tmp_path):
    site = tmp_path / "site"
    files = {
        "_news/kept.md": "---\ntitle: Kept\nheat: 2147483647\nledger: 1180591620717411303424\n---\n",
        "_news/heat.md": "---\ntitle: x\nheat: 3000000000\n---\n",
        "_news/score.md": "---\ntitle: x\nexcerpt: y\nscore: -99999999999999999999\n---\n",
        "_news/width.md": "---\ntitle: x\nimages:\n  - url: https://i.example/a.png\n    width: 1099511627776\n---\n",
        "api/news/index.json": json.dumps({"value": [{"title": "T", "webUrl": "https://w.example/1", "heat": 1e23}]}),
    }
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    db = tmp_path / "news.json"
    report = load(Store(db), [site])
    # GraphQL's Int is 32 bits: a typed number past them is named with its line.
    assert sorted(str(error) for error in report.rejected) == [
        "_news/heat.md:3: heat must be an integer from -2,147,483,648 to 2,147,483,647, got 3000000000",
        "_news/score.md:4: quality must be an integer from -2,147,483,648 to 2,147,483,647, "
        "got -99999999999999999999",
        "_news/width.md:3: images[0].width must be an integer from -2,147,483,648 to 2,147,483,647, "
        "got 1099511627776",
        "api/news/index.json: value[0]: heat must be an integer from -2,147,483,648 to 2,147,483,647, "
        "got 99999999999999991611392"]
    kept = Store(db).read().articles["news/kept"]
    assert kept["heat"] == 2147483647
    assert kept["extra"]["ledger"] == "1180591620717411303424"  # untyped, past 64 bits: its digits


@pytest.mark.parametrize("text,line,words", [
    ("---\ntitle: ok\n\tbad: tab\n---\n", 3, "tab character"),
    ("---\ntitle: ok\nprovider:\n\tname: x\n---\n", 4, "found character '\\t'"),
    ("---\ntitle: \"a\"\nexcerpt: \"open\nheat: 3\nwebUrl: \"https://x.example\"\n---\n", 3,
     "opened at line 3 runs on to line 5"),
    ("---\ntitle: 'open\n---\n", 2, "while scanning a quoted scalar"),
    ("---\nwhen: 2020-02-30T25:00:00Z\n---\n", 2, "when: 2020-02-30T25:00:00Z is not a date"),
    ("---\nn: !!int twelve\n---\n", 2, "n: twelve is not a valid int"),
    ("---\ntitle: t\nwhen: [!!timestamp soon]\n---\n", 3, "when: soon is not a date"),
    ("---\nflag: !!bool maybe\n---\n", 2, "flag: maybe is not a valid bool"),
    ("---\nn: !!int ''\n---\n", 2, "is not a valid int"),
])
def test_yaml_faults_keep_their_detail_and_their_line(tmp_path, text, line, words):
    (tmp_path / "x.md").write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "x.md", explicit=True))
    assert result.error is not None and result.error.line == line, result.error
    assert words in result.error.reason


def test_control_characters_are_replaced_and_each_is_named(tmp_path):
    text = "---\ntitle: \"caf\u0082 \u0081 \u0007\"\n---\n"
    (tmp_path / "x.md").write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "x.md", explicit=True))
    assert result.error is None
    assert result.fragments[0]["data"]["title"] == "caf\u201a \ufffd \ufffd"
    assert [(w.line, w.reason.split(" ", 1)[0]) for w in result.warnings] == \
        [(2, "U+0082"), (2, "U+0081"), (2, "U+0007")]


def test_quotes_inside_a_quoted_value_are_read_as_text_with_a_warning(tmp_path):
    text = '---\nname: Dsstn\nexcerpt: "It is called "Destiny" by its makers."\ntype: code\n---\n'
    (tmp_path / "x.md").write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "x.md", explicit=True))
    assert result.error is None
    assert result.fragments[0]["data"]["excerpt"] == 'It is called "Destiny" by its makers.'
    (warning,) = result.warnings
    assert warning.line == 3 and "quotes of its own" in warning.reason


def test_a_value_that_goes_on_past_its_closing_quote_is_read_whole(tmp_path):
    text = "---\ntitle: x\nabstract: 'Made to measure' vaccines, soon\n---\n"
    (tmp_path / "x.md").write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "x.md", explicit=True))
    assert result.fragments[0]["data"]["excerpt"] == "'Made to measure' vaccines, soon"
    assert [w.line for w in result.warnings] == [3]


def test_none_written_as_text_for_a_number_is_no_number(tmp_path):
    text = "---\ntitle: x\nheat: null\nimages:\n  - url: https://i.example/a.jpg\n    width: None\n    height: None\n---\n"
    (tmp_path / "x.md").write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "x.md", explicit=True))
    assert result.error is None
    (image,) = result.fragments[0]["data"]["images"]
    assert (image["width"], image["height"]) == (None, None)


def test_json_with_a_byte_order_mark_and_nulls_loads(tmp_path):
    page = {"page": 1, "value": [{"title": "Buoys", "webUrl": "https://b.example/1", "heat": None,
                                  "images": None, "tags": None, "ampWebUrl": None}]}
    path = tmp_path / "api" / "news" / "index.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(page).encode())
    result = parse(Candidate(str(tmp_path), "api/news/index.json"))
    assert result.error is None
    assert result.fragments[0]["data"]["url"] == "https://b.example/1"


def test_values_of_explicit_tags_are_kept_as_json_can_hold_them(tmp_path):
    text = "---\ntitle: t\nblob: !!binary aGk=\nkinds: !!set {b, a}\nsteps: !!omap [{one: 2020-01-01}]\n---\n"
    (tmp_path / "x.md").write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "x.md", explicit=True))
    assert result.error is None, result.error
    extra = result.fragments[0]["data"]["extra"]
    assert extra == {"blob": "aGk=", "kinds": ["a", "b"], "steps": [["one", "2020-01-01"]]}
    json.dumps(result.fragments[0]["data"])  # what the store writes
    # Keys that are no text at the top of front matter too (null, a date, a number).
    (tmp_path / "y.md").write_text("---\n{title: t, ? : empty, 2020-01-01: day, 7: seven}\n---\n", encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "y.md", explicit=True))
    assert result.fragments[0]["data"]["extra"] == {"None": "empty", "2020-01-01": "day", "7": "seven"}


@pytest.mark.parametrize("text, words, parses", [
    # A million small values: refused while libyaml reads them, not built.
    ("---\n" + "".join(f"k{n}: {n}\n" for n in range(400_000)) + "---\n", "more than 250,000 values", 1),
    # Values holding ": " on lines of a large document: one repair, then refused, not a parse per line.
    ("---\n" + "".join(f"k{n}: x\n" for n in range(100_000)) + "".join(f"z{n}: a: b\n" for n in range(30))
     + "---\n", "too many values YAML refuses to read as text", 2),
    # Millions of control characters: replaced in one pass, then parsed once.
    ("---\ntitle: \"" + "\x07" * 3_000_000 + "\"\n---\n", None, 2),
])
def test_large_hostile_documents_cost_a_few_parses(tmp_path, monkeypatch, text, words, parses):
    # The work is counted, not timed (a timed test fails on a busy machine):
    # before the bounds, these documents were parsed once per repaired line
    # or built every value, minutes each.
    counted = {"parses": 0, "scans": 0}

    def count(name, function):
        def counting(*args, **kwargs):
            counted[name] += 1
            return function(*args, **kwargs)
        return counting

    monkeypatch.setattr(yamldoc, "_load", count("parses", yamldoc._load))
    monkeypatch.setattr(yamldoc, "replace_refused", count("scans", yamldoc.replace_refused))
    (tmp_path / "x.md").write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), "x.md", explicit=True))
    assert counted["parses"] == parses and counted["scans"] == (words is None)
    if words is None:
        assert result.error is None and len(result.warnings) == 11  # ten named, then a count
    else:
        assert result.error is not None and words in result.error.reason, result.error


@pytest.mark.parametrize("name, text", [
    ("api/news/index.json", '{"value": [' + ",".join(["{}"] * 30_000) + "]}"),
    ("api/news/all.json", "[" + ",".join(['{"title": "t", "webUrl": "https://w.example"}'] * 30_000) + "]"),
    ("_news/list.yaml", "- {title: t}\n" * 30_000),
])
def test_a_file_of_more_records_than_any_site_writes_is_refused(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    result = parse(Candidate(str(tmp_path), name))
    assert result.error is not None and "30,000" in result.error.reason and "more than 20,000" in result.error.reason


def test_an_api_article_of_millions_of_values_is_refused_and_text_full_of_commas_is_not(tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "bomb.json").write_text(
        '{"title": "t", "webUrl": "https://w.example", "related": [' + ",".join(["{}"] * 2_000_000) + "]}")
    result = parse(Candidate(str(tmp_path), "api/bomb.json"))
    assert result.error is not None and "more than 250,000 values" in result.error.reason
    (tmp_path / "api" / "commas.json").write_text(
        '{"title": "t", "webUrl": "https://w.example", "excerpt": "' + "a, [b], {c}, " * 300_000 + '"}')
    result = parse(Candidate(str(tmp_path), "api/commas.json"))
    assert result.error is None and result.fragments[0]["data"]["excerpt"].startswith("a, [b]")
