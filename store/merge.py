"""Merge the fragments that describe one entity into its stored record.

The static API pages list each article many times and the markdown file once;
fragments are applied in rank order (API first, file last) so the file's
fields win, while keys only the API carries are kept in ``extra``.
"""
from __future__ import annotations

import hashlib

import orjson


def _content_hash(record: dict) -> str:
    body = {k: v for k, v in record.items() if k not in ("_hash", "sources")}
    return hashlib.sha1(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def merge(kind: str, fragments: list[dict]) -> dict:
    """Fragments' data may be dicts or JSON bytes (see parsing._parse_compact)."""
    fragments = [f if isinstance(f["data"], dict) else {**f, "data": orjson.loads(f["data"])}
                 for f in fragments]
    fragments = sorted(fragments, key=lambda f: (f["rank"], f["data"]["source"]["path"]))
    merged: dict = {}
    extra: dict = {}
    for fragment in fragments:
        for key, value in fragment["data"].items():
            if key == "extra":
                extra.update(value)
            elif key == "locations":
                # Each news feed listing the article adds its place.
                known = merged.setdefault(key, [])
                known.extend(place for place in value if place not in known)
            elif value is not None and value != []:
                merged[key] = value
            else:
                merged.setdefault(key, value)
    merged["extra"] = extra
    merged["sources"] = sorted({f["data"]["source"]["path"] for f in fragments})
    if kind == "article":
        _article_defaults(merged)
        if next(iter(merged)) != "id":  # the store finds a record's id at its start (db.py)
            merged = {"id": merged.pop("id"), **merged}
    merged["_hash"] = _content_hash(merged)
    return merged


def _article_defaults(record: dict) -> None:
    # A missing `published` means published; `removed: true` hides it too.
    if record.get("published") is None:
        record["published"] = True
    if not record.get("title"):
        record["title"] = record["slug"]
    if not record.get("type"):
        record["type"] = "article"
