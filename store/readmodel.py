"""The in-memory read model: plain objects and indexes built once per data
version, so a request costs attribute reads and dictionary lookups.

Two views share the objects: ``public`` holds only published articles, and
``preview`` holds all of them. Everything a request can reach goes through
one view, which is how unpublished content stays out of public answers.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import weakref
from sys import intern
from collections import defaultdict
from threading import Lock

import orjson

from loaders import site as site_config
from loaders.normalize import parse_datetime, slugify

from .db import Snapshot, paused_gc
from .errors import StoreCorrupt
from .events import Event, is_event
from .people import Person, is_profile
from .playlists import item_names, resolve as resolve_items
from .providers import most_used, name_key, split_platform

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
# Topic names repeat across thousands of articles: slug each once.
_slug = functools.lru_cache(maxsize=1 << 16)(slugify)


def url_key(url: str) -> str:
    """Match URLs the way people mean them: scheme, ``www.``, fragment and a
    trailing slash do not matter; the host's case does not either."""
    url = url.strip()
    if url.startswith("https://"):  # nearly every URL: no regular expression
        rest = url[8:]
    elif url.startswith("http://"):
        rest = url[7:]
    else:
        rest = _SCHEME.sub("", url)
    rest = rest.split("#", 1)[0]
    host, _, path = rest.partition("/")
    host = host.lower()
    if host.startswith("www."):
        host = host[4:]
    return f"{host}/{path}".rstrip("/")


def _intern(value):
    # Values a few hundred distinct strings take across every article (type,
    # collection, month, provider name) are one object each: an image pickles
    # one copy and a server unpickles one, not one per article.
    return intern(value) if type(value) is str else value


@functools.lru_cache(maxsize=1 << 14)
def _month(year: int, month: int) -> str:
    # Formatted once per month, not per article: strftime was a twentieth
    # of building a model.
    return intern(dt.date(year, month, 1).strftime("%Y-%m"))


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
        self.names: dict[str, int] = {}  # every name articles give it, with counts
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
                 "site", "tags", "tag_keys", "person", "event", "items_all", "playlists_all",
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
        # Links to other articles are their numbers, which each version of
        # the model resolves (View.linked): a new version replaces a changed
        # article without touching the articles that link to it.
        self.related_from_all: tuple[int, ...] = ()  # once per item linking here, in the default order
        self.person = None        # store/people.py, when the article is a profile
        self.event = None         # store/events.py, when it is an event
        self.items_all: tuple[int, ...] | None = None      # a playlist's items (store/playlists.py)
        self.playlists_all: tuple[int, ...] | None = None  # the playlists listing it
        self.related_count = 0
        self.num = 0  # the record's number in the store, for life (store/db.py RecordTable)
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


class _Mentions:
    """Provider names and images, and topic names, as articles give them."""

    def __init__(self) -> None:
        self.domains: set[str] = set()
        self.names: dict[str, dict[str, int]] = {}       # domain -> name -> count
        self.images: dict[str, list[Image]] = {}        # domain -> the first images given
        self.name_images: dict[tuple[str, str], list[Image]] = {}  # (domain, name) -> the same
        self.topic_names: dict[str, str] = {}           # slug -> the first name given


def signature(record: dict) -> int:
    """A digest of what an article's record says that the rest of the model
    depends on: its links and URLs, what it says of providers and topics,
    where it is listed and counted. Articles whose digests are equal differ
    only in themselves (store/patching.py)."""
    related = [(r.get("url"), r.get("provider")) for r in record.get("related") or ()]
    source = record.get("source")
    said = (record.get("provider"), related, record.get("topics"), record.get("affiliation"),
            [record.get(k) for k in ("url", "originalUrl", "ampUrl", "cdnAmpUrl")],
            bool(record.get("published", True)) and not record.get("removed"),
            item_names(record), source.get("root") if source else None, record.get("collection"),
            record.get("type"), is_profile(record), is_event(record))
    digest = hashlib.blake2b(orjson.dumps(said, option=orjson.OPT_SORT_KEYS), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _article_order(item) -> tuple:
    return default_key(item.article)


def default_key(article: Article):
    # Newest first, undated last, ties by id: pages never overlap or skip.
    ts = article.published_ts
    return (0, -ts, article.id) if ts is not None else (1, 0.0, article.id)


class View:
    """What one audience may see. Lists are in the default order.

    A view knows its model by a weak reference: no cycle joins them, so a
    version nothing uses any more is freed at once by reference counting,
    without a collection over every object of the model (graph/state.py)."""

    @property
    def model(self) -> "ReadModel":
        return self._model()

    @model.setter
    def model(self, model: "ReadModel") -> None:
        self._model = weakref.ref(model)

    def __init__(self, model: "ReadModel", articles: list[Article], preview: bool,
                 url_keys: dict[Article, list[str]], related: dict[Article, tuple[list, list]]) -> None:
        """``url_keys`` and ``related`` are what the model's build worked out
        per article: its URLs' keys, and its related items' URLs and providers."""
        self.model = model
        self.preview = preview
        self.articles = articles
        self.by_id = {a.id: a for a in articles}
        self.by_url: dict[str, Article] = {}
        self.by_topic: dict[str, list[Article]] = defaultdict(list)
        self.by_provider: dict[str, list[Article]] = defaultdict(list)  # by provider key
        self.by_domain: dict[str, list[Article]] = defaultdict(list)    # every provider of a domain
        self.by_type: dict[str, list[Article]] = defaultdict(list)
        self.by_collection: dict[str, list[Article]] = defaultdict(list)
        self.by_site: dict[str, list[Article]] = defaultdict(list)
        providers: dict[str, Provider] = {d: p for d, p in model.providers.items() if p._declared}
        topics: dict[str, Topic] = {s: t for s, t in model.topics.items() if t._declared}
        related_count = 0
        for article in articles:
            for key in url_keys[article]:
                self.by_url.setdefault(key, article)
            for topic in article.topics:
                self.by_topic[topic.slug].append(article)
                topics[topic.slug] = topic
            if article.provider is not None:
                self.by_provider[article.provider.key].append(article)
                self.by_domain[article.provider.domain].append(article)
                providers[article.provider.key] = article.provider
            self.by_type[article.type].append(article)
            self.by_collection[article.collection].append(article)
            if article.site is not None:
                self.by_site[article.site.name].append(article)
            related_count += article.related_count
            for provider in related[article][1]:
                if provider is not None:
                    providers.setdefault(provider.key, provider)
            if article.person is not None and article.person.affiliation is not None:
                providers.setdefault(article.person.affiliation.key, article.person.affiliation)
        self.related_count = related_count
        self.providers = dict(sorted(providers.items()))
        self.topics = dict(sorted(topics.items()))
        self.provider_counts = {key: len(items) for key, items in self.by_provider.items()}
        self.providers_by_domain: dict[str, list[Provider]] = defaultdict(list)
        for provider in self.providers.values():
            self.providers_by_domain[provider.domain].append(provider)
        self.topic_counts = {slug: len(items) for slug, items in self.by_topic.items()}
        # The sites this audience has articles of: a site known only by
        # unpublished articles is not shown.
        self.sites = {name: model.sites[name] for name in sorted(self.by_site)}
        # People and events whose articles this audience sees, in the default order.
        self.people = [p for p in model.people if preview or p.article.visible]
        self.events = [e for e in model.events if preview or e.article.visible]
        self.people_by_id = {p.id: p for p in self.people}
        # Playlists whose items this audience may see (store/playlists.py).
        self.playlists = [a for a in model.playlists if (preview or a.visible) and self.linked(a.items_all)]
        self.events_by_id = {e.id: e for e in self.events}
        self.site_collections = {name: _collections(site, self.by_site[name])
                                 for name, site in self.sites.items()}
        self.cache_lock = Lock()
        self.cache: dict = {}  # per-view memo of answer parts and cursors (graph/compiled.py, store/paging.py)

    def __getstate__(self) -> dict:
        # Saved in an image: the memo and its lock belong to one process; the
        # model sets itself again (ReadModel.__setstate__).
        return {k: v for k, v in vars(self).items() if k not in ("cache", "cache_lock", "_model")}

    def __setstate__(self, state: dict) -> None:
        vars(self).update(state)
        self.cache_lock = Lock()
        self.cache = {}

    def visible(self, article: Article | None) -> Article | None:
        if article is None:
            return None
        return article if (self.preview or article.visible) else None

    def linked(self, nums: tuple[int, ...] | None) -> list[Article]:
        """The articles numbered ``nums`` (a playlist's items, say) in this
        version, those this audience sees."""
        if not nums:
            return []
        by_num = self.model.indexes.by_num
        found = [by_num[n] for n in nums]
        return found if self.preview else [a for a in found if a.visible]

    def related_from(self, article: Article) -> list[Article]:
        return self.linked(article.related_from_all)

    def related_target(self, item: RelatedItem) -> Article | None:
        """The local article ``item`` links to, when this audience sees it:
        the first article in the default order with its URL, unless that is
        the article holding the item."""
        if not item.url:
            return None
        target = self.model.preview.by_url.get(url_key(item.url))
        if target is None or target.num == item.owner:
            return None
        return self.visible(target)


def _collections(site: Site, articles: list[Article]) -> list[SiteCollection]:
    """The collections ``site`` declares, then those its articles fill
    without being declared, by name."""
    found = list(site.collections)
    declared = {c.name for c in found}
    filled = sorted({a.collection for a in articles} - declared)
    return found + [SiteCollection({"name": name}, site, declared=False) for name in filled]


class Records:
    """Article details read from the store file, for a model that came from
    an image: each article knows where its record is (``_span``); the last
    few thousand details read stay cached, so a page's articles cost one read
    each only the first time."""

    CACHE = 4096

    def __init__(self, model: "ReadModel") -> None:
        self.model = model
        self._reset()

    # The model it resolves providers with, held weakly as View holds its own.
    model = property(lambda self: self._model(),
                     lambda self, model: setattr(self, "_model", weakref.ref(model)))

    def _reset(self) -> None:
        self.path: str | None = None
        self.fd: int | None = None
        self.cache: dict[int, Details] = {}
        self.lock = Lock()

    def __getstate__(self) -> dict:
        return {"model": "set by ReadModel.__setstate__"}  # not empty: pickle skips __setstate__ then

    def __setstate__(self, state: dict) -> None:
        self._reset()

    def open(self, path: str, fd: int) -> None:
        """Read from ``fd``: the store file the image was made for, opened
        before it was checked, so a later load replacing the file does not
        change what this model reads."""
        self.path, self.fd = path, fd
        weakref.finalize(self, os.close, fd)

    def details(self, article: Article) -> Details:
        details = self.cache.get(article.num)
        if details is not None:
            return details
        offset, length = article._span
        try:
            record = orjson.loads(os.pread(self.fd, length, offset))
            if record.get("id") != article.id:
                raise ValueError(f"found {str(record.get('id'))[:80]!r}")
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
            raise StoreCorrupt(self.path, f"record of {article.id!r} at byte {offset} "
                                          f"does not match the image ({exc})") from None
        provider_for = self.model.provider_for
        base = _base(article.site)
        related = [RelatedItem(r, provider_for((r.get("provider") or {}).get("domain"),
                                               (r.get("provider") or {}).get("name")), base, article.num)
                   for r in record.get("related") or ()]
        details = Details(record, related)
        with self.lock:
            if len(self.cache) >= self.CACHE:
                del self.cache[next(iter(self.cache))]  # the oldest
            self.cache[article.num] = details
        return details


class ReadModel:
    """Built once per data version from a store snapshot; read-only after.

    ``details=False`` builds the model an image saves (store/image.py): the
    same model, but without the articles' details, which are read later from
    the store file; it never makes the related items, most of a record."""

    @paused_gc()
    def __init__(self, snapshot: Snapshot, details: bool = True) -> None:
        self.data_version = snapshot.data_version
        self.loaded_at = _date(snapshot.meta.get("loadedAt"))
        self.search_index = snapshot.meta.get("searchIndex")  # its directory (store/searchversions.py)
        self.lookups = 0  # index lookups made for requests; tests bound it
        self.records = Records(self)
        self.site_settings = snapshot.meta.get("sites") or {}
        self.providers: dict[str, Provider] = {}
        self.topics: dict[str, Topic] = {}
        # Sites by the folder they were loaded from (every record's source
        # root); folders without a _config.yml are no site.
        self._site_roots = {root: Site(entry)
                            for root, entry in (snapshot.meta.get("sites") or {}).items()}
        self.sites: dict[str, Site] = {site.name: site for site in self._site_roots.values()}
        for record in snapshot.providers.values():
            provider = self._provider(record["domain"])
            provider.name = record.get("name") or provider.domain
            provider.images = [Image(i, self._base_of(record)) for i in record.get("images") or ()]
            provider.description = record.get("description")
            provider.extra = record.get("extra") or None
            provider._declared = True
        for record in snapshot.topics.values():
            topic = self._topic(record["name"])
            topic.name = record["name"]
            topic.keywords = record.get("keywords") or []
            topic.hashtags = record.get("hashtags") or []
            topic.images = [Image(i, self._base_of(record)) for i in record.get("images") or ()]
            topic.extra = record.get("extra") or None
            topic._declared = True

        # What articles say about providers and topics, kept apart by whether
        # the article is published: the public may see only what published
        # ones say; unpublished ones describe only what no published one names.
        self._said = {True: _Mentions(), False: _Mentions()}
        # Typed views of some articles, in the default order once sorted:
        # people (with the name each gives its affiliation, until platforms
        # are known), events, and playlists with their items' names.
        self.people: list = []
        self.events: list[Event] = []
        self._playlists: list[tuple[Article, list[str]]] = []
        # Per article while building: its related items' URLs and providers.
        related: dict[Article, tuple[list, list]] = {}
        # In number order: where articles say different things, the first
        # says it (a topic's name, a provider's images), whatever the layout
        # of the store's segments, and a patch keeps to the same rule.
        nums = snapshot.articles.nums
        table = snapshot.articles
        articles = []
        for key in sorted(nums, key=nums.__getitem__):
            articles.append(self._article(table[key], details, related, nums[key]))
        articles.sort(key=default_key)
        public, hidden = self._said[True], self._said[False]
        # Platforms' providers per name, by domain then name key.
        self._platforms: dict[str, dict[str, Provider]] = {}
        for provider in list(self.providers.values()):
            known = provider._declared or provider.domain in public.domains
            said, other = (public, hidden) if known else (hidden, public)
            provider.names = said.names.get(provider.domain, {})
            if not provider._declared and provider.names:
                # No organization file: the name most articles use, then the first.
                provider.name = most_used(provider.names)
            if not provider.images:
                provider.images = said.images.get(provider.domain, [])
            per_name = split_platform(provider, said, other, lambda key, d=provider.domain: Provider(d, key))
            if per_name:
                self._platforms[provider.domain] = per_name
                self.providers.update((p.key, p) for p in per_name.values())
        if self._platforms:
            self._credit_names(articles, related, details)
        for person, name in self.people:
            if person.affiliation is not None:
                person.affiliation = self.provider_for(person.affiliation.domain, name)
        self.people = [person for person, _ in self.people]
        self.people.sort(key=_article_order)
        self.events.sort(key=_article_order)
        for slug, topic in self.topics.items():
            if not topic._declared and slug in public.topic_names:
                topic.name = public.topic_names[slug]
        del self._said
        self.all_articles = articles

        # Each URL's key once: the views index the same keys, and related
        # items name the same stories again and again.
        url_keys = {article: [url_key(url) for url in article.urls()] for article in articles}
        url_index: dict[str, Article] = {}
        # Keys more than one article gives: which of them owns one depends
        # on the others (store/patching.py).
        self.shared_urls: set[str] = set()
        for article in articles:
            for key in url_keys[article]:
                if url_index.setdefault(key, article) is not article:
                    self.shared_urls.add(key)
        related_keys: dict[str, str] = {}
        referrers: dict[Article, list[int]] = {}
        for article in articles:
            for url in related[article][0]:
                if not url:
                    continue
                if url not in related_keys:
                    related_keys[url] = url_key(url)
                target = url_index.get(related_keys[url])
                if target is not None and target is not article:
                    referrers.setdefault(target, []).append(article.num)
        for target, found in referrers.items():
            target.related_from_all = tuple(found)

        self.playlists: list[Article] = []  # those whose items name articles, in the default order
        if self._playlists:
            by_id = {article.id: article for article in articles}
            for playlist, names in self._playlists:
                found = resolve_items(playlist, names, by_id, url_index, url_key)
                if found:
                    self.playlists.append(playlist)
                    playlist.items_all = tuple(a.num for a in found)
                    for article in found:
                        article.playlists_all = (article.playlists_all or ()) + (playlist.num,)
        del self._playlists
        self.playlists.sort(key=default_key)

        from .indexes import Indexes  # which reads this module's classes
        self.indexes = Indexes(articles)  # before the views, which resolve links by number
        self.preview = View(self, articles, True, url_keys, related)
        self.public = View(self, [a for a in articles if a.visible], False, url_keys, related)
        # The segments the model holds the data of (store/patching.py).
        self.segments: tuple[str, ...] = tuple(s["name"] for s in snapshot.manifest.segments) \
            if snapshot.manifest is not None else ()

    def __getstate__(self) -> dict:
        # Articles first, so that pickling one never recurses far; no search
        # index (it has its own form) and no open file.
        state = {"all_articles": self.all_articles}
        state.update((k, v) for k, v in vars(self).items() if k not in ("all_articles", "_search_index"))
        return state

    def __setstate__(self, state: dict) -> None:
        vars(self).update(state)
        self.preview.model = self.public.model = self.records.model = self
        records = self.records
        for article in self.all_articles:
            article._records = records

    def site_of(self, record: dict) -> Site | None:
        source = record.get("source")
        return self._site_roots.get(source.get("root")) if source else None

    def _base_of(self, record: dict) -> str | None:
        """The address a topic's or organisation's images are relative to:
        that of the site whose file gave them (loaders/parse.py)."""
        if not self._site_roots:
            return None
        root = record.get("imagesRoot")
        return _base(self._site_roots.get(root) if root else self.site_of(record))

    def provider_for(self, domain: str | None, name: str | None) -> Provider | None:
        """The provider an article or related item names: on a platform,
        the one of its name (a mention without a name stays the domain's)."""
        provider = self.providers.get(domain) if domain else None
        if provider is not None and name and domain in self._platforms:
            return self._platforms[domain].get(name_key(name), provider)
        return provider

    def _credit_names(self, articles: list[Article], related: dict, details: bool) -> None:
        """Give each article and related item on a platform the provider of
        the name it gives."""
        platforms, provider_for = self._platforms, self.provider_for
        for article in articles:
            provider = article.provider
            if provider is not None and provider.domain in platforms:
                article.provider = provider_for(provider.domain, article.provider_name)
            _, items, names = related[article]
            for i, provider in enumerate(items):
                if provider is not None and provider.domain in platforms:
                    items[i] = provider_for(provider.domain, names[i])
            if details and article._details is not None:
                for item, provider in zip(article._details.related, items):
                    item.provider = provider

    def _provider(self, domain: str) -> Provider:
        provider = self.providers.get(domain)
        if provider is None:
            provider = self.providers[domain] = Provider(domain)
        return provider

    def _topic(self, name: str) -> Topic:
        slug = _slug(name)
        topic = self.topics.get(slug)
        if topic is None:
            topic = self.topics[slug] = Topic(slug, name)
        return topic

    def _provider_ref(self, ref: dict | None, said: _Mentions, base: str | None = None) -> Provider | None:
        """The provider ``ref`` names, noting in ``said`` what it says of it.
        Called for every related item too (seven per article)."""
        domain = ref.get("domain") if ref else None
        if not domain:
            return None
        provider = self._provider(domain)
        said.domains.add(domain)
        name = ref.get("name")
        if name:
            names = said.names.get(domain)
            if names is None:
                names = said.names[domain] = {}
            names[name] = names.get(name, 0) + 1
        if ref.get("images"):
            if domain not in said.images:
                said.images[domain] = [Image(i, base) for i in ref["images"]]
            if name and (domain, name) not in said.name_images:
                said.name_images[(domain, name)] = [Image(i, base) for i in ref["images"]]
        return provider

    def _article(self, record: dict, details: bool, related: dict, num: int) -> Article:
        """The article of ``record``, numbered ``num``, with its details or without."""
        site = self.site_of(record) if self._site_roots else None
        base = _base(site)
        article = Article(record, site)
        article.num = num
        article._sig = signature(record)
        said = self._said[article.visible]
        article.provider = self._provider_ref(record.get("provider"), said, base)
        topics = []
        for name in record.get("topics") or ():
            topic = self._topic(name)
            if article.visible:
                said.topic_names.setdefault(topic.slug, name)
            if topic not in topics:
                topics.append(topic)
        article.topics = topics
        article.topic_slugs = frozenset(t.slug for t in topics)
        items = record.get("related") or ()
        provider_ref = self._provider_ref
        providers = [provider_ref(r.get("provider"), said, base) for r in items]
        related[article] = ([r.get("url") for r in items], providers,
                            [(r.get("provider") or {}).get("name") for r in items])
        article.related_count = len(items)
        if is_profile(record):
            ref = record.get("affiliation")
            article.person = Person(article, record, self._provider_ref(ref, said, base))
            self.people.append((article.person, ref and ref.get("name")))
        if is_event(record):
            article.event = Event(article, record)
            self.events.append(article.event)
        names = item_names(record)
        if names:
            self._playlists.append((article, names))
        if details:
            article._details = Details(record, [RelatedItem(r, p, base, num) for r, p in zip(items, providers)])
        return article

    def view(self, preview: bool) -> View:
        return self.preview if preview else self.public
