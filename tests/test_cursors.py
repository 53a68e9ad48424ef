"""Cursors keep their place across a reload: a cursor taken before files
were added and removed continues right after its article in the new data."""
from __future__ import annotations

import re
import shutil

import pytest

from graph.state import DataHolder
from store.db import Store
from store.ingest import load
from tests.conftest import FROZEN_NOW, GQL, POWER_APPS, make_client
from tests.independent_query import read_rows, select

PAGE = """
query($order: [ArticleOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  articles(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id }
  }
}"""


def _set(text: str, key: str, value: str) -> str:
    """Replace one front-matter line, keeping the file's line endings."""
    text, count = re.subn(rf"(?m)^{key}:[^\r\n]*", f"{key}: {value}", text, count=1)
    assert count == 1, key
    return text


def _add_article(site, source, name: str, title: str, when: str, heat: int) -> None:
    text = source.read_bytes().decode("utf-8-sig")
    for key, value in (("title", f'"{title}"'), ("publishedDateTime", when), ("heat", str(heat))):
        text = _set(text, key, value)
    (site / "_news" / f"{name}.md").write_bytes(text.encode())


@pytest.mark.parametrize("order", [None, [("TITLE", "ASC")], [("HEAT", "DESC"), ("PUBLISHED_AT", "ASC")]],
                         ids=["default", "title", "heat-then-date"])
def test_a_cursor_continues_at_its_article_after_a_reload(tmp_path, order):
    site = tmp_path / "site"
    shutil.copytree(POWER_APPS / "_news", site / "_news")
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    holder = DataHolder(store)
    order_input = [{"field": f, "direction": d} for f, d in order] if order else None

    def expected():
        return select(read_rows(site), None, order, FROZEN_NOW)

    with make_client(holder) as client:
        gql = GQL(client)
        before = expected()
        first = gql(PAGE, {"order": order_input, "first": 10})["articles"]
        assert [n["id"] for n in first["nodes"]] == before[:10]
        cursor, at = first["pageInfo"]["endCursor"], before[9]

        # Remove an article ahead of the cursor, add one ahead and one behind it.
        (site / "_news" / f"{before[0].removeprefix('news/')}.md").unlink()
        source = site / "_news" / f"{before[20].removeprefix('news/')}.md"
        _add_article(site, source, "2021-06-30-ahead", "Aardvark ahead", "2021-06-30T00:00:00Z", 999)
        _add_article(site, source, "2001-01-01-behind", "Zyzzyva behind", "2001-01-01T00:00:00Z", -5)
        assert load(store, [site], prune=True).ok
        assert holder.reload_if_changed()

        after = expected()
        position = after.index(at)
        assert "news/2021-06-30-ahead" in after[:position]
        assert "news/2001-01-01-behind" in after[position + 1:]
        assert before[0] not in after

        rest, page_after = [], cursor
        for _ in range(10):
            page = gql(PAGE, {"order": order_input, "first": 100, "after": page_after})["articles"]
            rest += [n["id"] for n in page["nodes"]]
            assert page["totalCount"] == len(after)
            if not page["pageInfo"]["hasNextPage"]:
                break
            page_after = page["pageInfo"]["endCursor"]
        assert rest == after[position + 1:]

        earlier = gql(PAGE, {"order": order_input, "last": 100, "before": cursor})["articles"]
        assert [n["id"] for n in earlier["nodes"]] == after[:position]


def test_a_cursor_of_a_removed_article_keeps_its_place(tmp_path):
    """Keyset cursors point at a position, not an object: once the article
    is gone, the next page starts where it would have been."""
    site = tmp_path / "site"
    shutil.copytree(POWER_APPS / "_news", site / "_news")
    store = Store(tmp_path / "news.json")
    assert load(store, [site]).ok
    holder = DataHolder(store)
    with make_client(holder) as client:
        gql = GQL(client)
        before = select(read_rows(site), None, None, FROZEN_NOW)
        page = gql(PAGE, {"first": 5})["articles"]
        cursor = page["pageInfo"]["endCursor"]
        (site / "_news" / f"{before[4].removeprefix('news/')}.md").unlink()
        assert load(store, [site], prune=True).ok
        assert holder.reload_if_changed()
        page = gql(PAGE, {"first": 5, "after": cursor})["articles"]
        assert [n["id"] for n in page["nodes"]] == before[5:10]
