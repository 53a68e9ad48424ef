"""The root ``Query`` and the schema object."""
from __future__ import annotations

from collections import OrderedDict

import orjson
import strawberry
from strawberry.schema.config import StrawberryConfig

from loaders.values import slugify
from store.urls import url_key

from .errors import UserInputError
from .events import Event, EventConnection, select_events
from .inputs import (ArticleOrder, ArticleWhere, EventOrder, EventWhere, ListOrder, PersonOrder, PersonWhere,
                     ProviderWhere, TopicWhere, order_pairs, plain)
from .people import Person, PersonConnection, select_people
from .scalars import SCALAR_MAP
from .connection import ArticleConnection, page_info, select_articles
from .context import Info
from .search import Suggestion, search_articles, suggestions
from .types import (Article, ArticleFacets, FacetCount, Node, Provider, ProviderConnection, ProviderEdge, Site,
                    Stats, Topic, TopicConnection, TopicEdge)
from store import facets as facet_counting
from store import lists
from store.predicates import provider_predicate
from store.providers import name_key


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id.")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        view = info.context.view
        info.context.model.lookups += 1
        kind, _, key = id.partition(":")
        if kind == "provider" and key:
            return view.providers.get(key)
        if kind == "topic" and key:
            return view.topics.get(key)
        if kind == "site" and key:
            return view.sites.get(key)
        if kind == "person" and key:
            return view.people_by_id.get(id)
        if kind == "event" and key:
            return view.events_by_id.get(id)
        return view.by_id.get(id)

    @strawberry.field(description="One article by id, or by URL (webUrl, originalUrl or an AMP URL).")
    def article(self, info: Info, id: strawberry.ID | None = None, url: str | None = None) -> Article | None:
        if (id is None) == (url is None):
            raise UserInputError("article needs exactly one of id or url")
        view = info.context.view
        info.context.model.lookups += 1
        if id is not None:
            return view.by_id.get(id)
        return view.by_url.get(url_key(url))

    @strawberry.field(description="Articles, newest first unless orderBy says otherwise.")
    def articles(self, info: Info, where: ArticleWhere | None = None,
                 order_by: list[ArticleOrder] | None = None, first: int | None = None,
                 after: str | None = None, last: int | None = None,
                 before: str | None = None) -> ArticleConnection:
        return select_articles(info, where, order_by, first, after, last, before)

    @strawberry.field(description='Ranked full-text search: words, "phrases" and prefix* terms, all required; '
                                  'OR between terms, -term to exclude, parentheses to group. A word of 5 letters '
                                  'or more also matches with one typo, of 9 or more with two, unless fuzzy is false.')
    def search(self, info: Info, query: str, where: ArticleWhere | None = None,
               first: int | None = None, after: str | None = None,
               fuzzy: bool | None = True) -> ArticleConnection:
        return search_articles(info, query, where, first, after, fuzzy is not False)

    @strawberry.field(description="Completions for a search box: topic names, provider names and article titles "
                                  "with a word that starts with the prefix's last word.")
    def suggest(self, info: Info, prefix: str, first: int | None = None) -> list[Suggestion]:
        return suggestions(info, prefix, first)

    @strawberry.field(description="A provider by domain; on a platform domain (several publishers, such as youtube.com), by domain and name.")
    def provider(self, info: Info, domain: str, name: str | None = None) -> Provider | None:
        info.context.model.lookups += 1
        found = info.context.view.providers_by_domain.get(domain.strip().lower(), ())
        if name is not None:
            wanted = name_key(name)
            return next((p for p in found if wanted == name_key(p.name)
                         or any(wanted == name_key(n) for n in p.names)), None)
        if len(found) > 1:
            names = ", ".join(sorted(p.name for p in found)[:5])
            raise UserInputError(f"{domain.strip().lower()} hosts {len(found)} providers ({names}"
                                 f"{', ...' if len(found) > 5 else ''}): give the name as well")
        return found[0] if found else None

    @strawberry.field(description="Providers by key (domain, or domain/name on a platform) unless orderBy says otherwise.")
    def providers(self, info: Info, where: ProviderWhere | None = None,
                  order_by: list[ListOrder] | None = None, first: int | None = None,
                  after: str | None = None, last: int | None = None,
                  before: str | None = None) -> ProviderConnection:
        info.context.model.lookups += 1
        view = info.context.view
        test = provider_predicate(plain(where) if where else None, view.provider_counts)
        items = [p for p in view.providers.values() if test(p)]
        page = _entity_page(info, items, lambda p: p.key, view.provider_counts, "provider", order_by,
                            first, after, last, before)
        return ProviderConnection(edges=[ProviderEdge(cursor=c, node=p) for p, c in zip(page.items, page.cursors)],
                                  page_info=page_info(page), total_count=page.total)

    @strawberry.field(description="Playlists (articles whose items name articles), newest first unless orderBy says otherwise.")
    def playlists(self, info: Info, where: ArticleWhere | None = None,
                  order_by: list[ArticleOrder] | None = None, first: int | None = None,
                  after: str | None = None, last: int | None = None,
                  before: str | None = None) -> ArticleConnection:
        return select_articles(info, where, order_by, first, after, last, before, narrow={"hasItems": True})

    @strawberry.field(description="People (profiles), by name unless orderBy says otherwise.")
    def people(self, info: Info, where: PersonWhere | None = None, order_by: list[PersonOrder] | None = None,
               first: int | None = None, after: str | None = None, last: int | None = None,
               before: str | None = None) -> PersonConnection:
        return select_people(info, where, order_by, first, after, last, before)

    @strawberry.field(description="Events. upcoming: true lists those that have not ended, soonest first; false those that have, latest first; unset, every event by start (orderBy overrides).")
    def events(self, info: Info, where: EventWhere | None = None, upcoming: bool | None = None,
               order_by: list[EventOrder] | None = None, first: int | None = None,
               after: str | None = None, last: int | None = None, before: str | None = None) -> EventConnection:
        return select_events(info, where, upcoming, order_by, first, after, last, before)

    @strawberry.field(description="A site by its name.")
    def site(self, info: Info, name: str) -> Site | None:
        info.context.model.lookups += 1
        return info.context.view.sites.get(name)

    @strawberry.field(description="The sites articles were loaded from, by name.")
    def sites(self, info: Info) -> list[Site]:
        info.context.model.lookups += 1
        return list(info.context.view.sites.values())

    @strawberry.field(description="A topic by slug or by name.")
    def topic(self, info: Info, slug: str | None = None, name: str | None = None) -> Topic | None:
        if slug is None and name is None:
            raise UserInputError("topic needs a slug or a name")
        info.context.model.lookups += 1
        return info.context.view.topics.get(slugify(slug if slug is not None else name))

    @strawberry.field(description="Topics by slug unless orderBy says otherwise.")
    def topics(self, info: Info, where: TopicWhere | None = None, order_by: list[ListOrder] | None = None,
               first: int | None = None, after: str | None = None, last: int | None = None,
               before: str | None = None) -> TopicConnection:
        info.context.model.lookups += 1
        view = info.context.view
        test = lists.topic_predicate(plain(where) if where else None, view.topic_counts)
        items = [t for t in view.topics.values() if test(t)]
        page = _entity_page(info, items, lambda t: t.slug, view.topic_counts, "topic", order_by,
                            first, after, last, before)
        return TopicConnection(edges=[TopicEdge(cursor=c, node=t) for t, c in zip(page.items, page.cursors)],
                               page_info=page_info(page), total_count=page.total)

    @strawberry.field(description="Counts by topic, provider, type, month, tag, site and collection under one filter.")
    def facets(self, info: Info, where: ArticleWhere | None = None) -> ArticleFacets:
        ctx = info.context
        ctx.model.lookups += 1
        return _facets(ctx, plain(where) if where else None)

    @strawberry.field
    def stats(self, info: Info) -> Stats:
        ctx = info.context
        view = ctx.view
        collections = sorted(((c, len(items)) for c, items in view.by_collection.items()),
                             key=lambda kv: (-kv[1], kv[0]))
        titles = facet_counting.collection_titles(view.model.sites.values())
        return Stats(articles=len(view.articles), providers=len(view.providers),
                     topics=len(view.topics), related_items=view.related_count, sites=len(view.sites),
                     people=len(view.people), events=len(view.events),
                     collections=[FacetCount(value=c, label=titles.get(c), count=n) for c, n in collections],
                     data_version=ctx.model.data_version, loaded_at=ctx.model.loaded_at)


def _entity_page(info: Info, items: list, key, counts: dict, tag: str, order_by, first, after, last, before):
    """Providers or topics: by key, or sorted by ``order_by`` (store/lists.py)."""
    limit = info.context.settings.limits.max_page
    order = order_pairs(order_by)
    if not order:
        return lists.by_key(items, key, tag, first=first, after=after, last=last, before=before, limit=limit)
    return lists.sorted_page(items, lists.entity_fields(key, counts), order, key, tag,
                             first=first, after=after, last=last, before=before, limit=limit)


FACETS_MEMO_SIZE = 1024
# Filters asked once, remembered by their keys (bytes) so that the second
# asking keeps the facets.
FACETS_SEEN_SIZE = 4096


def _facets(ctx, where: dict | None) -> ArticleFacets:
    """Facets depend only on the view and the filter (unless `within` reads
    the clock): counted once per filter asked again, not once per request.
    A filter asked for the first time is not kept: values drawn anew never
    come back, and a thousand kept facets (their matching sets and rows)
    cost memory and every full pass of the garbage collector."""
    key = orjson.dumps(where, option=orjson.OPT_SORT_KEYS) if where else b""
    if b'"within"' in key:
        return _count_facets(ctx, where, kept=False)
    cache = ctx.view.cache
    memo: OrderedDict = cache.setdefault("facets", OrderedDict())
    seen: OrderedDict = cache.setdefault("facets seen", OrderedDict())
    with ctx.view.cache_lock:
        found = memo.get(key)
        if found is not None:
            memo.move_to_end(key)
            return found
        again = seen.pop(key, False) is None
        if not again:
            seen[key] = None
            while len(seen) > FACETS_SEEN_SIZE:
                seen.popitem(last=False)
    found = _count_facets(ctx, where, kept=again)
    if again:
        with ctx.view.cache_lock:
            memo[key] = found
            while len(memo) > FACETS_MEMO_SIZE:
                memo.popitem(last=False)
    return found


def _count_facets(ctx, where: dict | None, kept: bool) -> ArticleFacets:
    return ArticleFacets(counts=facet_counting.facets_of(ctx.view, where, ctx.now), kept=kept)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, types=[Article, Provider, Topic, Site, Person, Event],
                             config=StrawberryConfig(scalar_map=SCALAR_MAP))


schema = build_schema()


def sdl() -> str:
    return schema.as_str() + "\n"
