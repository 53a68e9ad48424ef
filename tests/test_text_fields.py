"""A text field keeps the words its author wrote, whatever YAML 1.1 makes of
a plain scalar (``yes`` is true, ``0x1F`` is 31, ``2020-01-01`` a date),
while dates and numbers in their own fields still parse: files written here."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from loaders.files import Candidate
from loaders.keymap import read
from loaders.site import read as read_site
from loaders.parse import ParseOptions, parse
from loaders.yamldoc import parse_yaml
from loaders.normalize import TEXT_KEYS

# Plain scalars YAML 1.1 resolves to something other than text.
WORDS = ["yes", "No", "ON", "off", "y", "true", "False", "1e3", "1.5e+3", "2020-01-01",
         "2001-12-14t21:59:43.10-05:00", "0x1F", "0o17", "017", "0b101", "1_000", "190:20:30",
         ".inf", "-.INF", ".NaN", "12", "-3.25", "2021-02-30"]


def _parse(tmp_path, name: str, text: str, options: ParseOptions | None = None):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return parse(Candidate(str(tmp_path), name, explicit=True), *([options] if options else []))


def _article(result) -> dict:
    assert result.error is None, result.error
    (fragment,) = result.fragments
    return fragment["data"]


@pytest.mark.parametrize("word", WORDS)
def test_every_text_field_keeps_the_words_written(tmp_path, word):
    text = f"""---
title: {word}
excerpt: {word}
type: {word}
featuredContent: {word}
webUrl: {word}
provider:
  name: {word}
  domain: {word}
  images:
    - url: {word}
      title: {word}
      width: 640
topics:
  - {word}
  - name: {word}
tags: [{word}, NO]
category: {word}
related:
  - title: {word}
    excerpt: {word}
    provider: {word}
    publishedDateTime: 2021-06-01T10:00:00Z
    quality: 0x1F
publishedDateTime: 2021-06-02
heat: 0x1F
quality: 1_000
published: no
other: {word if word != "2021-02-30" else "plain"}
---
"""
    record = _article(_parse(tmp_path, "_news/x.md", text))
    for field in ("title", "excerpt", "type", "featuredContent", "url"):
        assert record[field] == word, field
    assert (record["provider"]["name"], record["provider"]["domain"]) == (word, word.lower())
    assert record["provider"]["images"][0]["title"] == word
    assert record["provider"]["images"][0]["width"] == 640
    assert record["topics"] == [word, word]
    assert record["tags"][-1] == "NO" and record["tags"][0].upper() == word.upper()
    assert record["extra"]["category"] == word
    (related,) = record["related"]
    assert (related["title"], related["excerpt"], related["provider"]["name"]) == (word, word, word)
    # Dates, numbers and flags in their own fields are what they were.
    assert related["publishedAt"] == "2021-06-01T10:00:00Z" and related["quality"] == 31
    assert record["publishedAt"] == "2021-06-02T00:00:00Z"
    assert (record["heat"], record["quality"], record["published"]) == (31, 1000, False)
    # A key the model does not type keeps YAML's reading.
    if word in ("yes", "0x1F", "2020-01-01"):
        assert record["extra"]["other"] == {"yes": True, "0x1F": 31, "2020-01-01": "2020-01-01"}[word]


def test_no_value_stays_no_value(tmp_path):
    text = "---\ntitle: ~\nexcerpt: null\ntype:\nname: Named\n---\n"
    record = _article(_parse(tmp_path, "_news/x.md", text))
    assert (record["title"], record["excerpt"], record["type"]) == ("Named", None, None)


def test_an_impossible_date_in_a_text_field_is_text_and_in_any_other_is_named(tmp_path):
    record = _article(_parse(tmp_path, "_news/a.md", "---\ntitle: 2021-02-30\n---\n"))
    assert record["title"] == "2021-02-30"
    result = _parse(tmp_path, "_news/b.md", "---\ntitle: 2021-02-30\nexcerpt: x\nreviewedOn: 2021-02-30\n---\n")
    assert result.error is not None and result.error.line == 4
    assert "reviewedOn: 2021-02-30 is not a date" in result.error.reason


def test_quoted_and_tagged_values_are_as_written(tmp_path):
    text = "---\ntitle: 'yes'\nexcerpt: \"0x1F\"\nheat: !!int \"12\"\n---\n"
    record = _article(_parse(tmp_path, "_news/x.md", text))
    assert (record["title"], record["excerpt"], record["heat"]) == ("yes", "0x1F", 12)


def test_topic_and_organisation_files_keep_their_names(tmp_path):
    topic = _parse(tmp_path, "_terms/topics/on.md",
                   "---\ntaxonomy: topic\n_id: on\nname: On\nkeywords: [yes, 2020, no]\nparent: off\n---\n")
    assert topic.error is None, topic.error
    data = topic.fragments[0]["data"]
    assert (data["name"], data["keywords"], data["extra"]["parent"]) == ("On", ["yes", "2020", "no"], "off")
    organisation = _parse(tmp_path, "_data/organizations/x.md",
                          "---\nname: True\ndomain: 1e3.example\ndescription: no\n---\n")
    data = organisation.fragments[0]["data"]
    assert (data["name"], data["domain"], data["description"]) == ("True", "1e3.example", "no")
    listed = _parse(tmp_path, "_data/topics/list.yaml", "- name: Yes\n  keywords: [on]\n- name: 0x10\n")
    assert [f["data"]["name"] for f in listed.fragments] == ["Yes", "0x10"]
    assert listed.fragments[0]["data"]["keywords"] == ["on"]


def test_a_mapped_key_of_a_text_field_keeps_its_words(tmp_path):
    (tmp_path / "newsgraph.yaml").write_text(
        "articles:\n  title: meta.headline\n  provider: outlet\n  publishedAt: date\n", encoding="utf-8")
    options = ParseOptions(keymaps={str(tmp_path): read(str(tmp_path / "newsgraph.yaml"))})
    text = "---\nmeta:\n  headline: Off\n  rating: on\noutlet:\n  name: Yes\ndate: 2022-05-01\n---\n"
    record = _article(_parse(tmp_path, "_posts/x.md", text, options))
    assert (record["title"], record["provider"]["name"]) == ("Off", "Yes")
    assert record["publishedAt"] == "2022-05-01T00:00:00Z"
    assert record["extra"]["meta"]["rating"] is True  # not a text field: YAML's reading


def test_aliases_and_merge_keys_keep_text_too():
    text = "base: &b {name: yes, domain: x.example}\nprovider:\n  <<: *b\ntitle: &t off\nexcerpt: *t\n"
    data = parse_yaml("x.yaml", text, 1, None, TEXT_KEYS)
    assert data["provider"] == {"name": "yes", "domain": "x.example"}
    assert (data["title"], data["excerpt"]) == ("off", "off")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(WORDS) | st.from_regex(r"[A-Za-z0-9.+][A-Za-z0-9.+_-]{0,11}", fullmatch=True))
def test_a_plain_title_is_its_own_text(word):
    data = parse_yaml("x.md", f"title: {word}\npublishedDateTime: 2020-01-01\n", 2, None, TEXT_KEYS)
    assert data["title"] == (None if word.lower() == "null" else word)
    assert data["publishedDateTime"] == dt.date(2020, 1, 1)


def test_a_site_configuration_keeps_its_words(tmp_path):
    (tmp_path / "_config.yml").write_text("title: On\nbaseurl: 2020\ndescription: no\nurl: https://x.example\n",
                                          encoding="utf-8")
    site = read_site(str(tmp_path))
    assert (site["title"], site["baseurl"], site["description"]) == ("On", "/2020", "no")
