"""Bad files among good ones: real corpus files are copied and mutated
(truncated, not UTF-8, tabs in YAML, wrong types, duplicate ids, too large,
binary, unreadable, a named pipe, symlink loops...). Every bad file is named with its line
where one is known, every good file lands, nothing crashes, and
`newsgraph load` exits with 3 (4 with --strict, writing nothing)."""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from store.db import Store
from store.ingest import load
from tests.conftest import POWER_APPS
from tests.independent import front_matter
from tests.procs import newsgraph
from tests.stores import plain_tables

KEEP = ("_news", "_data", "api", "_learning")  # enough of the site, and quick to copy


@dataclass
class Bad:
    path: str               # relative to the site
    reason: str             # a word the rejection must contain
    line: int | None        # the line it must name, when the fault has one
    id: str | None = None   # the article the file would have given


def _line_of(text: str, prefix: str) -> int:
    """1-based number of the first line starting with ``prefix``."""
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(prefix))


def _news_id(path: str) -> str:
    return "news/" + Path(path).stem


def _readable_when_denied(path: Path) -> bool:
    """chmod 000 does not stop root (tests may run as root)."""
    try:
        path.read_bytes()
        return True
    except PermissionError:
        return False


def mutate(site: Path, rng: random.Random) -> list[Bad]:
    """Damage copies of real files in place, each in its own way; return
    what the loader must say about each."""
    news = sorted((site / "_news").glob("*.md"))
    victims = iter(rng.sample(news, 14))
    bad: list[Bad] = []

    def take() -> tuple[Path, str, str]:
        path = next(victims)
        rel = path.relative_to(site).as_posix()
        return path, rel, path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")

    # Truncated inside the front matter: no closing fence.
    path, rel, text = take()
    path.write_text(text[: text.index("\ntopics:")])
    bad.append(Bad(rel, "not closed", None, _news_id(rel)))
    # A byte that is not UTF-8, in the title of a file whose byte-order mark
    # says UTF-8 (without one, it is read as Windows-1252: test_encodings).
    path, rel, text = take()
    line = _line_of(text, "title:")
    raw = b"\xef\xbb\xbf" + text.encode().replace(b"\ntitle: ", b"\ntitle: \xff", 1)
    path.write_bytes(raw)
    bad.append(Bad(rel, "not UTF-8", line, _news_id(rel)))
    # A tab indenting a nested key.
    path, rel, text = take()
    line = _line_of(text, "  name:")
    path.write_text(text.replace("\n  name:", "\n\tname:", 1))
    bad.append(Bad(rel, "invalid YAML", line, _news_id(rel)))
    # Wrong types.
    for key, value, word in (("heat", '"hot"', "heat"), ("quality", "[1, 2]", "quality"),
                             ("publishedDateTime", '"last tuesday"', "publishedDateTime"),
                             ("title", "{a: 1}", "title")):
        path, rel, text = take()
        line = _line_of(text, f"{key}:")
        lines = text.split("\n")
        lines[line - 1] = f"{key}: {value}"
        path.write_text("\n".join(lines))
        bad.append(Bad(rel, word, line, _news_id(rel)))
    # An unclosed quote.
    path, rel, text = take()
    line = _line_of(text, "excerpt:")
    lines = text.split("\n")
    lines[line - 1] = 'excerpt: "never closed'
    path.write_text("\n".join(lines))
    bad.append(Bad(rel, "invalid YAML", None, _news_id(rel)))
    # Front matter that is a list, not a mapping.
    path, rel, text = take()
    path.write_text("---\n- just\n- a list\n---\nbody\n")
    bad.append(Bad(rel, "mapping", 2, _news_id(rel)))
    # A file in a collection that lost its front matter (an empty one is
    # skipped as a placeholder: tests/test_site_shapes.py).
    path, rel, text = take()
    path.write_text(text.split("\n---\n", 1)[0].lstrip("-\n") + "\n")  # the keys, unfenced
    bad.append(Bad(rel, "no front matter", 1, _news_id(rel)))
    # 20 MB: a real file with a huge body.
    path, rel, text = take()
    path.write_text(text + "lorem ipsum " * (20 * 1024 * 1024 // 12))
    bad.append(Bad(rel, "limit", None, _news_id(rel)))
    # Binary content under an article's name.
    path, rel, _ = take()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4096)))
    bad.append(Bad(rel, "UTF-8", 1, _news_id(rel)))
    # Unreadable: chmod 000, or (as root, which reads anyway) a dangling symlink.
    path, rel, _ = take()
    path.chmod(0)
    if _readable_when_denied(path):
        path.chmod(0o644)
        path.unlink()
        path.symlink_to(site / "nowhere" / "gone.md")
        bad.append(Bad(rel, "cannot read", None, _news_id(rel)))
    else:
        bad.append(Bad(rel, "cannot read", None, _news_id(rel)))
    # A named pipe: opening it would wait forever for a writer.
    os.mkfifo(site / "_news" / "pipe.md")
    bad.append(Bad("_news/pipe.md", "not a regular file", None))
    # A symlink loop.
    (site / "_news" / "loop-a.md").symlink_to("loop-b.md")
    (site / "_news" / "loop-b.md").symlink_to("loop-a.md")
    bad += [Bad("_news/loop-a.md", "cannot read", None), Bad("_news/loop-b.md", "cannot read", None)]
    # A duplicate id: the same article under a second extension.
    original = next(p for p in news if not any(b.path == p.relative_to(site).as_posix() for b in bad))
    twin = original.with_suffix(".markdown")
    shutil.copyfile(original, twin)
    pair = sorted([original.relative_to(site).as_posix(), twin.relative_to(site).as_posix()])
    bad.append(Bad(pair[1], "duplicate", None))  # the later file of the two is refused
    # A topic file with tabs, and a static API page cut short.
    topic = sorted((site / "_data" / "topics").glob("*.yaml"))[1]
    text = topic.read_text()
    topic.write_text(text.replace("\n  - ", "\n\t- ", 1))
    bad.append(Bad(topic.relative_to(site).as_posix(), "invalid YAML",
                   _line_of(text, "  - ")))
    page = sorted((site / "api").rglob("index.json"))[-1]
    raw = page.read_bytes()
    page.write_bytes(raw[: len(raw) // 2])
    bad.append(Bad(page.relative_to(site).as_posix(), "invalid JSON", None))
    return bad


def _expected_ids(site: Path, bad: list[Bad], pristine: Path) -> dict[str, str]:
    """id -> title of every article a good file gives, read with PyYAML.
    An article whose markdown is bad still comes from the intact API pages."""
    bad_paths = {b.path for b in bad}
    expected = {}
    for path in sorted((pristine / "_news").glob("*.md")) + sorted((pristine / "_learning").rglob("*.md")):
        rel = path.relative_to(pristine).as_posix()
        if rel in bad_paths:
            continue
        data, _ = front_matter(path)
        collection, inner = rel.split("/", 1)
        expected[f"{collection[1:]}/{inner.rsplit('.', 1)[0]}"] = data["title"]
    for page in sorted((site / "api").rglob("index.json")):
        rel = page.relative_to(site).as_posix()
        if rel in bad_paths:
            continue
        for item in json.loads(page.read_text())["value"]:
            ident = _news_id(item["path"])
            expected.setdefault(ident, None)  # the API's title may differ in spelling
    return expected


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-files")
    pristine = root / "pristine"
    site = root / "site"
    for folder in KEEP:
        shutil.copytree(POWER_APPS / folder, pristine / folder)
    shutil.copytree(pristine, site, symlinks=True)
    bad = mutate(site, random.Random(20210601))
    yield site, pristine, bad
    for path in site.rglob("*"):  # let pytest clean up what chmod 000 locked
        if not path.is_symlink() and path.exists():
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_load_names_every_bad_file_and_lands_every_good_one(damaged, tmp_path):
    site, pristine, bad = damaged
    db = tmp_path / "store.json"
    result = subprocess.run(newsgraph("load", str(site), "--db", str(db)), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected ")]
    for fault in bad:
        named = [line for line in rejected if line.startswith(f"rejected {fault.path}:")]
        assert len(named) == 1, (fault, rejected)
        assert fault.reason in named[0], (fault, named[0])
        if fault.line is not None:
            assert named[0].startswith(f"rejected {fault.path}:{fault.line}: "), (fault, named[0])
    assert len(rejected) == len(bad), set(rejected) - {r for f in bad for r in rejected if f.path in r}

    stored = {r["id"]: r["title"] for r in plain_tables(db)["articles"].values()}
    expected = _expected_ids(site, bad, pristine)
    assert set(stored) == set(expected)
    for ident, title in expected.items():
        assert title is None or stored[ident] == title, ident
    # The damaged markdown left no mark on the article the API pages still give.
    for fault in bad:
        if fault.id in stored:
            assert fault.reason.lower() not in str(stored[fault.id]).lower()


def test_a_second_load_names_the_bad_files_again(damaged, tmp_path):
    site, _, bad = damaged
    db = tmp_path / "store.json"
    first = load(Store(db), [site])
    again = load(Store(db), [site])
    assert sorted(str(e) for e in first.rejected) == sorted(str(e) for e in again.rejected)
    assert {e.path for e in again.rejected} == {b.path for b in bad}
    assert not any(again.added.values()) and not any(again.updated.values())


def test_strict_writes_nothing_and_exits_4(damaged, tmp_path):
    site, _, bad = damaged
    db = tmp_path / "store.json"
    result = subprocess.run(newsgraph("load", str(site), "--db", str(db), "--strict"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    assert all(f"rejected {fault.path}:" in result.stderr for fault in bad)
    assert not db.exists()


def test_a_bad_file_named_on_the_command_line(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: x\nheat: hot\n---\n")
    db = tmp_path / "store.json"
    result = subprocess.run(newsgraph("load", str(path), "--db", str(db)), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3
    assert "rejected note.md:3: " in result.stderr and "heat" in result.stderr
    assert os.path.exists(db)
