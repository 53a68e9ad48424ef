"""The GraphQL object types. Resolvers receive read-model objects as ``self``
(``store.objects``), so most fields are plain attribute reads."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from loaders.values import slugify
from store import objects as rm
from store import search as engine

from .connection import ArticleConnection, PageInfo, articles_of, check_first
from .context import Info

if TYPE_CHECKING:
    from .events import Event
    from .people import Person


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


@strawberry.type(description="A place a news feed is about: the COVID-19 news API's location block (a country or region, a province or state, a county), which each article the feed lists keeps.")
class Location:
    iso_code: str | None = strawberry.field(description="ISO 3166 code of the place (US-WA), in upper case.")
    country_or_region: str | None
    province_or_state: str | None
    county: str | None
    lat: float | None = strawberry.field(description="Latitude, in degrees.")
    long: float | None = strawberry.field(description="Longitude, in degrees.")


@strawberry.type(description="Where an article came from: the file, relative to the loaded root.")
class Source:
    path: str
    loader: str = strawberry.field(description="front-matter, yaml or json-api")
    paths: list[str] = strawberry.field(description="Every file that contributed (static API pages list articles too).")

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, rm.Source)


SIMILAR = 5


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
        return list(self.names) or [self.name]

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
        return info.context.view.related_target(self)


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
    locations: list[Location] = strawberry.field(description="The places of the news feeds that list it (the COVID-19 news API's files); empty for other articles.")
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
        check_first(info, first)
        return self.related if first is None else self.related[:first]

    @strawberry.field(description="Articles like this one (title, excerpt, body and topics), most alike first.")
    def similar(self, info: Info, first: int | None = None) -> list["Article"]:
        info.context.check_deadline()
        check_first(info, first)
        return engine.similar(info.context.view, self, SIMILAR if first is None else first)

    @strawberry.field(description="Local articles whose related list points here.")
    def related_from(self, info: Info, first: int | None = None) -> list["Article"]:
        info.context.check_deadline()
        check_first(info, first)
        found = info.context.view.related_from(self)
        return found if first is None else found[:first]

    @strawberry.field(description="A playlist's items: the local articles its `items` name, in their order.")
    def items(self, info: Info, first: int | None = None) -> list["Article"]:
        check_first(info, first)
        found = info.context.view.linked(self.items_all)
        return found if first is None else found[:first]

    @strawberry.field(description="The playlists whose items include this article.")
    def playlists(self, info: Info, first: int | None = None) -> list["Article"]:
        check_first(info, first)
        found = info.context.view.linked(self.playlists_all)
        return found if first is None else found[:first]

    person: Annotated["Person", strawberry.lazy("graph.people")] | None = strawberry.field(
        description="The profile, when the article is one (_people, type: profile).")
    event: Annotated["Event", strawberry.lazy("graph.events")] | None = strawberry.field(
        description="The event, when the article is one (_events, or a startDateTime).")


@strawberry.type
class ProviderEdge:
    cursor: str
    node: Provider


@strawberry.type
class ProviderConnection:
    edges: list[ProviderEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Provider]:
        return [edge.node for edge in self.edges]


@strawberry.type
class TopicEdge:
    cursor: str
    node: Topic


@strawberry.type
class TopicConnection:
    edges: list[TopicEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Topic]:
        return [edge.node for edge in self.edges]


@strawberry.type
class FacetCount:
    value: str
    label: str | None
    count: int


@strawberry.type
class ArticleFacets:
    """The facets of one filter (store/facets.py): each dimension is counted
    when a query first asks for it, and kept there as tuples. The rows are
    made per request: facets are remembered per filter (graph/schema.py),
    and objects kept for a thousand filters are what the garbage collector
    walks at every full collection, where tuples of strings and numbers it
    stops tracking."""

    counts: strawberry.Private[object]
    # Whether graph/schema.py keeps this object for its filter: the part of
    # an answer showing it is remembered only then (graph/parts.py), as
    # only a kept object is shown again.
    kept: strawberry.Private[bool] = True

    def _rows(self, name: str) -> list[FacetCount]:
        return facet_counts(self.counts[name])

    @strawberry.field
    def total(self) -> int:
        return self.counts.total

    @strawberry.field
    def topics(self) -> list[FacetCount]:
        return self._rows("topics")

    @strawberry.field
    def providers(self) -> list[FacetCount]:
        return self._rows("providers")

    @strawberry.field
    def types(self) -> list[FacetCount]:
        return self._rows("types")

    @strawberry.field(description="Publication months, YYYY-MM, newest first.")
    def months(self) -> list[FacetCount]:
        return self._rows("months")

    @strawberry.field
    def tags(self) -> list[FacetCount]:
        return self._rows("tags")

    @strawberry.field(description="Site names, labelled with their titles.")
    def sites(self) -> list[FacetCount]:
        return self._rows("sites")

    @strawberry.field(description="Collections (news, learning, ...), labelled with the title a site's "
                                  "_config.yml gives them, if any.")
    def collections(self) -> list[FacetCount]:
        return self._rows("collections")


@strawberry.type
class Stats:
    articles: int
    providers: int
    topics: int
    related_items: int
    sites: int
    people: int
    events: int
    collections: list[FacetCount] = strawberry.field(
        description="Articles per collection, labelled with the title a site's _config.yml gives it, if any.")
    data_version: str = strawberry.field(description="Changes whenever the loaded data changes.")
    loaded_at: dt.datetime | None


def facet_counts(rows) -> list[FacetCount]:
    return [FacetCount(value=v, label=l, count=c) for v, l, c in rows]
