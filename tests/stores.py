"""A store as any TinyDB user reads it, without the project's code: the
manifest, then each segment it names, oldest first (store/segments.py
says how they combine). And copies of whole stores, for tests that need
the same store twice."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from tinydb import TinyDB


def _tables(path) -> dict[str, dict[str, dict]]:
    with TinyDB(path, access_mode="r") as db:
        return {name: {str(doc.doc_id): dict(doc) for doc in db.table(name).all()} for name in db.tables()}


KEYS = {"topics": lambda d: d["slug"], "providers": lambda d: d["domain"],
        "files": lambda d: f"{d['root']}\0{d['path']}", "articles": lambda d: d["id"]}


def plain_tables(path) -> dict[str, dict]:
    """``{"meta": the manifest's meta, "segments": [names], table: {key:
    record}}``, and ``"numbers"``: each article's document id."""
    manifest = _tables(path)
    (meta,) = manifest["meta"].values()
    names = [manifest["segments"][n]["name"] for n in sorted(manifest["segments"], key=int)]
    data: dict[str, dict] = {table: {} for table in KEYS}
    numbers: dict[str, int] = {}
    for name in names:
        segment = _tables(os.path.join(f"{path}.d", name))
        for doc in segment.get("removed", {}).values():
            data[doc["table"]].pop(doc["key"], None)
            if doc["table"] == "articles":
                numbers.pop(doc["key"], None)
        for table, key_of in KEYS.items():
            for number, doc in segment.get(table, {}).items():
                data[table][key_of(doc)] = doc
                if table == "articles":
                    numbers[doc["id"]] = int(number)
    return {"meta": meta, "segments": names, "numbers": numbers, **data}


def segment_files(names: list[str]) -> list[str]:
    """The files a store's folder holds for the segments ``names``: each
    segment and its key file (store/keyfiles.py), sorted."""
    return sorted(names + [name[:-len(".json")] + ".keys" for name in names])


def copy_store(source, target) -> None:
    """``target`` becomes a copy of the store at ``source`` (its manifest,
    segments and search index), replacing whatever store was there."""
    source, target = Path(source), Path(target)
    for folder in (".d", ".search"):
        shutil.rmtree(f"{target}{folder}", ignore_errors=True)
        if os.path.isdir(f"{source}{folder}"):
            shutil.copytree(f"{source}{folder}", f"{target}{folder}")
    shutil.copyfile(source, target)
