"""A view of the read model: what one audience may see, with its lookups
by id, URL, topic, provider, type, collection and site."""
from __future__ import annotations

import weakref
from collections import defaultdict
from threading import Lock
from typing import TYPE_CHECKING

from .objects import Article, Provider, RelatedItem, Site, SiteCollection, Topic
from .urls import url_key

if TYPE_CHECKING:
    from .readmodel import ReadModel


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
        refs: defaultdict[str, int] = defaultdict(int)
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
                    refs[provider.key] += 1
            if article.person is not None and article.person.affiliation is not None:
                providers.setdefault(article.person.affiliation.key, article.person.affiliation)
                refs[article.person.affiliation.key] += 1
            if article.provider is not None:
                refs[article.provider.key] += 1
        self.related_count = related_count
        # How often this audience's articles name each provider (their own,
        # their related items', profiles' affiliations): a patch keeps the
        # providers named (store/membership.py).
        self.provider_refs = dict(refs)
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
