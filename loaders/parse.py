"""Parse one file into record fragments, or one LoadError naming it.

A fragment is ``{"kind", "key", "rank", "data"}``: several files may describe
the same entity (the static API pages repeat every article), and the store
merges fragments by key, higher ``rank`` winning.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import orjson

from . import normalize
from .errors import LoadError
from .files import (FRONT_MATTER_SUFFIXES, JSON_SUFFIXES, YAML_SUFFIXES, Candidate, article_id,
                    collection_of, data_kind)
from .frontmatter import decode, has_front_matter, key_line, parse_yaml, split

# The static API repeats what the markdown says; the markdown wins.
RANK_API = 0
RANK_FILE = 1

MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass
class Parsed:
    path: str
    size: int = 0
    mtime_ns: int = 0
    sha1: str = ""
    fragments: list[dict] = field(default_factory=list)
    error: LoadError | None = None
    skipped: str | None = None  # not news data; reported, not rejected


def stat(candidate: Candidate) -> tuple[int, int] | None:
    try:
        # Called for every file of a site on each load: a plain join (the
        # path is relative to the root), not os.path.join's checks.
        st = os.stat(f"{candidate.root}/{candidate.path}")
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def parse(candidate: Candidate, max_bytes: int = MAX_FILE_BYTES) -> Parsed:
    """Never raises for a bad file: the fault is returned in ``error``."""
    path = candidate.path
    result = Parsed(path)
    try:
        full = os.path.join(candidate.root, path)
        st = os.stat(full)
        if not os.path.isfile(full):
            raise LoadError(path, "not a regular file")
        if st.st_size > max_bytes:
            raise LoadError(path, f"file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        with open(full, "rb") as handle:
            raw = handle.read(max_bytes + 1)
        result.size, result.mtime_ns = st.st_size, st.st_mtime_ns
        result.sha1 = hashlib.sha1(raw).hexdigest()
        result.fragments, result.skipped = _fragments(candidate, raw)
    except LoadError as exc:
        result.error = exc
    except OSError as exc:
        result.error = LoadError(path, f"cannot read: {exc.strerror or exc}")
    except RecursionError:
        result.error = LoadError(path, "nesting too deep")
    return result


def _fragments(candidate: Candidate, raw: bytes) -> tuple[list[dict], str | None]:
    path = candidate.path
    suffix = os.path.splitext(path)[1].lower()
    if suffix in JSON_SUFFIXES:
        return _api_page(candidate, raw)
    text = decode(path, raw)
    if suffix in YAML_SUFFIXES:
        data = parse_yaml(path, text)
        return _documents(candidate, data, text, first_line=1), None
    if suffix in FRONT_MATTER_SUFFIXES or candidate.explicit:
        if not has_front_matter(text):
            if candidate.explicit or path.startswith("_"):
                raise LoadError(path, "no front matter: the file must start with a '---' line", 1)
            return [], "no front matter"  # a plain page or README beside the content
        front, body = split(path, text)
        data = parse_yaml(path, front, first_line=2)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise LoadError(path, f"front matter must be a mapping, got {type(data).__name__}", 2)
        return [_fragment_for(candidate, data, front, body=body, first_line=2)], None
    raise LoadError(path, f"unsupported file type {suffix or '(none)'}")


def _documents(candidate: Candidate, data, text: str, first_line: int) -> list[dict]:
    if isinstance(data, dict):
        return [_fragment_for(candidate, data, text, body=None, first_line=first_line)]
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        return [_fragment_for(candidate, item, text, body=None, first_line=first_line, index=i)
                for i, item in enumerate(data)]
    raise LoadError(candidate.path, "a YAML file must hold a mapping or a list of mappings", 1)


def _fragment_for(candidate: Candidate, data: dict, source_text: str, *, body: str | None,
                  first_line: int, index: int | None = None) -> dict:
    path = candidate.path
    kind = data_kind(path) or {"topic": "topic", "organization": "provider"}.get(
        str(data.get("taxonomy", "")).lower(), "article")
    try:
        if kind == "topic":
            record = normalize.topic(data)
            key = record["slug"]
        elif kind == "provider":
            stem = os.path.basename(path)
            fallback = stem[: -len(".md")] if stem.endswith(".md") else None
            record = normalize.organization(data, fallback)
            key = record["domain"]
        else:
            id_, slug = article_id(path)
            id_ = candidate.id_prefix + id_
            if index is not None:
                id_, slug = f"{id_}-{index + 1}", f"{slug}-{index + 1}"
            record = normalize.article(data, id=id_, slug=slug, collection=collection_of(path),
                                       body=body)
            key = id_
    except normalize.FieldError as exc:
        raise LoadError(path, str(exc), key_line(source_text, exc.key, first_line)) from None
    record["source"] = {"root": candidate.root, "path": path, "loader": _loader_name(path)}
    return {"kind": kind, "key": key, "rank": RANK_FILE, "data": record}


def _loader_name(path: str) -> str:
    return "yaml" if os.path.splitext(path)[1].lower() in YAML_SUFFIXES else "front-matter"


def _api_page(candidate: Candidate, raw: bytes) -> tuple[list[dict], str | None]:
    """A page of the site's static JSON API: ``{"page", "value": [...], "nextPage"}``."""
    path = candidate.path
    try:
        page = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise LoadError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    if not (isinstance(page, dict) and isinstance(page.get("value"), list)):
        if candidate.explicit or path.startswith("api/"):
            raise LoadError(path, "not a static API page: expected an object with a 'value' list")
        return [], "JSON that is not an API page"
    fragments = []
    for i, item in enumerate(page["value"]):
        if not isinstance(item, dict):
            raise LoadError(path, f"value[{i}] must be an object")
        item = {k: v for k, v in item.items() if v is not None}
        item_path = item.pop("path", None)
        body = item.pop("content", None)
        if isinstance(item_path, str) and item_path:
            id_, slug = article_id(item_path)
            collection = collection_of(item_path)
        else:
            when = str(item.get("publishedDateTime", ""))[:10]
            slug = normalize.slugify(f"{when} {item.get('title', '')}") or f"item-{i}"
            id_, collection = f"news/{slug}", "news"
        id_ = candidate.id_prefix + id_
        try:
            record = normalize.article(item, id=id_, slug=slug, collection=collection,
                                       body=body if isinstance(body, str) else None)
        except normalize.FieldError as exc:
            raise LoadError(path, f"value[{i}]: {exc}") from None
        record["source"] = {"root": candidate.root, "path": path, "loader": "json-api"}
        if isinstance(item_path, str):
            record["extra"].pop("path", None)
        fragments.append({"kind": "article", "key": id_, "rank": RANK_API, "data": record})
    return fragments, None
