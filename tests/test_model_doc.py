"""docs/model.md's GraphQL examples, run against the real corpus: each one
answers without errors, and those about what the corpus holds find it."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
EXAMPLES = [m.group(1) for m in re.finditer(r"^```graphql\n(.*?)^```", DOC, re.M | re.S)]


def test_the_page_has_its_examples():
    assert len(EXAMPLES) >= 9


@pytest.mark.parametrize("query", EXAMPLES, ids=lambda q: " ".join(q.split())[:40])
def test_each_example_runs(gql, query):
    data = gql(query)
    assert data and all(value is not None for value in data.values())


def test_the_examples_find_what_the_page_says(gql):
    by_start = {" ".join(q.split())[:20]: gql(q) for q in EXAMPLES}
    sites = next(v for k, v in by_start.items() if k.startswith("{ sites"))["sites"]
    assert sites[0]["name"] == "microsoft-power-apps" and sites[0]["address"].endswith("/microsoft-power-apps")
    images = next(v for k, v in by_start.items() if k.startswith("{ provider(domain"))["provider"]["images"]
    assert images[0]["path"].startswith("/assets/") and images[0]["url"].startswith("https://")
    youtube = next(v for k, v in by_start.items() if k.startswith("{ providers(where"))
    assert len(youtube["providers"]["nodes"]) == 3 and youtube["provider"]["id"] == "provider:youtube.com/henry-ouang"
    people = next(v for k, v in by_start.items() if k.startswith("{ people"))["people"]
    assert people["totalCount"] > 0 and people["nodes"][0]["affiliation"]["name"] == "Microsoft"
    playlist = next(v for k, v in by_start.items() if k.startswith("{ article(id"))["article"]
    assert len(playlist["items"]) == 3 and playlist["items"][0]["playlists"]
