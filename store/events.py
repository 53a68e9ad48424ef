"""Events: files of a site's ``_events`` collection, or any file that gives
a start (``startDateTime``).

Like a profile, an event stays an article and gets a typed view: its start
and end, where it happens, whether it is online when the file says so, and
its address. An event is upcoming until it ends (its start, when it gives
no end), and past after; one without a start is neither.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from loaders.values import parse_datetime

from .people import location_text

# Keys that say outright whether an event is online.
ONLINE_KEYS = ("online", "isOnline", "virtual", "isVirtual")
# schema.org's eventAttendanceMode, by the end of its name or URL.
ATTENDANCE = {"onlineeventattendancemode": True, "offlineeventattendancemode": False,
              "online": True, "offline": False}
# Words that, as the whole location or type, say the event is online.
ONLINE_WORDS = frozenset({"online", "virtual", "remote", "webinar", "livestream", "live stream"})


def is_event(record: dict) -> bool:
    """A file of an ``events`` collection, or one with a start; a playlist
    (``type: collection``) of an events folder is no event."""
    if record.get("type") == "collection":
        return False
    return record.get("collection") == "events" or bool(record.get("startsAt"))


def online(extra: dict, location: str | None, kind: str | None) -> bool | None:
    """True or False only where the file says so: a flag, schema.org's
    attendance mode, or a location or type that is a word for online."""
    for key in ONLINE_KEYS:
        value = extra.get(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    for key in ("eventAttendanceMode", "attendanceMode"):
        value = extra.get(key)
        if isinstance(value, str):
            mode = value.strip().rstrip("/").rsplit("/", 1)[-1].lower()
            if mode in ATTENDANCE:
                return ATTENDANCE[mode]
    for word in (location, kind):
        if word and word.strip().lower() in ONLINE_WORDS:
            return True
    return None


def _date(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


class Event:
    """``article`` is the event's article."""

    __slots__ = ("id", "article", "starts_at", "ends_at", "starts_ts", "ends_ts", "location", "online")

    def __init__(self, article, record: dict) -> None:
        extra = record.get("extra") or {}
        self.article = article
        self.id = f"event:{article.id}"
        self.starts_at = _date(record.get("startsAt"))
        self.ends_at = _date(record.get("endsAt"))
        self.starts_ts = self.starts_at.timestamp() if self.starts_at else None
        self.ends_ts = self.ends_at.timestamp() if self.ends_at else None
        location = extra.get("location", extra.get("venue"))
        self.location = location_text(location)
        self.online = online(extra, self.location, article.type)

    def upcoming(self, now: float) -> bool | None:
        """Upcoming (True) until it ends, past (False) after; None without a start."""
        until = self.ends_ts if self.ends_ts is not None else self.starts_ts
        return None if until is None else until >= now

    # What the article already says.
    title = property(lambda self: self.article.title)
    excerpt = property(lambda self: self.article.excerpt)
    type = property(lambda self: self.article.type)
    url = property(lambda self: self.article.url)
    provider = property(lambda self: self.article.provider)
    topics = property(lambda self: self.article.topics)
    images = property(lambda self: self.article.images)
    image = property(lambda self: self.article.image)
    site = property(lambda self: self.article.site)


FIELDS: dict[str, tuple[Callable, str, type]] = {
    "START": (lambda e: e.starts_ts, "ASC", float),
    "END": (lambda e: e.ends_ts, "ASC", float),
    "TITLE": (lambda e: e.title.casefold(), "ASC", str),
}
