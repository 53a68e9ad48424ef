"""Playlists: files whose ``items`` name other files of the site, such as a
learning collection listing its videos (``items: [videos/how-to-x, ...]``).

An item names a file by its path inside the playlist's collection
(``videos/how-to-x`` in ``_learning`` is the article ``learning/videos/how-to-x``),
by its path in the site (``_learning/videos/how-to-x.md``), by an article id,
or by a URL. Items that name no loaded article are left out of the links
and stay, as written, in the playlist's ``extra``.
"""
from __future__ import annotations

import re

_SUFFIX = re.compile(r"\.(md|markdown|html?|txt|ya?ml|json)$", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def item_names(record: dict) -> list[str]:
    """The names a record's ``items`` give, when they are a list of text."""
    items = (record.get("extra") or {}).get("items")
    if not isinstance(items, list):
        return []
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def candidates(name: str, collection: str, prefix: str) -> list[str]:
    """The article ids ``name`` may mean, most likely first, for a playlist
    of ``collection`` in a site whose ids take ``prefix``."""
    stem = _SUFFIX.sub("", name.strip().strip("/"))
    if stem.startswith("_"):  # a path in the site: the collection folder, then the file
        return [prefix + stem[1:]]
    return [prefix + f"{collection}/{stem}", prefix + stem]


def named(playlist, names: list[str], url_key) -> set[str]:
    """Every article id and URL key ``names`` may mean."""
    prefix = playlist.site.prefix if playlist.site is not None else ""
    found = set()
    for name in names:
        if _SCHEME.match(name):
            found.add(url_key(name))
        else:
            found.update(candidates(name, playlist.collection, prefix))
    return found


def resolve(playlist, names: list[str], by_id: dict, by_url: dict, url_key) -> list:
    """The articles ``names`` name, in their order, each once, never the
    playlist itself."""
    prefix = playlist.site.prefix if playlist.site is not None else ""
    found = []
    for name in names:
        if _SCHEME.match(name):
            target = by_url.get(url_key(name))
        else:
            target = next((by_id[i] for i in candidates(name, playlist.collection, prefix) if i in by_id), None)
        if target is not None and target is not playlist and target not in found:
            found.append(target)
    return found
