"""A site's own keys for the model's fields: the mapping file.

A news site of another family (a Jekyll blog, a Hugo site) names its front
matter keys its own way: ``date`` for the publication date, ``summary`` for
the excerpt, ``link`` for the URL. A small YAML file, ``newsgraph.yaml``
beside the site (or ``newsgraph load --map FILE``), names them::

    articles:
      title: headline
      excerpt: [summary, description]   # the first present wins
      publishedAt: date
      url: link
      provider: source                   # a name, or a mapping {name, domain}
      provider.domain: source_domain
      topics: categories
      images: cover                      # a URL, or a list of them
      published: "!draft"                # "!" reads the key negated

Source keys may be dotted to reach into a mapping (``meta.canonical``). A
mapped value replaces what the family's own key would give; the source
key's value moves to the field (it is not kept twice in ``extra``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import yaml

from .errors import LoadError
from .normalize import TEXT_KEYS

FILE_NAME = "newsgraph.yaml"


class KeyMapError(LoadError):
    """The mapping file cannot be used: the whole load stops, as it would
    read every file of the site wrongly."""

# Model field -> the family's key it fills (normalize.article reads those).
FIELDS = {
    "title": "title", "excerpt": "excerpt", "publishedAt": "publishedDateTime",
    "url": "webUrl", "originalUrl": "originalUrl", "ampUrl": "ampWebUrl",
    "cdnAmpUrl": "cdnAmpWebUrl", "type": "type", "quality": "quality", "heat": "heat",
    "published": "published", "removed": "removed", "featuredContent": "featuredContent",
    "provider": "provider", "provider.name": "provider.name", "provider.domain": "provider.domain",
    "topics": "topics", "tags": "tags", "images": "images", "related": "related",
}
LISTS = frozenset({"images"})  # a single value is a list of one
# Fields whose source keys hold text (what normalize.TEXT_KEYS says of the
# family's own keys), so a mapped `headline: yes` is the words written.
TEXT_FIELDS = frozenset({"title", "excerpt", "url", "originalUrl", "ampUrl", "cdnAmpUrl", "type",
                         "featuredContent", "provider", "provider.name", "provider.domain", "topics",
                         "tags", "images"})


@dataclass(frozen=True)
class KeyMap:
    """Model field -> (source keys tried in order, negate)."""

    fields: tuple[tuple[str, tuple[str, ...], bool], ...]
    path: str = ""

    @cached_property
    def text_keys(self) -> dict:
        """normalize.TEXT_KEYS with this map's source keys of text fields."""
        keys = dict(TEXT_KEYS)
        for name, sources, _ in self.fields:
            if name not in TEXT_FIELDS:
                continue
            held = TEXT_KEYS.get(FIELDS[name], {})
            for source in sources:
                *heads, last = source.split(".")
                level = keys
                for head in heads:
                    level[head] = level = dict(level.get(head, {}))
                level[last] = {**level.get(last, {}), **held}
        return keys

    def apply(self, data: dict) -> dict:
        found: dict[str, object] = {}
        used: set[str] = set()
        for name, sources, negate in self.fields:
            for source in sources:
                value = _get(data, source)
                if value is not None:
                    found[name] = (not value) if negate and isinstance(value, bool) else value
                    if "." not in source:  # a dotted source leaves its mapping whole
                        used.add(source)
                    break
        if not found:
            return data
        out = {k: v for k, v in data.items() if k not in used}
        for name, value in found.items():
            target = FIELDS[name]
            if name in LISTS and not isinstance(value, list):
                value = [value]
            if "." in target:
                head, key = target.split(".", 1)
                current = out.get(head)
                current = dict(current) if isinstance(current, dict) else \
                    ({"name": current} if isinstance(current, str) else {})
                current[key] = value
                out[head] = current
            else:
                out[target] = value
        return out


def _get(data: dict, source: str):
    value = data
    for part in source.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def read(path: str) -> KeyMap:
    """The mapping file at ``path``; LoadError naming what is wrong in it."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as handle:
            document = yaml.safe_load(handle.read().decode("utf-8-sig"))
    except OSError as exc:
        raise KeyMapError(name, f"cannot read the mapping file: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KeyMapError(name, f"the mapping file is not valid YAML: {exc}") from None
    if document is None:
        return KeyMap((), path)
    articles = document.get("articles") if isinstance(document, dict) else None
    if not isinstance(articles, dict) or set(document) - {"articles"}:
        raise KeyMapError(name, "a mapping file holds one key, `articles`, mapping model fields "
                              "to source keys")
    fields = []
    for field, sources in articles.items():
        if field not in FIELDS:
            raise KeyMapError(name, f"articles.{field}: not a field newsgraph maps; "
                                  f"one of {', '.join(FIELDS)}")
        sources = [sources] if isinstance(sources, str) else sources
        if not (isinstance(sources, list) and sources and all(isinstance(s, str) and s.strip("!")
                                                              for s in sources)):
            raise KeyMapError(name, f"articles.{field}: a source key or a list of them")
        negate = all(s.startswith("!") for s in sources)
        if negate != any(s.startswith("!") for s in sources) or (negate and field not in
                                                                 ("published", "removed")):
            raise KeyMapError(name, f"articles.{field}: '!' negates a true/false key, for "
                                  "published or removed, on every source key")
        fields.append((field, tuple(s.lstrip("!") for s in sources), negate))
    return KeyMap(tuple(fields), path)


def beside(root: str) -> KeyMap | None:
    """The site's own mapping file, if it has one."""
    path = os.path.join(root, FILE_NAME)
    return read(path) if os.path.isfile(path) else None
