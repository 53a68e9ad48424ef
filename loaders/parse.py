"""Parse one file into record fragments, or one LoadError naming it.

A fragment is ``{"kind", "key", "rank", "data"}``: several files may describe
the same entity (the static API pages repeat every article), and the store
merges fragments by key, higher ``rank`` winning.

What a file is depends on where it lies in the site (files.place) and on
what it holds: a front-matter document, a YAML data file, a JSON page of
the site's static API in one of the family's shapes, or site source that
is not news data (a template, a page, a CSV file, a placeholder), which is
skipped and counted, never rejected.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field

from . import jsonapi, normalize, values
from .errors import LoadError, LoadWarning
from .files import (FRONT_MATTER_SUFFIXES, JSON_SUFFIXES, NOT_DATA_SUFFIXES, PLACEHOLDERS,
                    YAML_SUFFIXES, Candidate, article_id, collection_of, data_kind, place)
from .frontmatter import decode, has_front_matter, split
from .keymap import KeyMap
from .site import has_relative
from .yamldoc import key_line, parse_yaml

# The static API repeats what the markdown says; the markdown wins.
RANK_API = 0
RANK_FILE = 1

MAX_FILE_BYTES = 8 * 1024 * 1024
# The reason given for a fault of the loader's own on some file: never
# fatal to the load, and what the fuzz tests look for.
UNFORESEEN = "cannot be read: an error in newsgraph's loader, please report it"
TAXONOMIES = {"topic": "topic", "provider": "provider", "organization": "provider"}
TOML_FENCE = "+++"


@dataclass
class ParseOptions:
    """What a load tells the parser beyond the file itself. ``layouts`` and
    ``keymaps`` are by loaded root (files.layout_of, keymap.py)."""

    keep_stale: bool = False
    layouts: dict[str, str] = field(default_factory=dict)
    keymaps: dict[str, KeyMap] = field(default_factory=dict)
    # Whether a collection file exists, by absolute path: one stat per file
    # an API page names, however many pages name it (per load and process).
    exists: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)


DEFAULT_OPTIONS = ParseOptions()


@dataclass
class Parsed:
    path: str
    size: int = 0
    mtime_ns: int = 0
    sha1: str = ""
    fragments: list[dict] = field(default_factory=list)
    error: LoadError | None = None
    skipped: str | None = None  # not news data; reported, not rejected
    template: bool = False      # skipped as a Jekyll template (Liquid or front matter in .json)
    warnings: list[LoadWarning] = field(default_factory=list)
    # API items naming a collection file that is gone: (article id, path named).
    stale: list[tuple[str, str]] = field(default_factory=list)


def stat(candidate: Candidate) -> tuple[int, int] | None:
    try:
        # Called for every file of a site on each load: a plain join (the
        # path is relative to the root), not os.path.join's checks.
        st = os.stat(f"{candidate.root}/{candidate.path}")
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def parse(candidate: Candidate, options: ParseOptions = DEFAULT_OPTIONS,
          max_bytes: int = MAX_FILE_BYTES) -> Parsed:
    """Never raises for a bad file: the fault is returned in ``error``."""
    path = candidate.path
    result = Parsed(path)
    if candidate.bad_name:
        result.error = LoadError(path, "the file name is not UTF-8: rename the file (its bytes are shown "
                                       "escaped here)")
        return result
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
        _fill(result, candidate, raw, options)
    except LoadError as exc:
        result.error = exc
        result.fragments, result.warnings, result.stale = [], [], []
    except OSError as exc:
        result.error = LoadError(path, f"cannot read: {exc.strerror or exc}")
    except RecursionError:
        result.error = LoadError(path, "nesting too deep")
    except Exception as exc:  # noqa: BLE001 - a file no rule foresaw: named, and the load goes on
        result.error = LoadError(path, f"{UNFORESEEN} ({type(exc).__name__}: {exc})"[:300])
        result.fragments, result.warnings, result.stale = [], [], []
    return result


def _fill(result: Parsed, candidate: Candidate, raw: bytes, options: ParseOptions) -> None:
    path = candidate.path
    name = path.rsplit("/", 1)[-1]
    suffix = os.path.splitext(name)[1].lower()
    layout = options.layouts.get(candidate.root)
    where = "collection" if candidate.explicit else place(path, layout)
    if name in PLACEHOLDERS:
        result.skipped = "a placeholder that keeps a folder in git"
    elif suffix in NOT_DATA_SUFFIXES:
        result.skipped = f"a {suffix[1:].upper()} file, not news data"
    elif raw.isspace() or not raw:
        result.skipped = "an empty file"
    elif suffix in JSON_SUFFIXES:
        jsonapi.fill(result, candidate, raw, options, RANK_API, api=where not in ("page", "site-data"))
    elif where == "page":
        result.skipped = "a page of the site, not a collection document"
    elif where == "site-data":
        result.skipped = "site data (navigation, settings), not news"
    elif suffix in YAML_SUFFIXES:
        text = decode(path, raw, result.warnings)
        data = parse_yaml(path, text, 1, result.warnings, _text_keys(candidate, options))
        if data is None:
            result.skipped = "an empty YAML document"
        else:
            result.fragments = _documents(candidate, data, text, layout, options)
    elif suffix in FRONT_MATTER_SUFFIXES or candidate.explicit:
        _front_matter(result, candidate, decode(path, raw, result.warnings), layout, options)
    else:
        raise LoadError(path, f"unsupported file type {suffix or '(none)'}")


def _front_matter(result: Parsed, candidate: Candidate, text: str, layout: str | None,
                  options: ParseOptions) -> None:
    path = candidate.path
    if layout == "hugo" and path.rsplit("/", 1)[-1].startswith("_index."):
        result.skipped = "a Hugo section page, not an article"
        return
    if text.split("\n", 1)[0].rstrip() == TOML_FENCE:
        front, body = split(path, text, TOML_FENCE)
        data = _parse_toml(path, front)
    elif has_front_matter(text):
        front, body = split(path, text)
        data = parse_yaml(path, front, 2, result.warnings, _text_keys(candidate, options))
    elif candidate.explicit or path.startswith("_") or layout == "hugo":
        raise LoadError(path, "no front matter: the file must start with a '---' line", 1)
    else:
        result.skipped = "no front matter"  # a plain page or README beside the content
        return
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LoadError(path, f"front matter must be a mapping, got {type(data).__name__}", 2)
    fragment = _fragment_for(candidate, data, front, body=body, first_line=2, layout=layout,
                             options=options)
    if fragment is None:
        result.skipped = f"a taxonomy term of another kind ({data.get('taxonomy')})"
    else:
        result.fragments = [fragment]


def _text_keys(candidate: Candidate, options: ParseOptions) -> dict:
    keymap = options.keymaps.get(candidate.root)
    return normalize.TEXT_KEYS if keymap is None else keymap.text_keys


def _parse_toml(path: str, text: str) -> dict:
    """Hugo's TOML front matter (between ``+++`` lines)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)  # Python 3.14; earlier ones say it in the text
        raise LoadError(path, f"invalid TOML: {exc}", 1 + line if line else None) from None


def _documents(candidate: Candidate, data, text: str, layout: str | None,
               options: ParseOptions) -> list[dict]:
    if isinstance(data, dict):
        fragment = _fragment_for(candidate, data, text, body=None, first_line=1, layout=layout,
                                 options=options)
        return [fragment] if fragment is not None else []
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        values.check_records(candidate.path, len(data), "mappings")
        fragments = [_fragment_for(candidate, item, text, body=None, first_line=1, index=i,
                                   layout=layout, options=options) for i, item in enumerate(data)]
        return [f for f in fragments if f is not None]
    raise LoadError(candidate.path, "a YAML file must hold a mapping or a list of mappings", 1)


def _kind_of(path: str, data: dict) -> str | None:
    """article, topic or provider; None for a taxonomy term of another kind."""
    kind = data_kind(path)
    if kind is not None:
        return kind
    taxonomy = data.get("taxonomy")
    if taxonomy is None:
        return None if path.startswith("_terms/") else "article"
    return TAXONOMIES.get(str(taxonomy).lower(), None if path.startswith("_terms/") else "article")


def _fragment_for(candidate: Candidate, data: dict, source_text: str, *, body: str | None,
                  first_line: int, index: int | None = None, layout: str | None = None,
                  options: ParseOptions = DEFAULT_OPTIONS) -> dict | None:
    path = candidate.path
    kind = _kind_of(path, data)
    if kind is None:
        return None
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
            keymap = options.keymaps.get(candidate.root)
            if keymap is not None:
                data = keymap.apply(data)
            named = _hugo_path(path) if layout == "hugo" else path
            id_, slug = article_id(named)
            id_ = candidate.id_prefix + id_
            if index is not None:
                id_, slug = f"{id_}-{index + 1}", f"{slug}-{index + 1}"
            collection = collection_of(named)
            data = _jekyll_defaults(data, collection, slug)
            record = normalize.article(data, id=id_, slug=slug, collection=collection, body=body)
            key = id_
    except values.FieldError as exc:
        # The key the file wrote: the field's own, or the alias that gave it (`score`).
        lines = (key_line(source_text, k, first_line) for k in (exc.key, *normalize.ALIASES.get(exc.key, ())))
        raise LoadError(path, str(exc), next((line for line in lines if line), None)) from None
    record["source"] = {"root": candidate.root, "path": path, "loader": _loader_name(path)}
    if kind != "article" and has_relative(record.get("images")):
        # Several sites may describe one topic or organisation, and the
        # merged record's source is the last file's: its images are made
        # absolute against the site of the file that gave them.
        record["imagesRoot"] = candidate.root
    return {"kind": kind, "key": key, "rank": RANK_FILE, "data": record}


def _hugo_path(path: str) -> str:
    """``content/posts/x.md`` as Jekyll would name it (``_posts/x.md``):
    a Hugo section is a collection; a leaf bundle's index is its folder."""
    inner = path.split("/", 1)[1]
    folder, _, name = inner.rpartition("/")
    if folder and name.rsplit(".", 1)[0] == "index":
        folder, _, name = folder.rpartition("/")
        name += ".md"
    return f"_{folder}/{name}" if folder else name


def _jekyll_defaults(data: dict, collection: str, slug: str) -> dict:
    """What Jekyll itself infers: drafts are unpublished (as is Hugo's
    ``draft: true``), and a post without a date takes its file name's."""
    if data.get("published") is None and (collection == "drafts" or data.get("draft") is True):
        data = {**data, "published": False}
    if data.get("publishedDateTime") is None and data.get("date") is not None:
        data = {**data, "publishedDateTime": data["date"]}
    elif data.get("publishedDateTime") is None and collection in ("posts", "drafts"):
        named = _NAME_DATE.match(slug)
        if named is not None:
            try:  # Jekyll's months and days may have one digit (2019-3-9-title.md)
                day = dt.date(*map(int, named.groups()))
            except ValueError:  # no such day: the post has no date, rather than no place
                return data
            data = {**data, "publishedDateTime": day.isoformat()}
    return data


_NAME_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})-")


def _loader_name(path: str) -> str:
    return "yaml" if os.path.splitext(path)[1].lower() in YAML_SUFFIXES else "front-matter"
