"""People: the profiles of a site (``_people``, ``type: profile``).

A profile stays an article as well (its id, its place in lists, counts,
facets and search are what they were), and gets a typed view here: name,
bio, location, the organisation it belongs to (a Provider), its website and
its links on social networks with their follower counts. The files give
these keys loosely (a network as a mapping with url, username and
followers or subscribers, or as a bare handle or URL), so they are read
leniently: a value of an unexpected shape is left out of the typed view
and stays in the article's ``extra``.
"""
from __future__ import annotations

from typing import Callable

# Networks a profile may link to, as front-matter keys.
NETWORKS = ("twitter", "linkedin", "youtube", "twitch", "facebook", "instagram", "github",
            "medium", "tiktok", "mastodon", "reddit", "discord", "bluesky", "threads")
# How many people follow the account, whatever the network calls them.
AUDIENCE_KEYS = ("followers", "subscribers", "members")


def is_profile(record: dict) -> bool:
    """A file of a ``people`` collection, or any file typed ``profile``;
    a playlist (``type: collection``) of a people folder is no person."""
    kind = record.get("type")
    return kind != "collection" and (kind == "profile" or record.get("collection") == "people")


def _text(value) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _count(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().replace(",", "").isdigit():
        return int(value.strip().replace(",", ""))
    return None


class SocialLink:
    __slots__ = ("network", "url", "username", "followers")

    def __init__(self, network: str, url: str | None, username: str | None, followers: int | None) -> None:
        self.network = network
        self.url = url
        self.username = username
        self.followers = followers


def social_link(network: str, value) -> SocialLink | None:
    if isinstance(value, dict):
        url, username = _text(value.get("url")), _text(value.get("username"))
        followers = next((_count(value[k]) for k in AUDIENCE_KEYS if _count(value.get(k)) is not None), None)
    else:
        text = _text(value)
        if text is None:
            return None
        url, username, followers = (text, None, None) if "/" in text else (None, text.lstrip("@"), None)
    if url is None and username is None:
        return None
    return SocialLink(network, url, username, followers)


def location_text(value) -> str | None:
    """A place as text: a string, or a mapping's name and address parts."""
    if isinstance(value, dict):
        parts = [_text(value.get(k)) for k in ("name", "address", "city", "region", "state",
                                               "country", "countryOrRegion")]
        parts = [p for p in dict.fromkeys(parts) if p]
        return ", ".join(parts) or None
    return _text(value)


class Person:
    """``article`` is the profile's article; ``affiliation`` a Provider."""

    __slots__ = ("id", "article", "name", "bio", "location", "affiliation", "affiliation_name", "website",
                 "links", "followers")

    def __init__(self, article, record: dict, affiliation) -> None:
        extra = record.get("extra") or {}
        self.article = article
        self.id = f"person:{article.id}"
        self.name = _text(extra.get("name")) or article.title
        self.bio = _text(extra.get("bio")) or article.excerpt
        self.location = location_text(extra.get("location"))
        self.affiliation = affiliation
        ref = record.get("affiliation")
        self.affiliation_name = ref.get("name") if ref else None  # as the profile gives it
        self.website = _text(extra.get("website"))
        links = [social_link(network, extra[network]) for network in NETWORKS if network in extra]
        self.links: list[SocialLink] = [link for link in links if link is not None]
        counts = [link.followers for link in self.links if link.followers is not None]
        self.followers = sum(counts) if counts else None  # across every network

    def link(self, network: str) -> SocialLink | None:
        return next((link for link in self.links if link.network == network), None)

    # What the article already says.
    topics = property(lambda self: self.article.topics)
    images = property(lambda self: self.article.images)
    image = property(lambda self: self.article.image)
    heat = property(lambda self: self.article.heat)
    url = property(lambda self: self.article.url)
    site = property(lambda self: self.article.site)


FIELDS: dict[str, tuple[Callable, str, type]] = {
    "NAME": (lambda p: p.name.casefold(), "ASC", str),
    "HEAT": (lambda p: p.heat, "DESC", int),
    "FOLLOWERS": (lambda p: p.followers, "DESC", int),
}
DEFAULT_ORDER = (("NAME", "ASC"),)
