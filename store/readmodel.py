"""The in-memory read model: plain objects and indexes built once per data
version, so a request costs attribute reads and dictionary lookups.

Two views share the objects: ``public`` holds only published articles, and
``preview`` holds all of them. Everything a request can reach goes through
one view, which is how unpublished content stays out of public answers.
"""
from __future__ import annotations

import functools
import hashlib

import orjson

from loaders.values import slugify

from .memory import paused_gc
from .snapshot import Snapshot
from .events import Event, is_event
from .objects import (Article, Details, Image, Provider, RelatedItem, Site, Topic, _base, _date,
                      default_key)
from .people import Person, is_profile
from .numbersets import NumberSet
from .playlists import item_names, named, resolve as resolve_items
from .providers import most_used, name_key, ordered_names, split_platform
from .records import Records
from .urls import url_digest, url_key
from .view import View

# Topic names repeat across thousands of articles: slug each once.
_slug = functools.lru_cache(maxsize=1 << 16)(slugify)


class Mentions:
    """Provider names and images, and topic names, as articles give them.

    Kept with the model, so that a patch adding or removing articles
    (store/mentioned.py) works out what the model's build would from
    them: counts are counts, and what the first article says (in number
    order) is kept with that article's number (``givers``)."""

    def __init__(self) -> None:
        self.domains: dict[str, int] = {}               # domain -> mentions
        self.names: dict[str, dict[str, int]] = {}       # domain -> name -> count, in the order first given
        self.images: dict[str, list[Image]] = {}        # domain -> the first images given
        self.name_images: dict[tuple[str, str], list[Image]] = {}  # (domain, name) -> the same
        self.topic_names: dict[str, str] = {}           # slug -> the first name given
        # The number of the article that first gave a name ("n", domain, name),
        # images ("i", domain; "ni", domain, name) or a topic's name ("t", slug).
        self.givers: dict[tuple, int] = {}
        # Givers taken out by a patch while other articles still give the
        # same: which of those is first is not known (store/mentioned.py).
        self.unknown: set[tuple] = set()


def mention(said: Mentions, ref: dict, domain: str, base: str | None, num: int) -> None:
    """Note in ``said`` what provider reference ``ref`` (of the article
    numbered ``num``, which comes after every article noted before it)
    says of ``domain``."""
    said.domains[domain] = said.domains.get(domain, 0) + 1
    name = ref.get("name")
    if name:
        names = said.names.get(domain)
        if names is None:
            names = said.names[domain] = {}
        if name not in names:
            said.givers[("n", domain, name)] = num
        names[name] = names.get(name, 0) + 1
    if ref.get("images"):
        if domain not in said.images:
            said.images[domain] = [Image(i, base) for i in ref["images"]]
            said.givers[("i", domain)] = num
        if name and (domain, name) not in said.name_images:
            said.name_images[(domain, name)] = [Image(i, base) for i in ref["images"]]
            said.givers[("ni", domain, name)] = num


def settle(provider: Provider, public: Mentions, hidden: Mentions) -> dict[str, Provider] | None:
    """Give ``provider`` (its domain's, with what an organisation file says
    of it) what articles say of it; returns its per-name providers, by name
    key, when its domain is a platform (store/providers.py)."""
    known = provider._declared or provider.domain in public.domains
    said, other = (public, hidden) if known else (hidden, public)
    names = said.names.get(provider.domain, {})
    provider.names = ordered_names(names)
    if not provider._declared and names:
        # No organization file: the name most articles use, then the first.
        provider.name = most_used(names)
    if not provider.images:
        provider.images = said.images.get(provider.domain, [])
    return split_platform(provider, said, other, lambda key, d=provider.domain: Provider(d, key))


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
        # What the organisation files say, before articles say more (settle).
        self.organisations = {key: (p.name, p.images, p.description, p.extra)
                              for key, p in self.providers.items()}
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
        self.mentions = {True: Mentions(), False: Mentions()}
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
        public, hidden = self.mentions[True], self.mentions[False]
        # Platforms' providers per name, by domain then name key.
        self._platforms: dict[str, dict[str, Provider]] = {}
        for provider in list(self.providers.values()):
            per_name = settle(provider, public, hidden)
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
        # Digests of the URLs related items link to: a patch that puts an
        # article at one of them is built whole (store/membership.py).
        self.linked_urls = NumberSet(map(url_digest, related_keys.values()))

        self.playlists: list[Article] = []  # those whose items name articles, in the default order
        # The ids and URL keys playlists' items may mean, whether they name
        # an article or not (store/membership.py).
        self.playlist_names = frozenset(name for playlist, names in self._playlists
                                        for name in named(playlist, names, url_key))
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

    def _provider_ref(self, ref: dict | None, said: Mentions, base: str | None, num: int) -> Provider | None:
        """The provider ``ref`` names, noting in ``said`` what it says of it.
        Called for every related item too (seven per article)."""
        domain = ref.get("domain") if ref else None
        if not domain:
            return None
        provider = self._provider(domain)
        mention(said, ref, domain, base, num)
        return provider

    def _article(self, record: dict, details: bool, related: dict, num: int) -> Article:
        """The article of ``record``, numbered ``num``, with its details or without."""
        site = self.site_of(record) if self._site_roots else None
        base = _base(site)
        article = Article(record, site)
        article.num = num
        article._sig = signature(record)
        said = self.mentions[article.visible]
        article.provider = self._provider_ref(record.get("provider"), said, base, num)
        topics = []
        for name in record.get("topics") or ():
            topic = self._topic(name)
            if topic.slug not in said.topic_names:
                said.topic_names[topic.slug] = name
                said.givers[("t", topic.slug)] = num
            if topic not in topics:
                topics.append(topic)
        article.topics = topics
        article.topic_slugs = frozenset(t.slug for t in topics)
        items = record.get("related") or ()
        provider_ref = self._provider_ref
        providers = [provider_ref(r.get("provider"), said, base, num) for r in items]
        related[article] = ([r.get("url") for r in items], providers,
                            [(r.get("provider") or {}).get("name") for r in items])
        article.related_count = len(items)
        if is_profile(record):
            ref = record.get("affiliation")
            article.person = Person(article, record, self._provider_ref(ref, said, base, num))
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
