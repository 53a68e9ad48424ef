"""Input types and enums, and their conversion to the plain dicts the read
model's query engine takes (so ``store`` never sees Strawberry objects)."""
from __future__ import annotations

import datetime as dt
import enum

import strawberry


@strawberry.input(description="Matches an ID exactly.")
class IDFilter:
    eq: strawberry.ID | None = None
    ne: strawberry.ID | None = None
    in_: list[strawberry.ID] | None = strawberry.field(name="in", default=None)
    not_in: list[strawberry.ID] | None = None


@strawberry.input(description="contains, startsWith and endsWith ignore case; eq, ne, in and notIn do not.")
class StringFilter:
    eq: str | None = None
    ne: str | None = None
    in_: list[str] | None = strawberry.field(name="in", default=None)
    not_in: list[str] | None = None
    contains: str | None = None
    starts_with: str | None = None
    ends_with: str | None = None


@strawberry.input
class IntFilter:
    eq: int | None = None
    ne: int | None = None
    in_: list[int] | None = strawberry.field(name="in", default=None)
    not_in: list[int] | None = None
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None


@strawberry.input
class DateTimeFilter:
    eq: dt.datetime | None = None
    gt: dt.datetime | None = None
    gte: dt.datetime | None = None
    lt: dt.datetime | None = None
    lte: dt.datetime | None = None
    within: str | None = strawberry.field(
        default=None, description='An ISO-8601 duration back from now, e.g. "P7D" or "PT12H".')


@strawberry.input(description="domain matches every provider of a domain, each name of a platform too; key and id pick one provider.")
class ProviderWhere:
    domain: StringFilter | None = None
    name: StringFilter | None = None
    key: StringFilter | None = strawberry.field(
        default=None, description="The provider's key: its domain, or domain/name on a platform (youtube.com/some-channel).")
    id: IDFilter | None = None
    has_articles: bool | None = strawberry.field(
        default=None, description="Whether the provider has articles you may see.")


@strawberry.input
class TopicWhere:
    slug: StringFilter | None = None
    name: StringFilter | None = None
    has_articles: bool | None = strawberry.field(
        default=None, description="Whether the topic has articles you may see.")


@strawberry.input(description="Topic slugs or names.")
class TopicsFilter:
    some: list[str] | None = None
    every: list[str] | None = None
    none: list[str] | None = None


@strawberry.input(description="Tags, ignoring case (ISO 3166 region codes such as \"US-LA\" are upper case).")
class TagsFilter:
    some: list[str] | None = None
    every: list[str] | None = None
    none: list[str] | None = None


@strawberry.input(description="The site an article belongs to; url is its address (url and baseurl).")
class SiteWhere:
    name: StringFilter | None = None
    title: StringFilter | None = None
    url: StringFilter | None = None


@strawberry.input(description="A place an article's news feed is about; ISO codes are upper case (US-WA).")
class LocationWhere:
    iso_code: StringFilter | None = None
    country_or_region: StringFilter | None = None
    province_or_state: StringFilter | None = None
    county: StringFilter | None = None


@strawberry.input(description="All given conditions must hold; AND, OR and NOT nest to any depth.")
class ArticleWhere:
    AND: list["ArticleWhere"] | None = strawberry.field(name="AND", default=None)
    OR: list["ArticleWhere"] | None = strawberry.field(name="OR", default=None)
    NOT: "ArticleWhere | None" = strawberry.field(name="NOT", default=None)
    id: IDFilter | None = None
    title: StringFilter | None = None
    excerpt: StringFilter | None = None
    type: StringFilter | None = None
    collection: StringFilter | None = None
    published_at: DateTimeFilter | None = None
    quality: IntFilter | None = None
    heat: IntFilter | None = None
    published: bool | None = None
    provider: ProviderWhere | None = None
    topics: TopicsFilter | None = None
    tags: TagsFilter | None = None
    site: SiteWhere | None = None
    locations: LocationWhere | None = strawberry.field(
        default=None, description="Articles with a location (Article.locations) that passes every field given.")
    has_images: bool | None = None
    has_related: bool | None = None
    has_items: bool | None = strawberry.field(
        default=None, description="Playlists: articles whose items name articles you may see.")
    text: str | None = strawberry.field(
        default=None, description="Every word must occur in the title, excerpt, body, provider or topics.")


@strawberry.enum
class ArticleSortField(enum.Enum):
    PUBLISHED_AT = "PUBLISHED_AT"
    HEAT = "HEAT"
    QUALITY = "QUALITY"
    TITLE = "TITLE"


@strawberry.enum
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="Missing values sort last in both directions; ties are broken by id.")
class ArticleOrder:
    field: ArticleSortField
    direction: SortDirection = SortDirection.DESC


@strawberry.input(description="People; topics, tags, site, heat, published and text filter as they do articles (a profile is an article too).")
class PersonWhere:
    AND: list["PersonWhere"] | None = strawberry.field(name="AND", default=None)
    OR: list["PersonWhere"] | None = strawberry.field(name="OR", default=None)
    NOT: "PersonWhere | None" = strawberry.field(name="NOT", default=None)
    id: IDFilter | None = None
    name: StringFilter | None = None
    bio: StringFilter | None = None
    location: StringFilter | None = None
    affiliation: ProviderWhere | None = None
    topics: TopicsFilter | None = None
    tags: TagsFilter | None = None
    site: SiteWhere | None = None
    heat: IntFilter | None = None
    published: bool | None = None
    text: str | None = None


@strawberry.input(description="Events; title, excerpt, type, provider, topics, tags, site, heat, published and text filter as they do articles (an event is an article too).")
class EventWhere:
    AND: list["EventWhere"] | None = strawberry.field(name="AND", default=None)
    OR: list["EventWhere"] | None = strawberry.field(name="OR", default=None)
    NOT: "EventWhere | None" = strawberry.field(name="NOT", default=None)
    id: IDFilter | None = None
    title: StringFilter | None = None
    excerpt: StringFilter | None = None
    type: StringFilter | None = None
    starts_at: DateTimeFilter | None = None
    ends_at: DateTimeFilter | None = None
    location: StringFilter | None = None
    online: bool | None = strawberry.field(
        default=None, description="Only events whose files say they are online (true) or not (false).")
    provider: ProviderWhere | None = None
    topics: TopicsFilter | None = None
    tags: TagsFilter | None = None
    site: SiteWhere | None = None
    heat: IntFilter | None = None
    published: bool | None = None
    text: str | None = None


@strawberry.enum
class PersonSortField(enum.Enum):
    NAME = "NAME"
    HEAT = "HEAT"
    FOLLOWERS = "FOLLOWERS"


@strawberry.input(description="Missing values sort last; ties are broken by id. Without a direction, NAME sorts ASC (ignoring case), HEAT and FOLLOWERS DESC.")
class PersonOrder:
    field: PersonSortField
    direction: SortDirection | None = None


@strawberry.enum
class EventSortField(enum.Enum):
    START = "START"
    END = "END"
    TITLE = "TITLE"


@strawberry.input(description="Missing values sort last; ties are broken by id. Without a direction, fields sort ASC.")
class EventOrder:
    field: EventSortField
    direction: SortDirection | None = None


@strawberry.enum
class ListSortField(enum.Enum):
    ARTICLE_COUNT = "ARTICLE_COUNT"
    NAME = "NAME"


@strawberry.input(description="Ties are broken by key (a provider's key, a topic's slug). Without a direction, ARTICLE_COUNT sorts DESC and NAME ASC (ignoring case).")
class ListOrder:
    field: ListSortField
    direction: SortDirection | None = None


_RENAMES = {"in_": "in", "not_in": "notIn", "starts_with": "startsWith", "ends_with": "endsWith",
            "published_at": "publishedAt", "has_images": "hasImages", "has_related": "hasRelated",
            "has_items": "hasItems",
            "has_articles": "hasArticles", "starts_at": "startsAt", "ends_at": "endsAt",
            "iso_code": "isoCode", "country_or_region": "countryOrRegion",
            "province_or_state": "provinceOrState"}


def plain(value):
    """A Strawberry input tree to dicts keyed by GraphQL names; unset and
    null fields are dropped."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        out = {}
        for name, item in vars(value).items():
            if item is None or item is strawberry.UNSET:
                continue
            out[_RENAMES.get(name, name)] = plain(item)
        return out
    return value


def order_pairs(order: list | None) -> tuple[tuple[str, str | None], ...] | None:
    if not order:
        return None
    return tuple((o.field.value, o.direction.value if o.direction else None) for o in order)
