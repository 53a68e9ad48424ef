"""A site's settings from its ``_config.yml``: the title and address every
article of the site is served under, and the collections it declares.

Only what the model uses is kept; the rest of a Jekyll configuration
(layouts, plugins, defaults) describes how pages are built, not the news.
"""
from __future__ import annotations

import os
import re

from . import values
from .errors import LoadError
from .frontmatter import decode
from .yamldoc import parse_yaml

CONFIG_NAMES = ("_config.yml", "_config.yaml")
# The settings kept that are text: `title: On` or `baseurl: 2020` is the words written.
TEXT_KEYS = dict.fromkeys(("title", "url", "baseurl", "webUrl", "description", "locale", "topic"), {})
MAX_CONFIG_BYTES = 1024 * 1024
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def config_path(root: str) -> str | None:
    for name in CONFIG_NAMES:
        if os.path.isfile(os.path.join(root, name)):
            return name
    return None


def read(root: str) -> dict | None:
    """The site record of the folder ``root``, or None when it holds no
    ``_config.yml``. A configuration that cannot be read raises LoadError
    naming it, so the load reports it like any other bad file."""
    name = config_path(root)
    if name is None:
        return None
    try:
        with open(os.path.join(root, name), "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise LoadError(name, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise LoadError(name, f"over the {MAX_CONFIG_BYTES:,}-byte limit for a site configuration")
    data = parse_yaml(name, decode(name, raw), text_keys=TEXT_KEYS) or {}
    if not isinstance(data, dict):
        raise LoadError(name, "a site configuration must be a mapping", 1)
    return record(data)


def _string(data: dict, key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def record(data: dict) -> dict:
    """A parsed configuration to the site record the store keeps."""
    baseurl = _string(data, "baseurl") or ""
    if baseurl and not baseurl.startswith("/"):
        baseurl = "/" + baseurl
    return {
        "title": _string(data, "title"),
        "url": _string(data, "url"),
        "baseurl": baseurl.rstrip("/"),
        "webUrl": _string(data, "webUrl"),
        "description": _string(data, "description"),
        "locale": _string(data, "locale"),
        "topic": _string(data, "topic"),
        "collections": collections(data.get("collections")),
    }


def collections(value) -> list[dict]:
    """Jekyll's ``collections``: a mapping of label to metadata, or a list
    of labels. Each becomes {"name", "title", "output", "extra"}; the title
    is the metadata's own title (or label, or name) when it gives one."""
    if isinstance(value, list):
        value = {item: None for item in value if isinstance(item, str)}
    if not isinstance(value, dict):
        return []
    found = []
    for label, meta in value.items():
        if not isinstance(label, str) or not label.strip():
            continue
        meta = meta if isinstance(meta, dict) else {}
        title = next((_string(meta, k) for k in ("title", "label", "name") if _string(meta, k)), None)
        output = meta.get("output")
        found.append({"name": label.strip().lstrip("_"), "title": title,
                      "output": output if isinstance(output, bool) else None,
                      "extra": values.drop_none({k: v for k, v in meta.items()
                                                     if k not in ("title", "label", "name", "output")})})
    return found


def name_for(site: dict, folder: str) -> str:
    """A short name for the site, the same wherever its folder is: the last
    part of its baseurl, else its title, else the folder's name."""
    for value in (site.get("baseurl", "").rsplit("/", 1)[-1], site.get("title"),
                  os.path.basename(folder.rstrip("/"))):
        slug = values.slugify(value or "")
        if slug:
            return slug
    return "site"


def address(site: dict) -> str | None:
    """Where the site is served: its url and baseurl together."""
    url = site.get("url")
    if not url:
        return None
    return url.rstrip("/") + (site.get("baseurl") or "")


def resolve(url: str, base: str | None) -> str:
    """An image or link URL relative to the site (``/assets/x.png``) made
    absolute against the site's address; absolute and protocol-relative
    URLs, and every URL of a site without an address, stay as they are."""
    if not base or not url or _SCHEME.match(url) or url.startswith("//"):
        return url
    return base + "/" + url.lstrip("/")


def has_relative(images) -> bool:
    """Whether any of a record's images has a URL relative to its site."""
    return any(image.get("url") and resolve(image["url"], "/") != image["url"] for image in images or ())
