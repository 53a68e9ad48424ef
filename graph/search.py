"""Search answers: ranked hits as an article connection (edges with their
scores and highlights, cursors of their own), and completions."""
from __future__ import annotations

import strawberry

from store import highlight as hl
from store import paging
from store import search as engine
from store.errors import BadQuery

from .connection import ArticleConnection, ArticleEdge, check_first
from .context import Info
from .inputs import ArticleWhere, plain


@strawberry.type(description="A completion for a search box.")
class Suggestion:
    text: str
    kind: str = strawberry.field(description="topic, provider or title")


def search_articles(info: Info, query: str, where: ArticleWhere | None, first: int | None,
                    after: str | None, fuzzy: bool = True) -> ArticleConnection:
    ctx = info.context
    ctx.check_deadline()
    ctx.model.lookups += 1
    paging.check_page_args(first, None, ctx.settings.limits.max_page)
    tag = "search"
    cursor, hint = None, 0
    if after is not None:
        score, ident, hint = paging.decode_cursor(after, tag, 3)
        if not isinstance(score, (int, float)) or not isinstance(ident, str) or type(hint) is not int:
            raise BadQuery(f"invalid cursor {after[:60]!r}")
        cursor = (score, ident)
    found = engine.search(ctx.view, query, plain(where) if where else None, ctx.now, fuzzy)
    window, start = found.page(paging.DEFAULT_PAGE if first is None else first, cursor, max(0, hint))
    matcher = hl.Matcher(found.tree, fuzzy)
    edges = [_Edge(a, s, matcher, [tag, s, a.id, start + n + 1]) for n, (s, a) in enumerate(window)]

    def page() -> paging.Page:
        return paging.Page(items=[a for _, a in window], cursors=[e.cursor for e in edges],
                           has_next=start + len(window) < found.total, has_previous=start > 0,
                           count=lambda: found.total)

    return ArticleConnection(page=page, count=lambda: found.total, made_edges=lambda: edges)


class _Edge(ArticleEdge):
    """A search edge whose cursor is made when asked for: most searches ask
    for none, and making ten was a twentieth of a search's time."""

    def __init__(self, node, score: float, matcher: hl.Matcher, key: list) -> None:
        self.node, self.score, self.matcher, self._key = node, score, matcher, key

    @property
    def cursor(self) -> str:
        return paging.encode_cursor(self._key[0], self._key[1:])


def suggestions(info: Info, prefix: str, first: int | None) -> list[Suggestion]:
    ctx = info.context
    ctx.model.lookups += 1
    check_first(info, first)
    return [Suggestion(text=s.text, kind=s.kind)
            for s in engine.suggest(ctx.view, prefix, SUGGESTIONS if first is None else first)]


SUGGESTIONS = 10
