"""Turn a parsed mapping (front matter, YAML document or API item) into a
normalised record: typed fields checked, dates in UTC, everything untyped kept
in ``extra`` so nothing in a file is lost."""
from __future__ import annotations

from loaders.regions import region
from loaders.values import (NO_VALUE, FieldError, as_bool, as_date, as_int, as_list, as_text, drop_none, kind,
                            slugify)


IMAGE_KEYS = ("url", "width", "height", "title", "isCached")


def image(key: str, value, where: str) -> dict:
    if isinstance(value, str):  # topic files list bare URLs
        return {"url": value, "width": None, "height": None, "title": None, "isCached": None, "extra": {}}
    if not isinstance(value, dict):
        raise FieldError(key, f"{where} must be a mapping with a url, got {kind(value)}")
    url = as_text(key, value.get("url"), path=f"{where}.url")
    if not url:
        raise FieldError(key, f"{where} has no url")
    return {
        "url": url,
        "width": as_int(key, value.get("width"), path=f"{where}.width"),
        "height": as_int(key, value.get("height"), path=f"{where}.height"),
        "title": as_text(key, value.get("title"), path=f"{where}.title"),
        "isCached": as_bool(key, value.get("isCached"), path=f"{where}.isCached"),
        "extra": drop_none({k: v for k, v in value.items() if k not in IMAGE_KEYS}),
    }


def images(key: str, value, where: str | None = None) -> list[dict]:
    where = where or key
    if isinstance(value, (str, dict)):
        value = [value]  # one image, given alone
    return [image(key, item, f"{where}[{i}]") for i, item in enumerate(as_list(key, value, path=where))]


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
        raise FieldError(key, f"{where} must be a mapping, got {kind(value)}")
    name = as_text(key, value.get("name"), path=f"{where}.name")
    domain = as_text(key, value.get("domain"), path=f"{where}.domain")
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
        "extra": drop_none({k: v for k, v in value.items() if k not in used}),
    }



def topic_names(key: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    names = []
    for i, item in enumerate(as_list(key, value)):
        if isinstance(item, dict) and "name" in item:
            item = item["name"]  # a topic described where it is named: its name
        name = as_text(key, item, path=f"{key}[{i}]")
        if name and name.strip() and slugify(name):
            names.append(name.strip())
    return names


def tags(key: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    found: list[str] = []
    for i, item in enumerate(as_list(key, value)):
        text = as_text(key, item, path=f"{key}[{i}]")
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
        raise FieldError(key, f"{key} must be a mapping, got {kind(value)}")
    place: dict = {}
    for field in LOCATION_TEXT:
        text = as_text(key, value.get(field), path=f"{key}.{field}")
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
        raise FieldError(key, f"{path} must be a number from -{bound} to {bound}, got {kind(value)} "
                              f"{value!r}"[:200])
    return number


RELATED_KEYS = ("title", "excerpt", "publishedDateTime", "webUrl", "ampWebUrl", "cdnAmpWebUrl",
                "type", "provider", "quality", "images")


def related_item(key: str, value, where: str) -> dict:
    if not isinstance(value, dict):
        raise FieldError(key, f"{where} must be a mapping, got {kind(value)}")
    value, aliased = _aliased(value)
    try:
        published = as_date(key, value.get("publishedDateTime"))
    except FieldError as exc:
        raise FieldError(key, f"{where}.{exc}") from None
    return {
        "title": as_text(key, value.get("title"), path=f"{where}.title") or "",
        "excerpt": as_text(key, value.get("excerpt"), path=f"{where}.excerpt"),
        "url": as_text(key, value.get("webUrl"), path=f"{where}.webUrl"),
        "ampUrl": as_text(key, value.get("ampWebUrl"), path=f"{where}.ampWebUrl"),
        "cdnAmpUrl": as_text(key, value.get("cdnAmpWebUrl"), path=f"{where}.cdnAmpWebUrl"),
        "publishedAt": published,
        "type": as_text(key, value.get("type"), path=f"{where}.type"),
        "quality": as_int(key, value.get("quality"), path=f"{where}.quality"),
        "provider": provider_ref(key, value.get("provider"), f"{where}.provider"),
        "images": images(key, value.get("images"), f"{where}.images"),
        "extra": drop_none({k: v for k, v in value.items() if k not in RELATED_KEYS and k not in aliased}),
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
    title = as_text("title", data.get("title"))
    if title is None:
        # People and communities are named, not titled.
        title = as_text("name", data.get("name"))
    provider = provider_ref("provider", data.get("provider"))
    extra = drop_none({k: v for k, v in data.items() if k not in ARTICLE_KEYS and k not in aliased})
    if provider and provider["extra"]:
        extra["provider"] = provider["extra"]
    if "name" in data and data.get("title") is not None:
        extra["name"] = drop_none({"name": data["name"]}).get("name")
    record = {
        "id": id,
        "slug": slug,
        "collection": collection,
        "title": title,
        "excerpt": as_text("excerpt", data.get("excerpt")),
        "body": body,
        "type": as_text("type", data.get("type")),
        "url": as_text("webUrl", data.get("webUrl")),
        "originalUrl": as_text("originalUrl", data.get("originalUrl")),
        "ampUrl": as_text("ampWebUrl", data.get("ampWebUrl")),
        "cdnAmpUrl": as_text("cdnAmpWebUrl", data.get("cdnAmpWebUrl")),
        "publishedAt": as_date("publishedDateTime", data.get("publishedDateTime")),
        "quality": as_int("quality", data.get("quality")),
        "heat": as_int("heat", data.get("heat")),
        "published": as_bool("published", data.get("published")),
        "removed": as_bool("removed", data.get("removed")),
        "featuredContent": as_text("featuredContent", data.get("featuredContent")),
        "provider": provider,
        "topics": topic_names("topics", data.get("topics")),
        "images": images("images", data.get("images")),
        "related": [related_item("related", item, f"related[{i}]")
                    for i, item in enumerate(as_list("related", data.get("related")))],
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
            record[field] = as_date(key, data[key])
    # A profile's organisation (store/people.py): a provider as articles name one.
    affiliation = provider_ref("affiliation", data.get("affiliation"))
    if affiliation is not None:
        record["affiliation"] = affiliation
    return record


TOPIC_KEYS = ("name", "keywords", "hashtags", "images")


def topic(data: dict) -> dict:
    name = as_text("name", data.get("name")) or as_text("_id", data.get("_id"))
    if not name or not slugify(name):
        raise FieldError("name", "a topic needs a name")
    strings = lambda key: [as_text(key, v, path=f"{key}[{i}]") for i, v in enumerate(as_list(key, data.get(key)))]
    return {
        "slug": slugify(name),
        "name": name,
        "keywords": [v for v in strings("keywords") if v],
        "hashtags": [v for v in strings("hashtags") if v],
        "images": images("images", data.get("images")),
        "extra": drop_none({k: v for k, v in data.items() if k not in TOPIC_KEYS}),
    }


ORGANIZATION_KEYS = ("name", "domain", "images", "description")


def organization(data: dict, fallback_domain: str | None) -> dict:
    domain = as_text("domain", data.get("domain")) or as_text("_id", data.get("_id")) or fallback_domain
    if not domain:
        raise FieldError("domain", "an organization needs a domain")
    domain = domain.strip().lower()
    return {
        "domain": domain,
        "name": as_text("name", data.get("name")) or domain,
        "images": images("images", data.get("images")),
        "description": as_text("description", data.get("description")),
        "extra": drop_none({k: v for k, v in data.items() if k not in ORGANIZATION_KEYS}),
    }
