"""Facet counts (topics, providers, types, months, tags, sites, collections) of the
articles a filter keeps.

Counted from the posting sets: each value's count is the size of its set's
intersection with the matching set, which costs the same whatever the
matching set's size. A matching set smaller than that is counted in one
pass over its articles instead. Months are listed newest first; the others
by count, then by value.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import chain
from operator import attrgetter

from .indexes import Indexes
from .numbersets import NumberSet
from .planner import matching
from .view import View

# One pass over the matching set's articles costs about this many
# intersections per article.
PASS_COST = 0.5
DIMENSIONS = (("topics", "topic"), ("providers", "provider"), ("types", "type"), ("months", "month"),
              ("tags", "tag"), ("sites", "site"), ("collections", "collection"))

_topics_of = attrgetter("topics")
_provider_of = attrgetter("provider")
_type_of = attrgetter("type")
_month_of = attrgetter("month")
_tags_of = attrgetter("tags")
_site_of = attrgetter("site")
_collection_of = attrgetter("collection")


def facets_of(view: View, where: dict | None, now: dt.datetime) -> dict:
    """The facet counts of the articles of ``view`` matching ``where``."""
    return count(view, matching(view, where, now).numbers())


def count(view: View, members: NumberSet) -> dict:
    indexes: Indexes = view.model.indexes
    values = sum(len(indexes.postings[key]) for _, key in DIMENSIONS)
    if len(members) * PASS_COST < values:
        counts = _by_articles(indexes, members)
    else:
        counts = {name: {value: n for value, bits in indexes.postings[key].items()
                         if value is not None and (n := members.intersection_cardinality(bits))}
                  for name, key in DIMENSIONS}
    model = view.model
    topics, providers, sites = model.topics, model.providers, model.sites
    titles = collection_titles(sites.values())
    return {"total": len(members),
            "topics": [(s, topics[s].name, n) for s, n in _ranked(counts["topics"])],
            "providers": [(d, providers[d].name, n) for d, n in _ranked(counts["providers"])],
            "types": [(t, None, n) for t, n in _ranked(counts["types"])],
            "months": [(m, None, n) for m, n in sorted(counts["months"].items(), reverse=True)],
            "tags": [(t, None, n) for t, n in _ranked(counts["tags"])],
            "sites": [(s, sites[s].title, n) for s, n in _ranked(counts["sites"])],
            "collections": [(c, titles.get(c), n) for c, n in _ranked(counts["collections"])]}


def _ranked(counts: dict) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _by_articles(indexes: Indexes, members: NumberSet) -> dict[str, dict]:
    # Counted by C loops over attributes; topics and providers are shared
    # objects, counted as such and named after.
    items = list(map(indexes.by_num.__getitem__, members))
    topics = Counter(chain.from_iterable(map(_topics_of, items)))
    providers = Counter(map(_provider_of, items))
    providers.pop(None, None)
    months = Counter(map(_month_of, items))
    months.pop(None, None)
    sites = Counter(map(_site_of, items))
    sites.pop(None, None)
    return {"topics": {topic.slug: n for topic, n in topics.items()},
            "providers": {provider.key: n for provider, n in providers.items()},
            "types": Counter(map(_type_of, items)), "months": months,
            "tags": Counter(chain.from_iterable(map(_tags_of, items))),
            "sites": {site.name: n for site, n in sites.items()},
            "collections": Counter(map(_collection_of, items))}


def collection_titles(sites) -> dict[str, str]:
    """Each collection's label: the title a site's ``_config.yml`` gives it
    (the first site's that gives one, as sites share collection names)."""
    titles: dict[str, str] = {}
    for site in sites:
        for collection in site.collections:
            if collection.title:
                titles.setdefault(collection.name, collection.title)
    return titles
