"""Loaders on hand-made files: what parses, and how a bad file is named."""
from __future__ import annotations

import shutil

import pytest

from loaders.errors import LoadError
from loaders.files import Candidate, article_id, collection_of, discover
from loaders.frontmatter import split
from loaders.values import parse_datetime, slugify
from loaders.parse import parse
from tests.conftest import POWER_APPS, SEED

GOOD = """---
title: "A title: with a colon"
excerpt: ""
publishedDateTime: 2021-06-02T09:12:27-07:00
heat: -1
provider:
  name: Example
  domain: Example.COM
topics:
  - Teams integration
---
Body text.
"""


def _parse_text(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return parse(Candidate(str(tmp_path), name, explicit=True))


def test_a_good_file_becomes_one_article(tmp_path):
    result = _parse_text(tmp_path, "_news/2021-06-02-x.md", GOOD)
    assert result.error is None
    (fragment,) = result.fragments
    record = fragment["data"]
    assert fragment["key"] == record["id"] == "news/2021-06-02-x"
    assert record["title"] == "A title: with a colon"
    assert record["excerpt"] == ""
    assert record["publishedAt"] == "2021-06-02T16:12:27Z"  # stored in UTC
    assert record["heat"] == -1
    assert record["published"] is None  # missing: the merge makes it True
    assert record["provider"]["domain"] == "example.com"
    assert record["topics"] == ["Teams integration"]
    assert record["body"] == "Body text.\n"


def test_crlf_and_bom_are_handled(tmp_path):
    text = "\ufeff" + GOOD.replace("\n", "\r\n")
    result = _parse_text(tmp_path, "_news/crlf.md", text.encode("utf-8"))
    assert result.error is None
    assert result.fragments[0]["data"]["title"] == "A title: with a colon"
    assert result.fragments[0]["data"]["body"] == "Body text.\n"


def test_front_matter_ends_only_at_an_exact_fence():
    front, body = split("x.md", "---\nexcerpt: a\n-----\nb\n---\nbody\n")
    assert front == "excerpt: a\n-----\nb\n"
    assert body == "body\n"


@pytest.mark.parametrize("text,reason,line", [
    ("---\ntitle: x\n", "not closed", 1),
    ("title: x\n", "no front matter", 1),
    ("---\ntitle: [unclosed\nheat: 3\n---\n", "invalid YAML", 3),
    ("---\ntitle: ok\nheat: hot\n---\n", "heat must be an integer", 3),
    ("---\ntitle: ok\n\tbad: tab\n---\n", "invalid YAML", 3),
    ("---\ntitle: ok\npublishedDateTime: yesterday\n---\n", "not an ISO-8601 date", 3),
    ("---\ntitle: ok\nimages: 12\n---\n", "images must be a list", 3),
    ("---\n- a\n- b\n---\n", "must be a mapping", 2),
])
def test_bad_files_are_named_with_line_and_reason(tmp_path, text, reason, line):
    result = _parse_text(tmp_path, "_news/bad.md", text)
    assert isinstance(result.error, LoadError)
    assert result.error.path == "_news/bad.md"
    assert reason in result.error.reason
    assert result.error.line == line
    assert str(result.error).startswith(f"_news/bad.md:{line}: ")


def test_one_image_given_alone_and_topics_given_as_mappings_load(tmp_path):
    text = ("---\ntitle: ok\nimages: /assets/one.png\ntopics:\n  - name: Canals\n    slug: canals\n  - Locks\n"
            "provider:\n  name: P\n  domain: p.example\n  images: {url: /assets/p.png, width: 40}\n---\n")
    result = _parse_text(tmp_path, "_news/short.md", text)
    assert result.error is None, result.error
    record = result.fragments[0]["data"]
    assert [image["url"] for image in record["images"]] == ["/assets/one.png"]
    assert record["topics"] == ["Canals", "Locks"]
    assert [(i["url"], i["width"]) for i in record["provider"]["images"]] == [("/assets/p.png", 40)]


def test_seed_article_is_a_txt_front_matter_file():
    root, found = discover(next(SEED.glob("*.txt")))
    (candidate,) = found
    result = parse(candidate)
    assert result.error is None
    record = result.fragments[0]["data"]
    assert record["collection"] == "news"
    assert record["title"].startswith("IBM ends all facial recognition")
    assert len(record["related"]) == 1


@pytest.mark.parametrize("name,published", [
    ("_posts/2019-07-09-padded.md", "2019-07-09T00:00:00Z"),
    ("_posts/2019-3-9-one-digit.md", "2019-03-09T00:00:00Z"),  # Jekyll reads these too
    ("_posts/_archive/2019-12-1-nested.md", "2019-12-01T00:00:00Z"),
    ("_posts/2019-2-30-no-such-day.md", None),  # loads, without a date
    ("_news/2019-3-9-not-a-post.md", None),     # only posts take their name's date
])
def test_a_post_without_a_date_takes_its_file_name_s(tmp_path, name, published):
    result = _parse_text(tmp_path, name, "---\ntitle: Undated\n---\n")
    assert result.error is None, result.error
    assert result.fragments[0]["data"]["publishedAt"] == published


def test_ids_and_collections_come_from_paths():
    assert collection_of("_news/a.md") == "news"
    assert collection_of("_learning/videos/a.md") == "learning"
    assert collection_of("a.md") == "news"
    assert article_id("_learning/videos/a.b.md") == ("learning/videos/a.b", "a.b")
    assert article_id("notes/x.txt") == ("news/notes/x", "x")


def test_slugs_and_dates():
    assert slugify("Teams integration") == "teams-integration"
    assert slugify("  Énergie & Storage ") == "energie-storage"
    assert parse_datetime("2020-06-09T01:15:00Z").isoformat() == "2020-06-09T01:15:00+00:00"
    assert parse_datetime("2021-06-02T09:12:27-07:00").hour == 16


def test_site_walk_skips_config_and_non_content(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(POWER_APPS / "_data", site / "_data")
    (site / "_config.yml").write_text("title: x\n")
    (site / "_layouts").mkdir()
    (site / "_layouts" / "post.html").write_text("<html></html>")
    (site / "README.md").write_text("# not news\n")
    root, found = discover(site)
    paths = {c.path for c in found}
    assert "_config.yml" not in paths and not any(p.startswith("_layouts") for p in paths)
    readme = next(c for c in found if c.path == "README.md")
    assert parse(readme).skipped == "no front matter"
