"""Turn a parsed mapping (front matter, YAML document or API item) into a
normalised record: typed fields checked, dates in UTC, everything untyped kept
in ``extra`` so nothing in a file is lost."""
from __future__ import annotations

import base64
import datetime as dt
import re
import unicodedata

from loaders.errors import LoadError
from loaders.regions import region


# Records one file may give (API items, or mappings of a YAML list). A real
# page lists tens, a data file thousands; 8 MB of `{}` items would be 2.6
# million articles, minutes and gigabytes before anything is written.
RECORDS_MAX = 20_000


def check_records(path: str, count: int, what: str) -> None:
    if count > RECORDS_MAX:
        raise LoadError(path, f"refused: {count:,} {what} in one file, more than {RECORDS_MAX:,}")


class FieldError(ValueError):
    """A field with the wrong type; ``key`` is the top-level key to point at."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(value: str) -> str:
    """"Teams integration" -> "teams-integration"; accents folded to ASCII."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("-", folded.lower()).strip("-")


def parse_datetime(value) -> dt.datetime:
    """A date or datetime, or an ISO-8601 string with ``Z`` or an offset, to an
    aware UTC datetime. Naive values are taken as UTC, as Jekyll does."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = dt.datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a date: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def format_datetime(moment: dt.datetime) -> str:
    text = moment.astimezone(dt.timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def _text(key: str, value, *, path: str | None = None):
    if isinstance(value, str):
        # A stray byte-order mark inside a value (pasted text) is invisible
        # and breaks equality and search: removed.
        return value.replace("\ufeff", "") if "\ufeff" in value else value
    if value is None:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # JSON's `"title": 2020` is a title, not a type error
    raise FieldError(key, f"{path or key} must be text, got {_kind(value)}")


# Text that a generator wrote for "no value" (Python's None, JSON's null).
NO_VALUE = frozenset({"", "None", "none", "null", "Null", "NULL"})


# GraphQL's Int is 32 bits: a number past them could be stored, but every
# answer holding it would be an error.
INT_RANGE = (-2**31, 2**31 - 1)


def _int(key: str, value, *, path: str | None = None):
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        number = value
    elif isinstance(value, str) and value.strip() in NO_VALUE:
        return None
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    else:
        raise FieldError(key, f"{path or key} must be an integer, got {_kind(value)} {value!r}"[:200])
    if number is not None and not INT_RANGE[0] <= number <= INT_RANGE[1]:
        raise FieldError(key, f"{path or key} must be an integer from {INT_RANGE[0]:,} to {INT_RANGE[1]:,}, "
                              f"got {str(number)[:40]}")
    return number


def _bool(key: str, value, *, path: str | None = None):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FieldError(key, f"{path or key} must be true or false, got {_kind(value)} {value!r}"[:200])


def _date(key: str, value):
    if value is None or value == "":
        return None
    try:
        return format_datetime(parse_datetime(value))
    except OverflowError:  # 9999-12-31T23:00:00-05:00: a date, past the last one in UTC
        shown = value.isoformat() if isinstance(value, dt.date) else value
        raise FieldError(key, f"{key}: {shown} is outside the dates UTC can hold"[:200]) from None
    except (ValueError, TypeError):
        raise FieldError(key, f"{key} is not an ISO-8601 date: {value!r}"[:200]) from None


def _list(key: str, value, *, path: str | None = None) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise FieldError(key, f"{path or key} must be a list, got {_kind(value)}")


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", str: "text", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


# Lists and mappings one value may nest. The store writes records with
# orjson, which stops at 255 levels (a record sits a few deep); real
# front matter nests a handful.
NESTING_MAX = 64


class _TooDeep(Exception):
    pass


def _drop_none(mapping: dict) -> dict:
    # Keys as JSON writes them: YAML's may be numbers, dates or null (`? : x`).
    out = {}
    for k, v in mapping.items():
        if v is not None:
            key = k if type(k) is str else str(k)
            try:
                out[key] = _jsonable(v)
            except _TooDeep:
                raise FieldError(key, f"{key} nests lists or mappings more than {NESTING_MAX} deep") from None
    return out


def _jsonable(value, depth: int = 0):
    """Untyped values go to JSON: dates become ISO strings; what YAML's
    explicit tags build beside them (``!!binary``, ``!!set``, ``!!omap``)
    becomes what JSON can hold: base64 text, a sorted list, a list."""
    if isinstance(value, dt.datetime):
        try:
            return format_datetime(parse_datetime(value))
        except OverflowError:  # 0001-01-01 00:00:00 +05:00 has no UTC time: kept as written
            return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple, set, frozenset)) and depth == NESTING_MAX:
        raise _TooDeep
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):  # sorted: a record's hash must not vary by run
        return [_jsonable(v, depth + 1) for v in sorted(value, key=lambda v: (type(v).__name__, repr(v)))]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if type(value) is int and not -2**63 <= value < 2**64:
        return str(value)  # past what the store writes as a number: kept as its digits
    return value


IMAGE_KEYS = ("url", "width", "height", "title", "isCached")


def image(key: str, value, where: str) -> dict:
    if isinstance(value, str):  # topic files list bare URLs
        return {"url": value, "width": None, "height": None, "title": None, "isCached": None, "extra": {}}
    if not isinstance(value, dict):
        raise FieldError(key, f"{where} must be a mapping with a url, got {_kind(value)}")
    url = _text(key, value.get("url"), path=f"{where}.url")
    if not url:
        raise FieldError(key, f"{where} has no url")
    return {
        "url": url,
        "width": _int(key, value.get("width"), path=f"{where}.width"),
        "height": _int(key, value.get("height"), path=f"{where}.height"),
        "title": _text(key, value.get("title"), path=f"{where}.title"),
        "isCached": _bool(key, value.get("isCached"), path=f"{where}.isCached"),
        "extra": _drop_none({k: v for k, v in value.items() if k not in IMAGE_KEYS}),
    }


def images(key: str, value, where: str | None = None) -> list[dict]:
    where = where or key
    if isinstance(value, (str, dict)):
        value = [value]  # one image, given alone
    return [image(key, item, f"{where}[{i}]") for i, item in enumerate(_list(key, value, path=where))]


PROVIDER_KEYS = ("name", "domain", "images")


def provider_ref(key: str, value, where: str | None = None) -> dict | None:
    """A provider as an article names it: {name, domain, images, extra}.
    Older sites give the domain as ``id`` ({name, id: example.com}); where
    the id is a name of their own (``gatech``), it still identifies them."""
    where = where or key
    if value is None:
        return None
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise FieldError(key, f"{where} must be a mapping, got {_kind(value)}")
    name = _text(key, value.get("name"), path=f"{where}.name")
    domain = _text(key, value.get("domain"), path=f"{where}.domain")
    used = PROVIDER_KEYS
    if not domain and isinstance(value.get("id"), str) and value["id"].strip():
        domain, used = value["id"], PROVIDER_KEYS + ("id",)
    domain = domain.strip().lower() if domain else None
    if not name and not domain:
        return None
    return {
        "name": name,
        "domain": domain,
        "images": images(key, value.get("images"), f"{where}.images"),
        "extra": _drop_none({k: v for k, v in value.items() if k not in used}),
    }



def topic_names(key: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    names = []
    for i, item in enumerate(_list(key, value)):
        if isinstance(item, dict) and "name" in item:
            item = item["name"]  # a topic described where it is named: its name
        name = _text(key, item, path=f"{key}[{i}]")
        if name and name.strip() and slugify(name):
            names.append(name.strip())
    return names


def tags(key: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    found: list[str] = []
    for i, item in enumerate(_list(key, value)):
        text = _text(key, item, path=f"{key}[{i}]")
        text = text.strip() if text else ""
        text = region(text) or text  # one region is one tag, whatever its case
        if text and text not in found:
            found.append(text)
    return found


# The COVID-19 news API's file-level block: the place a feed's news is about.
LOCATION_TEXT = ("isoCode", "countryOrRegion", "provinceOrState", "county")
COORDINATES = (("lat", 90), ("long", 180))


def location(key: str, value) -> dict | None:
    """A place as the news API gives it, its text fields stripped (an ISO
    code as a region tag is written), its coordinates numbers in range;
    None when it says nothing."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError(key, f"{key} must be a mapping, got {_kind(value)}")
    place: dict = {}
    for field in LOCATION_TEXT:
        text = _text(key, value.get(field), path=f"{key}.{field}")
        place[field] = text.strip() or None if text else None
    if place["isoCode"]:
        place["isoCode"] = region(place["isoCode"]) or place["isoCode"]
    for field, bound in COORDINATES:
        place[field] = _coordinate(key, value.get(field), bound, f"{key}.{field}")
    return place if any(v is not None for v in place.values()) else None


def _coordinate(key: str, value, bound: int, path: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() in NO_VALUE):
        return None
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
    # GraphQL's Float holds no infinity or NaN: such a value could be stored
    # and never answered.
    if number is None or not -bound <= number <= bound:
        raise FieldError(key, f"{path} must be a number from -{bound} to {bound}, got {_kind(value)} "
                              f"{value!r}"[:200])
    return number


RELATED_KEYS = ("title", "excerpt", "publishedDateTime", "webUrl", "ampWebUrl", "cdnAmpWebUrl",
                "type", "provider", "quality", "images")


def related_item(key: str, value, where: str) -> dict:
    if not isinstance(value, dict):
        raise FieldError(key, f"{where} must be a mapping, got {_kind(value)}")
    value, aliased = _aliased(value)
    try:
        published = _date(key, value.get("publishedDateTime"))
    except FieldError as exc:
        raise FieldError(key, f"{where}.{exc}") from None
    return {
        "title": _text(key, value.get("title"), path=f"{where}.title") or "",
        "excerpt": _text(key, value.get("excerpt"), path=f"{where}.excerpt"),
        "url": _text(key, value.get("webUrl"), path=f"{where}.webUrl"),
        "ampUrl": _text(key, value.get("ampWebUrl"), path=f"{where}.ampWebUrl"),
        "cdnAmpUrl": _text(key, value.get("cdnAmpWebUrl"), path=f"{where}.cdnAmpWebUrl"),
        "publishedAt": published,
        "type": _text(key, value.get("type"), path=f"{where}.type"),
        "quality": _int(key, value.get("quality"), path=f"{where}.quality"),
        "provider": provider_ref(key, value.get("provider"), f"{where}.provider"),
        "images": images(key, value.get("images"), f"{where}.images"),
        "extra": _drop_none({k: v for k, v in value.items() if k not in RELATED_KEYS and k not in aliased}),
    }


# Front-matter keys the schema types. Anything else lands in `extra`.
ARTICLE_KEYS = frozenset({
    "title", "name", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl",
    "cdnAmpWebUrl", "type", "quality", "heat", "published", "removed", "featuredContent",
    "provider", "topics", "images", "related", "tags", "affiliation",
    "startDateTime", "startDate", "endDateTime", "endDate",
})
# An event's start and end (store/events.py), under the first key given.
EVENT_DATES = {"startsAt": ("startDateTime", "startDate"), "endsAt": ("endDateTime", "endDate")}

# Keys that stand for a typed one in some generations of the family, in the
# order they are tried after it. An alias that gives the value leaves
# `extra`; one that does not (a sourceUrl beside a webUrl) stays there.
ALIASES = {
    "webUrl": ("sourceUrl", "originalUrl"),  # `url` is the first present of the three
    "ampWebUrl": ("ampUrl",),
    "cdnAmpWebUrl": ("cdnAmpUrl",),
    "excerpt": ("abstract",),
    "quality": ("score",),
}


_NONE: frozenset[str] = frozenset()


# Where a file's words are text, whatever YAML 1.1 would make of them
# (yamlfast.keep_text): a plain `title: yes`, `name: 2020-01-01` or
# `tags: [NO, ON]` is the text written. Each key maps to the text keys of
# the mapping it may hold ({} for a text field; "" among them when the
# value may also be text itself); dates and numbers (publishedDateTime,
# heat, width, followers) are not named, and parse as before.
_IMAGE_TEXT = {"url": {}, "title": {}, "attribution": {}, "alt": {}, "caption": {}}
_PLACE_TEXT = dict.fromkeys(("", "name", "address", "city", "region", "state", "country",
                             "countryOrRegion", "provinceOrState", "county", "isoCode"), {})
_PROVIDER_TEXT = {"": {}, "name": {}, "domain": {}, "id": {}, "description": {}, "images": _IMAGE_TEXT}
_ARTICLE_TEXT = {
    **dict.fromkeys(("title", "name", "excerpt", "abstract", "type", "featuredContent", "category",
                     "categories", "keywords", "hashtags", "webUrl", "sourceUrl", "originalUrl",
                     "ampWebUrl", "ampUrl", "cdnAmpWebUrl", "cdnAmpUrl", "locale", "tags"), {}),
    "topics": {"": {}, "name": {}}, "images": _IMAGE_TEXT, "provider": _PROVIDER_TEXT,
}
TEXT_KEYS = {
    **_ARTICLE_TEXT,
    "related": _ARTICLE_TEXT, "affiliation": _PROVIDER_TEXT,
    # people and events (store/people.py, store/events.py)
    "bio": {}, "website": {}, "venue": _PLACE_TEXT, "location": _PLACE_TEXT,
    # topic and organisation files
    "_id": {}, "parent": {}, "taxonomy": {}, "domain": {}, "description": {}, "services": {},
}


def _aliased(data: dict) -> tuple[dict, frozenset[str]]:
    """``data`` with each typed key given by its first present alias, and
    the alias keys so used."""
    used = None
    for key, aliases in ALIASES.items():
        if data.get(key) is None:
            for alias in aliases:
                if data.get(alias) is not None:
                    if used is None:
                        data, used = dict(data), set()
                    data[key] = data[alias]
                    used.add(alias)
                    break
    return data, (frozenset(used) - ARTICLE_KEYS if used else _NONE)


def article(data: dict, *, id: str, slug: str, collection: str, body: str | None) -> dict:
    """A front-matter mapping (or API item) to an article record; the caller
    adds ``source``."""
    data, aliased = _aliased(data)
    title = _text("title", data.get("title"))
    if title is None:
        # People and communities are named, not titled.
        title = _text("name", data.get("name"))
    provider = provider_ref("provider", data.get("provider"))
    extra = _drop_none({k: v for k, v in data.items() if k not in ARTICLE_KEYS and k not in aliased})
    if provider and provider["extra"]:
        extra["provider"] = provider["extra"]
    if "name" in data and data.get("title") is not None:
        extra["name"] = _drop_none({"name": data["name"]}).get("name")
    record = {
        "id": id,
        "slug": slug,
        "collection": collection,
        "title": title,
        "excerpt": _text("excerpt", data.get("excerpt")),
        "body": body,
        "type": _text("type", data.get("type")),
        "url": _text("webUrl", data.get("webUrl")),
        "originalUrl": _text("originalUrl", data.get("originalUrl")),
        "ampUrl": _text("ampWebUrl", data.get("ampWebUrl")),
        "cdnAmpUrl": _text("cdnAmpWebUrl", data.get("cdnAmpWebUrl")),
        "publishedAt": _date("publishedDateTime", data.get("publishedDateTime")),
        "quality": _int("quality", data.get("quality")),
        "heat": _int("heat", data.get("heat")),
        "published": _bool("published", data.get("published")),
        "removed": _bool("removed", data.get("removed")),
        "featuredContent": _text("featuredContent", data.get("featuredContent")),
        "provider": provider,
        "topics": topic_names("topics", data.get("topics")),
        "images": images("images", data.get("images")),
        "related": [related_item("related", item, f"related[{i}]")
                    for i, item in enumerate(_list("related", data.get("related")))],
        "extra": extra,
    }
    # Kept only when given: a record without them is the record it was
    # before they were typed, with the same hash, so a re-load of an
    # unchanged site changes nothing.
    found = tags("tags", data.get("tags"))
    if found:
        record["tags"] = found
    for field, keys in EVENT_DATES.items():
        key = next((k for k in keys if data.get(k) not in (None, "")), None)
        if key is not None:
            record[field] = _date(key, data[key])
    # A profile's organisation (store/people.py): a provider as articles name one.
    affiliation = provider_ref("affiliation", data.get("affiliation"))
    if affiliation is not None:
        record["affiliation"] = affiliation
    return record


TOPIC_KEYS = ("name", "keywords", "hashtags", "images")


def topic(data: dict) -> dict:
    name = _text("name", data.get("name")) or _text("_id", data.get("_id"))
    if not name or not slugify(name):
        raise FieldError("name", "a topic needs a name")
    strings = lambda key: [_text(key, v, path=f"{key}[{i}]") for i, v in enumerate(_list(key, data.get(key)))]
    return {
        "slug": slugify(name),
        "name": name,
        "keywords": [v for v in strings("keywords") if v],
        "hashtags": [v for v in strings("hashtags") if v],
        "images": images("images", data.get("images")),
        "extra": _drop_none({k: v for k, v in data.items() if k not in TOPIC_KEYS}),
    }


ORGANIZATION_KEYS = ("name", "domain", "images", "description")


def organization(data: dict, fallback_domain: str | None) -> dict:
    domain = _text("domain", data.get("domain")) or _text("_id", data.get("_id")) or fallback_domain
    if not domain:
        raise FieldError("domain", "an organization needs a domain")
    domain = domain.strip().lower()
    return {
        "domain": domain,
        "name": _text("name", data.get("name")) or domain,
        "images": images("images", data.get("images")),
        "description": _text("description", data.get("description")),
        "extra": _drop_none({k: v for k, v in data.items() if k not in ORGANIZATION_KEYS}),
    }
