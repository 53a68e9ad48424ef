"""The JSON files of a site's static API, in each shape the family uses.

- a page: ``{"page", "value": [items], "nextPage"}``;
- the COVID-19 news API's: ``{"location": {...}, "updatedDateTime", "news": [items]}``,
  whose ``location`` (the place the feed is about) each item keeps in ``locations``;
- one article per file (``api/news/<date-slug>/index.json``);
- a list of articles;
- a web fragment ``{"path", "content": "<html>"}``: not article data, skipped.

A ``.json`` file that starts with front matter or holds Liquid is the site's
Jekyll template for such a file, not data: skipped and counted as a template.
Any other JSON (a package.json in a theme, say) is skipped as not news data.

An item's ``path`` names the collection file it was built from; when that
file is gone the item is stale (the API pages are an old build) and is not
served unless ``keep_stale`` asks for it.
"""
from __future__ import annotations

import os
import posixpath

import orjson

from . import normalize, values
from .errors import LoadError
from .files import article_id, collection_of
from .frontmatter import BOMS, decode
from .yamlfast import VALUES_MAX

BOM = b"\xef\xbb\xbf"
WIDE_BOMS = tuple(bom for bom, _, name in BOMS if name != "UTF-8")
# Keys that make a JSON object an article rather than some other data.
ARTICLE_MARKS = ("webUrl", "sourceUrl", "originalUrl", "publishedDateTime", "excerpt", "provider")


def fill(result, candidate, raw: bytes, options, rank: int, api: bool = True) -> None:
    """Set ``result``'s fragments, or why the file is skipped; raise
    LoadError for a file that is broken. ``api`` is False for JSON outside
    a Jekyll site's ``api/`` (a tsconfig.json with comments, a theme's
    package.json): the site's own source, never read as data."""
    path = candidate.path
    if raw.startswith(WIDE_BOMS):  # UTF-16 or UTF-32 (Windows tools): as UTF-8
        raw = decode(path, raw).encode("utf-8")
    data = raw[len(BOM):] if raw.startswith(BOM) else raw
    if data.lstrip()[:3] == b"---":
        result.skipped, result.template = "a Jekyll template (front matter in a .json file)", True
        return
    if not api:
        if b"{%" in data or b"{{" in data:
            result.skipped, result.template = "a Jekyll template (Liquid in a .json file)", True
        else:
            result.skipped = "JSON of the site's own source (outside api/), not its static API"
        return
    warned = len(result.warnings)
    try:
        value, data = _parse_json(path, data, result.warnings)
    except orjson.JSONDecodeError as exc:
        if b"{%" in data or b"{{" in data:
            del result.warnings[warned:]  # the site's source: how it is encoded is no fault
            result.skipped, result.template = "a Jekyll template (Liquid in a .json file)", True
            return
        raise LoadError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    items, shape = _items(value)
    if items is None:
        if candidate.explicit:
            raise LoadError(path, "not news data: expected a static API page ({\"value\": [...]}), "
                                  "a news list or an article")
        result.skipped = shape
        return
    values.check_records(path, len(items), "items")
    place = None
    if shape == "news":
        try:
            place = normalize.location("location", value.get("location"))
        except values.FieldError as exc:
            raise LoadError(path, str(exc)) from None
    site = _site_of(candidate)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise LoadError(path, f"{_where(shape, index)}must be an object")
        ident, named, fragment = _fragment(candidate, item, index, rank, shape)
        if place is not None:
            # The feed's place is where each of its items is about; an item
            # several feeds list is about each (store/merge.py joins them).
            fragment["data"]["locations"] = [place]
        if named is not None and not _exists(os.path.join(site, named), options):
            result.stale.append((ident, named))
            if not options.keep_stale:
                continue
        result.fragments.append(fragment)


def _parse_json(path: str, data: bytes, warnings: list) -> tuple[object, bytes]:
    """The JSON value, and the UTF-8 bytes it was parsed from: bytes that
    are not UTF-8 (Windows-1252, say) are read as decode reads front
    matter, with its warning."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "not valid UTF-8" not in exc.msg:
            raise
        data = decode(path, data, warnings).encode("utf-8")
        value = orjson.loads(data)
    # As many values as a YAML document may hold (yamlfast.VALUES_MAX):
    # 8 MB of `{}` in one list would be millions of objects to normalise.
    # Commas and brackets bound the count from above, so a usual page is
    # not walked.
    if data.count(b",") + data.count(b"{") + data.count(b"[") >= VALUES_MAX and _more_values(value):
        raise LoadError(path, f"refused: more than {VALUES_MAX:,} values in one document")
    return value, data


def _more_values(value) -> bool:
    """Whether ``value`` holds more than VALUES_MAX values."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > VALUES_MAX:
            return True
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _items(value) -> tuple[list | None, str]:
    """The article items a JSON value holds and the name of its shape, or
    (None, why it is skipped)."""
    if isinstance(value, dict):
        if isinstance(value.get("value"), list):
            return value["value"], "value"
        if "news" in value and (value["news"] is None or isinstance(value["news"], list)):
            return value["news"] or [], "news"
        if set(value) <= {"path", "content"} and isinstance(value.get("content"), str):
            return None, "a web fragment (a path and HTML), not article data"
        if _is_article(value):
            return [value], "article"
        return None, "JSON that is not news data"
    if isinstance(value, list) and value and all(isinstance(v, dict) and _is_article(v) for v in value):
        return value, "list"
    return None, "JSON that is not news data"


def _is_article(value: dict) -> bool:
    return isinstance(value.get("title"), str) and any(value.get(k) is not None for k in ARTICLE_MARKS)


def _site_of(candidate) -> str:
    """The site folder that an item's path is relative to: the one holding
    the ``api/`` folder the file is in, even when only that folder was loaded."""
    full = os.path.join(candidate.root, candidate.path)
    head, sep, _ = full.rpartition(f"{os.sep}api{os.sep}")
    return head if sep else candidate.root


def _exists(path: str, options) -> bool:
    known = options.exists.get(path)
    if known is None:
        known = options.exists[path] = os.path.isfile(path)
    return known


def _where(shape: str, index: int) -> str:
    return {"article": "", "list": f"[{index}] "}.get(shape, f"{shape}[{index}] ")


def _inside(path):
    """An item's path as a path inside the site (``/_news/x.md`` is
    ``_news/x.md``), or None for one that is not text or leaves the site
    (``../x.md``): the item is then named by its date and title."""
    if not isinstance(path, str) or not path.strip():
        return None
    path = posixpath.normpath(path.strip().replace("\\", "/")).lstrip("/")
    return None if path in ("", ".", "..") or path.startswith("../") else path


def _fragment(candidate, item: dict, index: int, rank: int,
              shape: str) -> tuple[str, str | None, dict]:
    """(article id, the collection file the item names or None, fragment)."""
    item = {k: v for k, v in item.items() if v is not None}
    item_path = _inside(item.pop("path", None))
    body = item.pop("content", None)
    named = None
    if isinstance(item_path, str) and item_path:
        id_, slug = article_id(item_path)
        collection = collection_of(item_path)
        if item_path.startswith("_") and "/" in item_path:
            named = item_path
    else:
        when = str(item.get("publishedDateTime", ""))[:10]
        slug = values.slugify(f"{when} {item.get('title', '')}") or f"item-{index}"
        id_, collection = f"news/{slug}", "news"
    id_ = candidate.id_prefix + id_
    try:
        record = normalize.article(item, id=id_, slug=slug, collection=collection,
                                   body=body if isinstance(body, str) else None)
    except values.FieldError as exc:
        where = _where(shape, index)
        raise LoadError(candidate.path, f"{where.rstrip()}{': ' if where else ''}{exc}") from None
    record["source"] = {"root": candidate.root, "path": candidate.path, "loader": "json-api"}
    return id_, named, {"kind": "article", "key": id_, "rank": rank, "data": record}
