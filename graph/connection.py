"""Connections: lists answered a page at a time, with cursors.

``select_articles`` answers ``articles`` and every field that lists
articles under a filter (a provider's, a topic's, a site's, ``playlists``):
the planner finds the matching set, and the page is found, and the total
counted, only when a field asks for them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Callable

import strawberry

from store import highlight as hl
from store import paging, planner

from .context import Info
from .inputs import ArticleOrder, ArticleWhere, order_pairs, plain

if TYPE_CHECKING:
    from .types import Article


def check_first(info: Info, first: int | None) -> None:
    """`first` on the lists that do not page (a connection's paging checks its own)."""
    paging.check_page_args(first, None, info.context.settings.limits.max_page)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="A marked piece of a search hit: `html` is the text HTML-escaped with the "
                              "matched words in <mark>; `ranges` are those words' [start, end) in `text`, "
                              "in characters (Unicode code points).")
class Highlight:
    field: str = strawberry.field(description="title, excerpt or body")
    text: str
    html: str
    ranges: list[list[int]]


@strawberry.type
class ArticleEdge:
    cursor: str
    node: Annotated["Article", strawberry.lazy("graph.types")]
    score: float | None = strawberry.field(
        default=None, description="Relevance, in search answers: 1 or more when every term matched as "
                                  "typed, below 1 when a word matched only with a typo.")
    matcher: strawberry.Private[hl.Matcher | None] = None

    @strawberry.field(description="In search answers: the title, and the excerpt or body fragment that "
                                  "holds most of the search's terms, with the matched words marked.")
    def highlights(self) -> list[Highlight] | None:
        if self.matcher is None:
            return None
        return [Highlight(field=h.field, text=h.text, html=h.html, ranges=[list(r) for r in h.ranges])
                for h in hl.highlights(self.node, self.matcher)]


@strawberry.type
class ArticleConnection:
    # The page is found, and totalCount counted, only when asked for.
    page: strawberry.Private[Callable[[], paging.Page]]
    count: strawberry.Private[Callable[[], int]]
    # Search's edges, with scores and highlights.
    made_edges: strawberry.Private[Callable[[], list[ArticleEdge]] | None] = None

    @strawberry.field
    def edges(self) -> list[ArticleEdge]:
        if self.made_edges is not None:
            return self.made_edges()
        page = self.page()
        return [ArticleEdge(cursor=c, node=a) for a, c in zip(page.items, page.cursors)]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return page_info(self.page())

    @strawberry.field
    def total_count(self) -> int:
        return self.count()

    @strawberry.field
    def nodes(self) -> list[Annotated["Article", strawberry.lazy("graph.types")]]:
        return self.page().items


class _Once:
    """``make()``, made on the first call and kept."""

    __slots__ = ("make", "made")

    def __init__(self, make: Callable) -> None:
        self.make, self.made = make, None

    def __call__(self):
        if self.made is None:
            self.made = self.make()
        return self.made


def page_info(page: paging.Page) -> PageInfo:
    return PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous,
                    start_cursor=page.cursors[0] if page.cursors else None,
                    end_cursor=page.cursors[-1] if page.cursors else None)


def select_articles(info: Info, where: ArticleWhere | None, order_by: list[ArticleOrder] | None,
                    first: int | None, after: str | None, last: int | None, before: str | None,
                    narrow: dict | None = None) -> ArticleConnection:
    ctx = info.context
    ctx.check_deadline()
    condition = plain(where) if where else None
    if narrow:
        condition = {"AND": [condition, narrow]} if condition else narrow
    ctx.model.lookups += 1
    members = planner.matching(ctx.view, condition, ctx.now)
    page = paging.pager(ctx.view, members, order_pairs(order_by), first, after, last, before,
                        limit=ctx.settings.limits.max_page)
    return ArticleConnection(page=_Once(page), count=members.__len__)


def articles_of(narrow):
    """The `articles` field of a provider, topic or site: the top-level query
    narrowed to what belongs to the parent."""

    def resolve(root, info: Info, where: ArticleWhere | None = None,
                order_by: list[ArticleOrder] | None = None, first: int | None = None,
                after: str | None = None, last: int | None = None,
                before: str | None = None) -> ArticleConnection:
        return select_articles(info, where, order_by, first, after, last, before, narrow=narrow(root))

    return resolve

