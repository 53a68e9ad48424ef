"""A news site of another family, with keys of its own, loads through a
mapping file (newsgraph.yaml beside it, or --map): a Jekyll blog and a Hugo
site written here, read field by field."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from graph.state import DataHolder
from loaders.errors import LoadError
from loaders.keymap import KeyMapError, read
from store.db import Store
from store.ingest import load
from tests.conftest import GQL, make_client
from tests.procs import newsgraph

# The example of docs/sites.md, run here.
DOCS = Path(__file__).resolve().parents[1] / "docs" / "sites.md"
MAPPING = DOCS.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]

BLOG_POST = """---
layout: post
headline: "Wind farm powers a town"
description: "A town runs on its own turbines."
date: 2022-05-01 09:30:00 +0200
link: https://gustline.example/wind-town
outlet: Gustline
outlet_domain: gustline.example
categories: [Renewables, Towns]
cover: /img/turbines.jpg
draft: false
mood: hopeful
---
Turbines turned.
"""

DRAFT = """---
headline: "Unfinished"
summary: "Draft text."
date: 2022-06-01
draft: true
---
"""

HUGO_POST = """+++
headline = "Solar ferries"
summary = "Ferries charged by the sun."
date = 2023-01-02T03:04:05Z
link = "https://gustline.example/solar-ferries"
categories = ["Renewables"]
cover = "https://gustline.example/img/ferry.jpg"
+++
Ferries sailed.
"""

ARTICLE = """query($id: ID!) { article(id: $id) { id collection title excerpt url publishedAt published
  provider { domain name } topics { name } images { url } extra } }"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def blog(tmp_path) -> Path:
    return _write(tmp_path / "blog", {
        "_config.yml": "title: Gustline\n",
        "newsgraph.yaml": MAPPING,
        "_posts/2022-05-01-wind-town.md": BLOG_POST,
        "_drafts/unfinished.md": DRAFT,
    })


def test_a_site_with_keys_of_its_own_loads_field_by_field(blog, tmp_path):
    db = tmp_path / "news.json"
    report = load(Store(db), [blog])
    assert report.rejected == [] and report.added["article"] == 2
    with make_client(DataHolder(Store(db))) as client:
        _check_the_blog(GQL(client))


def _check_the_blog(gql: GQL) -> None:
    got = gql(ARTICLE, {"id": "posts/2022-05-01-wind-town"})["article"]
    assert got["title"] == "Wind farm powers a town"
    assert got["excerpt"] == "A town runs on its own turbines."
    assert got["url"] == "https://gustline.example/wind-town"
    assert got["publishedAt"] == "2022-05-01T07:30:00Z"
    assert got["published"] is True
    assert got["provider"] == {"domain": "gustline.example", "name": "Gustline"}
    assert [t["name"] for t in got["topics"]] == ["Renewables", "Towns"]
    assert [i["url"] for i in got["images"]][0].endswith("/img/turbines.jpg")
    assert got["extra"]["mood"] == "hopeful" and got["extra"]["layout"] == "post"
    assert "headline" not in got["extra"]  # moved to title, not kept twice
    # `draft: true`, negated into published: hidden.
    assert gql(ARTICLE, {"id": "drafts/unfinished"})["article"] is None
    hidden = gql(ARTICLE, {"id": "drafts/unfinished"}, preview=True)["article"]
    assert hidden["published"] is False and hidden["excerpt"] == "Draft text."


def test_without_the_mapping_the_same_site_loads_its_keys_into_extra(blog, tmp_path):
    (blog / "newsgraph.yaml").unlink()
    db = tmp_path / "news.json"
    load(Store(db), [blog])
    record = Store(db).read().articles["posts/2022-05-01-wind-town"]
    assert record["title"] == "2022-05-01-wind-town"  # no title key: the slug
    assert record["extra"]["headline"] == "Wind farm powers a town"
    assert record["publishedAt"] == "2022-05-01T07:30:00Z"  # Jekyll's own `date`
    assert Store(db).read().articles["drafts/unfinished"]["published"] is False  # a draft


def test_map_names_a_mapping_file_for_a_hugo_site(tmp_path):
    site = _write(tmp_path / "hugo", {
        "hugo.toml": "title = 'Gustline'\n",
        "content/posts/solar-ferries.md": HUGO_POST,
        "content/posts/_index.md": "+++\ntitle = 'Posts'\n+++\n",
        "content/news/harbour/index.md": "---\nheadline: Leaf bundle\nlink: https://gustline.example/h\n---\n",
        "themes/plain/layouts/index.html": "<html>{{ .Title }}</html>",
        "themes/plain/exampleSite/content/post.md": "---\ntitle: Not ours\n---\n",
    })
    mapping = tmp_path / "gustline-map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    db = tmp_path / "news.json"
    result = subprocess.run(newsgraph("load", str(site), "--db", str(db), "--map", str(mapping)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    articles = Store(db).read().articles
    assert set(articles) == {"posts/solar-ferries", "news/harbour"}
    ferry = articles["posts/solar-ferries"]
    assert (ferry["title"], ferry["url"], ferry["publishedAt"], ferry["topics"]) == (
        "Solar ferries", "https://gustline.example/solar-ferries", "2023-01-02T03:04:05Z", ["Renewables"])
    assert ferry["body"] == "Ferries sailed.\n"
    assert articles["news/harbour"]["title"] == "Leaf bundle"


@pytest.mark.parametrize("text,words", [
    ("articles:\n  headline: title\n", "not a field newsgraph maps"),
    ("fields:\n  title: headline\n", "one key, `articles`"),
    ("articles:\n  title: [1, 2]\n", "a source key or a list"),
    ("articles:\n  title: \"!headline\"\n", "negates a true/false key"),
    ("articles: [\n", "not valid YAML"),
])
def test_a_wrong_mapping_file_is_named(tmp_path, text, words):
    path = tmp_path / "newsgraph.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError, match=None) as caught:
        read(str(path))
    assert words in caught.value.reason
    site = _write(tmp_path / "site", {"_config.yml": "title: x\n", "newsgraph.yaml": text,
                                      "_posts/2022-01-01-a.md": "---\ntitle: a\n---\n"})
    with pytest.raises(KeyMapError):
        load(Store(tmp_path / "news.json"), [site])
    result = subprocess.run(newsgraph("load", str(site), "--db", str(tmp_path / "cli.json")),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and words in result.stderr and "Traceback" not in result.stderr
