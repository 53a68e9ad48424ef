"""The plain objects of the read model: articles, their details and
related items, images, sites and their collections, providers and topics.
Their slots are all a request reads."""
from __future__ import annotations

import datetime as dt
import functools
from sys import intern

from loaders import site as site_config
from loaders.values import parse_datetime


def _intern(value):
    # Values a few hundred distinct strings take across every article (type,
    # collection, month, provider name) are one object each: an image pickles
    # one copy and a server unpickles one, not one per article.
    return intern(value) if type(value) is str else value


@functools.lru_cache(maxsize=1 << 14)
def _month(year: int, month: int) -> str:
    # Formatted once per month, not per article: strftime was a twentieth
    # of building a model (and writes year 1 as "1", which sorts after 2021).
    return intern(f"{year:04d}-{month:02d}")


def _date(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


class Image:
    """``path`` is the URL as the file gives it; ``url`` is the same made
    absolute against the site's address when the file gives it relative to
    the site (``/assets/...``), so a frontend elsewhere can load it."""

    __slots__ = ("url", "path", "width", "height", "title", "is_cached", "extra")

    def __init__(self, record: dict, base: str | None = None) -> None:
        self.path = record["url"]
        self.url = site_config.resolve(self.path, base) if base else self.path
        self.width = record.get("width")
        self.height = record.get("height")
        self.title = record.get("title")
        self.is_cached = record.get("isCached")
        self.extra = record.get("extra") or None

    @property
    def aspect_ratio(self) -> float | None:
        if self.width and self.height:
            return round(self.width / self.height, 4)
        return None


class SiteCollection:
    """A collection of a site: its label (the folder name without the
    underscore) and what its ``_config.yml`` says of it, when it declares
    it (``declared``); articles may fill collections the file never names."""

    __slots__ = ("name", "title", "output", "extra", "site", "declared")

    def __init__(self, record: dict, site: "Site", declared: bool = True) -> None:
        self.name = record["name"]
        self.title = record.get("title")
        self.output = record.get("output")
        self.extra = record.get("extra") or None
        self.site = site
        self.declared = declared


class Site:
    """A loaded folder with a ``_config.yml`` (store/sites.py)."""

    __slots__ = ("id", "name", "title", "url", "base_url", "web_url", "description", "locale",
                 "topic", "address", "collections", "prefix")

    def __init__(self, record: dict) -> None:
        self.name = record["name"]
        self.id = f"site:{self.name}"
        self.title = record.get("title")
        self.url = record.get("url")
        self.base_url = record.get("baseurl") or ""
        self.web_url = record.get("webUrl")
        self.description = record.get("description")
        self.locale = record.get("locale")
        self.topic = record.get("topic")
        self.address = site_config.address(record)
        self.prefix = record.get("prefix") or ""
        self.collections = [SiteCollection(c, self) for c in record.get("collections") or ()]


def _base(site: "Site | None") -> str | None:
    return site.address if site is not None else None


class Location:
    """A place a news feed is about (the COVID-19 news API's ``location``)."""

    __slots__ = ("iso_code", "country_or_region", "province_or_state", "county", "lat", "long")

    def __init__(self, record: dict) -> None:
        self.iso_code = _intern(record.get("isoCode"))
        self.country_or_region = _intern(record.get("countryOrRegion"))
        self.province_or_state = _intern(record.get("provinceOrState"))
        self.county = record.get("county")
        self.lat = record.get("lat")
        self.long = record.get("long")


class Source:
    __slots__ = ("path", "root", "loader", "paths")

    def __init__(self, record: dict, paths: list[str]) -> None:
        self.path = record["path"]
        self.root = record["root"]
        self.loader = record["loader"]
        self.paths = paths


class Provider:
    """``key`` is the provider's identity: its domain, or on a platform
    (store/providers.py) the domain and the name's key, ``youtube.com/x``."""

    __slots__ = ("id", "key", "domain", "name", "images", "description", "extra", "names", "_declared")

    def __init__(self, domain: str, key: str | None = None) -> None:
        self.key = key or domain
        self.id = f"provider:{self.key}"
        self.domain = domain
        self.name = domain
        self.images: list[Image] = []
        self.description = None
        self.extra = None
        self.names: tuple[str, ...] = ()  # every name articles give it, most used first
        self._declared = False


class Topic:
    __slots__ = ("id", "slug", "name", "keywords", "hashtags", "images", "extra", "_declared")

    def __init__(self, slug: str, name: str) -> None:
        self.id = f"topic:{slug}"
        self.slug = slug
        self.name = name
        self.keywords: list[str] = []
        self.hashtags: list[str] = []
        self.images: list[Image] = []
        self.extra = None
        self._declared = False


class RelatedItem:
    __slots__ = ("title", "excerpt", "url", "amp_url", "cdn_amp_url", "published_at", "type",
                 "quality", "provider", "provider_name", "images", "extra", "owner")

    def __init__(self, record: dict, provider: Provider | None, base: str | None = None,
                 owner: int = 0) -> None:
        self.title = record.get("title") or ""
        self.excerpt = record.get("excerpt")
        self.url = record.get("url")
        self.amp_url = record.get("ampUrl")
        self.cdn_amp_url = record.get("cdnAmpUrl")
        self.published_at = _date(record.get("publishedAt"))
        self.type = record.get("type")
        self.quality = record.get("quality")
        self.provider = provider
        self.provider_name = (record.get("provider") or {}).get("name")
        self.images = [Image(i, base) for i in record.get("images") or ()]
        self.extra = record.get("extra") or None
        # The number of the article holding the item: the local article it
        # links to is found by its URL in each version (View.related_target).
        self.owner = owner


class Details:
    """What only an article's own page asks for: its body, embed, related
    list, extra keys and source. Kept on the article when the model is built
    from records; read back from the store file by offset, and cached a
    while, when the model comes from an image (store/image.py)."""

    __slots__ = ("body", "featured_content", "related", "extra", "source")

    def __init__(self, record: dict, related: list[RelatedItem]) -> None:
        self.body = record.get("body")
        self.featured_content = record.get("featuredContent")
        self.related = related
        self.extra = record.get("extra") or None
        self.source = Source(record["source"], record.get("sources") or [record["source"]["path"]])


class Article:
    __slots__ = ("id", "slug", "collection", "title", "excerpt", "type", "url",
                 "original_url", "amp_url", "cdn_amp_url", "published_at", "published_ts",
                 "quality", "heat", "published", "removed", "visible",
                 "provider", "provider_name", "topics", "topic_slugs", "images",
                 "related_from_all", "related_count", "num", "title_key", "month",
                 "site", "tags", "tag_keys", "locations", "person", "event", "items_all", "playlists_all",
                 "_details", "_span", "_records", "_sig")

    def __init__(self, record: dict, site: Site | None = None) -> None:
        self.id = record["id"]
        self.slug = record["slug"]
        self.site = site
        self.collection = _intern(record["collection"])
        self.title = record["title"]
        self.title_key = self.title.casefold()
        self.excerpt = record.get("excerpt")
        self.type = _intern(record["type"])
        # The article's address. The loader already gives the first of
        # webUrl, sourceUrl and originalUrl (normalize.ALIASES); records a
        # load wrote before it did, and not parsed since, have the original
        # apart, which YouTube videos and community samples give alone.
        self.url = record.get("url") or record.get("originalUrl")
        self.original_url = record.get("originalUrl")
        self.amp_url = record.get("ampUrl")
        self.cdn_amp_url = record.get("cdnAmpUrl")
        self.published_at = _date(record.get("publishedAt"))
        self.published_ts = self.published_at.timestamp() if self.published_at else None
        self.month = _month(self.published_at.year, self.published_at.month) if self.published_at else None
        self.quality = record.get("quality")
        self.heat = record.get("heat")
        self.published = bool(record.get("published", True))
        self.removed = bool(record.get("removed"))
        self.visible = self.published and not self.removed
        self.provider: Provider | None = None
        self.provider_name = _intern((record.get("provider") or {}).get("name"))
        self.topics: list[Topic] = []
        self.topic_slugs: frozenset[str] = frozenset()
        self.images = [Image(i, _base(site)) for i in record.get("images") or ()]
        tags = record.get("tags")
        self.tags: tuple[str, ...] = tuple(map(_intern, tags)) if tags else ()
        self.tag_keys: frozenset[str] = frozenset(t.casefold() for t in tags) if tags else _NO_TAGS
        places = record.get("locations")
        self.locations: tuple[Location, ...] = tuple(map(Location, places)) if places else ()
        # Links to other articles are their numbers, which each version of
        # the model resolves (View.linked): a new version replaces a changed
        # article without touching the articles that link to it.
        self.related_from_all: tuple[int, ...] = ()  # once per item linking here, in the default order
        self.person = None        # store/people.py, when the article is a profile
        self.event = None         # store/events.py, when it is an event
        self.items_all: tuple[int, ...] | None = None      # a playlist's items (store/playlists.py)
        self.playlists_all: tuple[int, ...] | None = None  # the playlists listing it
        self.related_count = 0
        self.num = 0  # the record's number in the store, for life (store/snapshot.py RecordTable)
        self._details: Details | None = None   # None: read through _records at _span
        self._span: tuple[int, int] | None = None
        self._records = None
        # A digest of what the article says that other objects of the model
        # depend on (store/patching.py): equal digests, same links and counts.
        self._sig = 0

    def details(self) -> Details:
        details = self._details
        return details if details is not None else self._records.details(self)

    # Saved in an image (store/image.py): without details, which stay in the
    # store file.
    _LINKS = ("_details", "_records")

    def __getstate__(self) -> tuple:
        state = {name: getattr(self, name) for name in _ARTICLE_STATE}
        state["_details"] = state["_records"] = None
        # pickle sets slots from this in C: much faster than a __setstate__.
        return None, state

    body = property(lambda self: self.details().body)
    featured_content = property(lambda self: self.details().featured_content)
    related = property(lambda self: self.details().related)
    extra = property(lambda self: self.details().extra)
    source = property(lambda self: self.details().source)

    @property
    def image(self) -> Image | None:
        return self.images[0] if self.images else None

    def urls(self):
        return (u for u in (self.url, self.original_url, self.amp_url, self.cdn_amp_url) if u)


_NO_TAGS: frozenset[str] = frozenset()
_ARTICLE_STATE = tuple(name for name in Article.__slots__ if name not in Article._LINKS)


def default_key(article: Article):
    # Newest first, undated last, ties by id: pages never overlap or skip.
    ts = article.published_ts
    return (0, -ts, article.id) if ts is not None else (1, 0.0, article.id)
