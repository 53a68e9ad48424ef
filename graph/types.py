"""The GraphQL object types. Resolvers receive read-model objects as ``self``
(``store.readmodel``), so most fields are plain attribute reads."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Callable

import strawberry
from strawberry.scalars import JSON

from loaders.normalize import slugify
from store import highlight as hl
from store import paging, planner
from store import readmodel as rm
from store import search as engine
from store.errors import BadQuery

from .context import Context
from .inputs import ArticleOrder, ArticleWhere, order_pairs, plain

Info = strawberry.Info[Context, None]

if TYPE_CHECKING:
    from .events import Event
    from .people import Person


def _limit(info: Info, first: int | None) -> None:
    """`first` on the lists that do not page (connections check in paginate)."""
    paging.check_page_args(first, None, info.context.settings.limits.max_page)


def batched(info: Info, name: str, fetch):
    """The DataLoader idea without async: the first resolver of a request
    that needs ``name`` fetches it for every key in one counted lookup, and
    the rest of the request reads that answer, so a nested field costs as
    many lookups for 100 items as for 10."""
    batches = info.context.batches
    if name not in batches:
        info.context.model.lookups += 1
        batches[name] = fetch(info.context.view)
    return batches[name]


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


@strawberry.type
class Image:
    url: str = strawberry.field(description="Absolute: a URL the file gives relative to the site is resolved against its url and baseurl.")
    path: str = strawberry.field(description="The URL as the file gives it.")
    width: int | None
    height: int | None
    title: str | None
    is_cached: bool | None
    aspect_ratio: float | None = strawberry.field(description="width / height, when both are known.")
    extra: JSON | None = strawberry.field(description="Image keys the schema does not type.")

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.Image)


@strawberry.type(description="Where an article came from: the file, relative to the loaded root.")
class Source:
    path: str
    loader: str = strawberry.field(description="front-matter, yaml or json-api")
    paths: list[str] = strawberry.field(description="Every file that contributed (static API pages list articles too).")

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.Source)


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
    node: "Article"
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


@strawberry.type(description="A completion for a search box.")
class Suggestion:
    text: str
    kind: str = strawberry.field(description="topic, provider or title")


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
    def nodes(self) -> list["Article"]:
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
    edges = [ArticleEdge(cursor=paging.encode_cursor(tag, [s, a.id, start + n + 1]), node=a, score=s, matcher=matcher)
             for n, (s, a) in enumerate(window)]
    page = paging.Page(items=[a for _, a in window], cursors=[e.cursor for e in edges],
                       has_next=start + len(window) < found.total, has_previous=start > 0,
                       count=lambda: found.total)
    return ArticleConnection(page=lambda: page, count=page.count, made_edges=lambda: edges)


def suggestions(info: Info, prefix: str, first: int | None) -> list[Suggestion]:
    ctx = info.context
    ctx.model.lookups += 1
    _limit(info, first)
    return [Suggestion(text=s.text, kind=s.kind)
            for s in engine.suggest(ctx.view, prefix, SUGGESTIONS if first is None else first)]


SUGGESTIONS = 10
SIMILAR = 5


def articles_of(narrow):
    """The `articles` field of a provider or topic: the top-level query
    narrowed to what belongs to the parent."""

    def resolve(root, info: Info, where: ArticleWhere | None = None,
                order_by: list[ArticleOrder] | None = None, first: int | None = None,
                after: str | None = None, last: int | None = None,
                before: str | None = None) -> ArticleConnection:
        return select_articles(info, where, order_by, first, after, last, before, narrow=narrow(root))

    return resolve


@strawberry.type(description="A collection a site's _config.yml declares.")
class SiteCollection:
    name: str = strawberry.field(description="The collection's label: its folder without the underscore.")
    title: str | None = strawberry.field(description="The title the collection's settings give it, if any.")
    output: bool | None
    declared: bool = strawberry.field(description="Whether _config.yml declares it; articles may fill collections it does not name.")
    extra: JSON | None

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.SiteCollection)

    @strawberry.field(description="Articles of this site in this collection.")
    def article_count(self, info: Info) -> int:
        counts = batched(info, "site_collection_counts", _site_collection_counts)
        return counts.get((self.site.name, self.name), 0)


def _site_collection_counts(view) -> dict:
    counts: dict = {}
    for name, items in view.by_site.items():
        for article in items:
            key = (name, article.collection)
            counts[key] = counts.get(key, 0) + 1
    return counts


@strawberry.type(description="A site: a loaded folder with a _config.yml.")
class Site(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="Unique in the store: from the baseurl, else the title, else the folder.")
    title: str | None
    url: str | None = strawberry.field(description="The url of _config.yml.")
    base_url: str = strawberry.field(description="The baseurl of _config.yml (\"\" when none).")
    address: str | None = strawberry.field(description="Where the site is served: url and baseurl together.")
    web_url: str | None = strawberry.field(description="The webUrl of _config.yml: the public front end, when it gives one.")
    description: str | None
    locale: str | None
    topic: str | None = strawberry.field(description="The topic the site is about, as _config.yml names it.")

    @strawberry.field(description="The collections _config.yml declares, then those its articles fill without being declared.")
    def collections(self, info: Info) -> list[SiteCollection]:
        return info.context.view.site_collections.get(self.name, self.collections)

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.Site)

    @strawberry.field
    def article_count(self, info: Info) -> int:
        return len(info.context.view.by_site.get(self.name, ()))

    articles: ArticleConnection = strawberry.field(
        resolver=articles_of(lambda site: {"site": {"name": {"eq": site.name}}}))


@strawberry.type(description="Who published. One per domain, except on a platform that hosts many publishers (several names, no organisation file: youtube.com channels, msn.com, medium.com), where each name is a provider sharing the domain.")
class Provider(Node):
    id: strawberry.ID
    domain: str = strawberry.field(description="Lower-case domain.")
    key: str = strawberry.field(description="The provider's identity: its domain, or domain/name on a platform (youtube.com/some-channel).")
    name: str
    images: list[Image]
    description: str | None
    extra: JSON | None

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.Provider)

    @strawberry.field(name="names", description="Every name articles use for this provider, most used first.")
    def known_names(self) -> list[str]:
        names = sorted(self.names.items(), key=lambda kv: (-kv[1], kv[0]))
        return [n for n, _ in names] or [self.name]

    @strawberry.field
    def article_count(self, info: Info) -> int:
        return batched(info, "provider_counts", lambda view: view.provider_counts).get(self.key, 0)

    articles: ArticleConnection = strawberry.field(
        resolver=articles_of(lambda provider: {"provider": {"key": {"eq": provider.key}}}))


@strawberry.type
class Topic(Node):
    id: strawberry.ID
    slug: str
    name: str
    keywords: list[str]
    hashtags: list[str]
    images: list[Image]
    extra: JSON | None

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.Topic)

    @strawberry.field(description="The broader topic, when the topic file names one.")
    def parent(self, info: Info) -> "Topic | None":
        name = (self.extra or {}).get("parent")
        if not isinstance(name, str):
            return None
        return batched(info, "topics", lambda view: view.topics).get(slugify(name))

    @strawberry.field
    def article_count(self, info: Info) -> int:
        return batched(info, "topic_counts", lambda view: view.topic_counts).get(self.slug, 0)

    articles: ArticleConnection = strawberry.field(
        resolver=articles_of(lambda topic: {"topics": {"some": [topic.slug]}}))


@strawberry.type(description="An item of an article's related list; `article` is the local article with that URL.")
class RelatedItem:
    title: str
    excerpt: str | None
    url: str | None
    amp_url: str | None
    cdn_amp_url: str | None
    published_at: dt.datetime | None
    type: str | None
    quality: int | None
    provider: Provider | None
    provider_name: str | None = strawberry.field(description="The provider's name as this item gives it.")
    images: list[Image]
    extra: JSON | None

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.RelatedItem)

    @strawberry.field(description="The local article with this URL, when there is one you may see.")
    def article(self, info: Info) -> "Article | None":
        return info.context.view.visible(self.target)


@strawberry.type
class Article(Node):
    id: strawberry.ID
    slug: str
    collection: str = strawberry.field(description="The collection folder without its underscore: _news -> news.")
    title: str
    excerpt: str | None
    body: str | None
    type: str
    url: str | None = strawberry.field(description="webUrl (or sourceUrl), else originalUrl.")
    original_url: str | None
    amp_url: str | None
    cdn_amp_url: str | None
    published_at: dt.datetime | None
    quality: int | None
    heat: int | None
    published: bool
    featured_content: str | None
    provider: Provider | None
    provider_name: str | None = strawberry.field(description="The provider's name as this article gives it.")
    topics: list[Topic]
    tags: list[str] = strawberry.field(description="Tags as the files give them; ISO 3166 region codes (US-LA, CN, and UK) in upper case.")
    site: Site | None = strawberry.field(description="The site the article was loaded from; null for folders without a _config.yml.")
    images: list[Image]
    image: Image | None = strawberry.field(description="The first image.")
    extra: JSON | None = strawberry.field(description="Front-matter keys the schema does not type.")
    source: Source

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.Article)

    @strawberry.field
    def related(self, info: Info, first: int | None = None) -> list[RelatedItem]:
        info.context.check_deadline()  # related/relatedFrom nest: stop runaways here too
        _limit(info, first)
        return self.related if first is None else self.related[:first]

    @strawberry.field(description="Articles like this one (title, excerpt, body and topics), most alike first.")
    def similar(self, info: Info, first: int | None = None) -> list["Article"]:
        info.context.check_deadline()
        _limit(info, first)
        return engine.similar(info.context.view, self, SIMILAR if first is None else first)

    @strawberry.field(description="Local articles whose related list points here.")
    def related_from(self, info: Info, first: int | None = None) -> list["Article"]:
        info.context.check_deadline()
        _limit(info, first)
        found = info.context.view.related_from(self)
        return found if first is None else found[:first]

    @strawberry.field(description="A playlist's items: the local articles its `items` name, in their order.")
    def items(self, info: Info, first: int | None = None) -> list["Article"]:
        _limit(info, first)
        found = info.context.view.linked(self.items_all)
        return found if first is None else found[:first]

    @strawberry.field(description="The playlists whose items include this article.")
    def playlists(self, info: Info, first: int | None = None) -> list["Article"]:
        _limit(info, first)
        found = info.context.view.linked(self.playlists_all)
        return found if first is None else found[:first]

    person: Annotated["Person", strawberry.lazy("graph.people")] | None = strawberry.field(
        description="The profile, when the article is one (_people, type: profile).")
    event: Annotated["Event", strawberry.lazy("graph.events")] | None = strawberry.field(
        description="The event, when the article is one (_events, or a startDateTime).")


@strawberry.type
class ProviderConnection:
    nodes: list[Provider]
    page_info: PageInfo
    total_count: int


@strawberry.type
class TopicConnection:
    nodes: list[Topic]
    page_info: PageInfo
    total_count: int


@strawberry.type
class FacetCount:
    value: str
    label: str | None
    count: int


@strawberry.type
class ArticleFacets:
    total: int
    topics: list[FacetCount]
    providers: list[FacetCount]
    types: list[FacetCount]
    months: list[FacetCount] = strawberry.field(description="Publication months, YYYY-MM, newest first.")
    tags: list[FacetCount]
    sites: list[FacetCount] = strawberry.field(description="Site names, labelled with their titles.")


@strawberry.type
class Stats:
    articles: int
    providers: int
    topics: int
    related_items: int
    sites: int
    people: int
    events: int
    collections: list[FacetCount]
    data_version: str = strawberry.field(description="Changes whenever the loaded data changes.")
    loaded_at: dt.datetime | None


def facet_counts(rows) -> list[FacetCount]:
    return [FacetCount(value=v, label=l, count=c) for v, l, c in rows]
