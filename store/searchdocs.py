"""The documents of the search index: what an article is to the engine
(store/searchindex.py's schema names the fields), made from a read-model
article or, in a load, from its store record, the same from both.

Each is one JSON object, made in Python while tantivy indexes the ones
before it (what they cost: bench/README.md).
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Iterable, Iterator

import orjson

from loaders.values import parse_datetime, slugify

_TAG = re.compile(r"<[^>]*>")


def plain(body: str | None) -> str:
    """A body's text without its HTML tags (samples and newsletters are HTML)."""
    if not body:
        return ""
    return _TAG.sub(" ", body) if "<" in body else body


@functools.lru_cache(maxsize=1 << 16)
def _slug(name: str) -> str:
    return slugify(name)


def _document(num: int, title: str, excerpt: str | None, body: str | None, topics: list[str],
              names: list, kind: str, collection: str, domain: str | None, tags, site: str | None,
              visible: bool, images: bool, related: bool, quality, heat, published: float | None) -> str:
    doc = {"num": num, "title": title,
           "text": [title, excerpt or "", plain(body), *topics, *(n for n in dict.fromkeys(names) if n)],
           "type": kind, "collection": collection, "domain": domain or [],
           "topic": sorted({_slug(t) for t in topics}), "tag": sorted({t.casefold() for t in tags}),
           "site": site or [], "visible": visible, "images": images, "related": related}
    if quality is not None:
        doc["quality"] = quality
    if heat is not None:
        doc["heat"] = heat
    if published is not None:
        doc["published"] = published
    return orjson.dumps(doc).decode()


def article_documents(articles: Iterable) -> Iterator[tuple[bool, str]]:
    """(public, document) of read-model Articles: an index made in memory."""
    for article in articles:
        provider = article.provider
        declared = provider.name if provider is not None and provider._declared else None
        yield article.visible, _document(
            article.num, article.title, article.excerpt, article.body,
            [t.name for t in article.topics], [article.provider_name, declared], article.type,
            article.collection, provider.domain if provider else None, article.tags,
            article.site.name if article.site else None, article.visible, bool(article.images),
            bool(article.related_count), article.quality, article.heat, article.published_ts)


def _timestamp(date: str) -> float:
    # A stored date is ISO 8601 in UTC ("...Z"), which fromisoformat reads
    # in C; anything else goes the long way.
    if date[-1:] == "Z":
        return dt.datetime.fromisoformat(date).timestamp()
    return parse_datetime(date).timestamp()


def record_documents(snapshot, keys: Iterable[str]) -> Iterator[tuple[bool, str]]:
    """(public, document) of the store records ``keys`` of ``snapshot``: what
    a load indexes, with no read model. The same documents as the model's
    articles give (names as the records write them)."""
    records, nums = snapshot.articles, snapshot.articles.nums
    organizations = {domain: p.get("name") or domain for domain, p in snapshot.providers.items()}
    sites = {root: entry.get("name") for root, entry in (snapshot.meta.get("sites") or {}).items()}
    for key in keys:
        record = records[key]
        get = record.get
        provider = get("provider") or {}
        domain = provider.get("domain") or None
        date = get("publishedAt")
        visible = bool(get("published", True)) and not get("removed")
        yield visible, _document(
            nums[key], get("title") or "", get("excerpt"), get("body"),
            get("topics") or (), [provider.get("name"), organizations.get(domain)],
            get("type"), get("collection"), domain, get("tags") or (),
            sites.get((get("source") or {}).get("root")), visible, bool(get("images")),
            bool(get("related")), get("quality"), get("heat"), _timestamp(date) if date else None)
