"""Reading a store's files: a segment split by its lines (the layout
storage.py writes, or any TinyDB file parsed whole), or taken through its
key file (store/keyfiles.py), into a snapshot.
"""
from __future__ import annotations

import os
import re

import orjson

from . import keyfiles
from .errors import StoreCorrupt
from .filecolumns import FileColumns
from .filetable import FileTable, file_key
from .keyfiles import ArticleColumns
from .memory import paused_gc
from .segments import FORMAT, Manifest
from .snapshot import RecordTable, Snapshot, Table
from .storage import AtomicOrjsonStorage, FileBytes, Raw, map_file


def _doc(value) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"a record is {type(value).__name__}, not an object")
    return value


def record_key(table: str, doc: dict) -> str:
    """The key a record of ``table`` (not articles) is known by."""
    if table == "files":
        return file_key(doc["root"], doc["path"])
    return doc["slug"] if table == "topics" else doc["domain"]


def read_file(path: str) -> tuple[dict, dict[str, dict | Raw], dict[str, int]]:
    """One TinyDB file of a store: its tables but articles (documents by
    number), its articles by id, and their numbers."""
    raw = map_file(path)
    split = _split_lines(raw)
    del raw
    if split is not None:  # its articles are keyed by id already
        tables, nums = split
        return tables, tables.pop("articles", {}), nums
    # Not the layout storage.py writes (another TinyDB writer, an older
    # newsgraph, a damaged file): parse it whole, which also names the line
    # of any JSON error.
    tables = AtomicOrjsonStorage(path).read() or {}
    articles, nums = {}, {}
    try:
        for number, doc in (tables.pop("articles", None) or {}).items():
            articles[_doc(doc)["id"]] = doc
            nums[doc["id"]] = int(number)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreCorrupt(path, f"unexpected record shape ({type(exc).__name__}: {exc})") from None
    return tables, articles, nums


def _from_keys(path: str, made: dict, articles: ArticleColumns,
               files: FileColumns) -> tuple[dict, dict[str, int], dict[str, int], dict[str, int]]:
    """A segment's data as its key file (store/keyfiles.py) gives it: its
    small tables as documents, its articles and files as positions in the
    columns they are added to (``articles``, ``files``), and the articles'
    numbers; as ``read_file`` gives a segment read whole."""
    keys, numbers, hashes, offsets, lengths = made["articles"]
    at = articles.extend(path, hashes, offsets, lengths)
    part_articles = dict(zip(keys, range(at, at + len(keys))))
    file_keys, sizes, mtimes, sha1s, notes, claims = made["files"]
    at = files.extend(file_keys, sizes, mtimes, sha1s, notes, claims)
    part_files = dict(zip(file_keys, range(at, at + len(file_keys))))
    part = {table: dict(enumerate(made[table])) for table in keyfiles.TABLES}
    part["meta"] = {"1": made["meta"]}
    part["removed"] = {n: {"table": table, "key": key} for n, (table, key) in enumerate(made["removed"])}
    return part, part_articles, dict(zip(keys, numbers)), part_files


def _write_keys(path: str, part: dict, articles: dict[str, dict | Raw], nums: dict[str, int]) -> None:
    """Write the key file of the segment at ``path``, read whole into
    ``part`` (``read_file``'s answer), when its articles were split by
    lines (each one's place known). A cache: a failure leaves none."""
    if any(type(record) is not Raw or record.at < 0 for record in articles.values()):
        return
    keys = sorted(articles, key=nums.__getitem__)
    data = {table: part.get(table) or {} for table in ("meta", "files", "topics", "providers", "removed")}
    data["articles"] = {str(nums[key]): articles[key] for key in keys}
    spans = {"articles": {str(nums[key]): (articles[key].at, len(articles[key].data)) for key in keys}}
    try:
        made = keyfiles.columns(data, keys)
        written = os.stat(path)
        keyfiles.write(path, made, spans, (written.st_size, written.st_mtime_ns))
    except (OSError, KeyError, TypeError, AttributeError):
        return


def read_files(store_path: str, paths: list[str], manifest: Manifest | None, backfill: bool = False) -> Snapshot:
    """The data of ``paths`` (segments of the store at ``store_path``,
    oldest first, or one whole file), named by ``manifest``.
    A segment with a key file that fits it is not read: its records
    stay where they are until asked for (store/keyfiles.py); ``backfill``
    (for the holder of the store's lock): a segment without one gets it."""
    articles: dict[str, dict | Raw | int] = {}
    nums: dict[str, int] = {}
    tables: dict[str, dict] = {"topics": {}, "providers": {}}
    files: dict[str, dict | int] = {}
    article_columns, file_columns = ArticleColumns(), FileColumns()
    removed: set[tuple[str, str]] = set()  # removals older files than ``paths`` still need
    meta: dict = {}
    with paused_gc():
        for path in paths:
            made = keyfiles.read(path) if manifest is not None else None
            if made is not None:
                part, part_articles, part_nums, part_files = _from_keys(path, made, article_columns,
                                                                        file_columns)
            else:
                part, part_articles, part_nums = read_file(path)
                part_files = None
                if backfill:
                    _write_keys(path, part, part_articles, part_nums)
            try:
                for doc in (part.get("removed") or {}).values():
                    table, key = _doc(doc)["table"], doc["key"]
                    if table == "articles":
                        articles.pop(key, None)
                        nums.pop(key, None)
                    else:
                        (files if table == "files" else tables[table]).pop(key, None)
                    removed.add((table, key))
                articles.update(part_articles)
                nums.update(part_nums)
                if removed:
                    removed.difference_update(("articles", key) for key in part_articles)
                for table in ("topics", "providers"):
                    for doc in (part.get(table) or {}).values():
                        key = record_key(table, _doc(doc))
                        tables[table][key] = doc
                        if removed:
                            removed.discard((table, key))
                if part_files is None:
                    part_files = {record_key("files", _doc(doc)): doc
                                  for doc in (part.get("files") or {}).values()}
                files.update(part_files)
                if removed:
                    removed.difference_update(("files", key) for key in part_files)
                metas = [_doc(doc) for doc in (part.get("meta") or {}).values()]
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise StoreCorrupt(path, f"unexpected record shape ({type(exc).__name__}: {exc})") from None
            if metas:
                meta = metas[0]
            if meta.get("format", FORMAT) not in (1, FORMAT):
                raise StoreCorrupt(path, f"store format {meta.get('format')} is not {FORMAT}")
    if manifest is not None:
        meta = manifest.meta
    snapshot = Snapshot(articles=RecordTable(store_path), topics=Table(tables["topics"]),
                        providers=Table(tables["providers"]), files=FileTable(files, file_columns, meta.get("claimedIds") if manifest is not None else None),
                        meta=dict(meta), manifest=manifest, removed=removed)
    snapshot.articles.take(articles, nums, meta.get("nextArticleNum", 1), article_columns)
    return snapshot


def read_written(path: str, spans: dict[str, dict[str, tuple[int, int]]], meta: dict,
                 nums: dict[str, int]) -> Snapshot:
    """The entities of a store file just written, taken by where the writer
    put each record (``spans``, as ``Store.write`` gives them to its hook)
    and numbered ``nums``: no pass over the whole file to split it, and no
    files table, which a read model never uses (together 1.2 s of an image
    build at 100k articles). For reading only: it is never sealed or
    written, so its article records carry no hash."""
    snapshot = Snapshot(articles=RecordTable(path), meta=dict(meta))
    # Each record read into bytes of its own when the model comes to it:
    # pages of a mapping it walked would all stay in the builder's resident
    # set (the whole segment, 7.6 GB at 1M articles).
    source = FileBytes(path)
    columns = ArticleColumns()
    columns.spilling(source)
    append = columns.append
    snapshot.articles.take({key: append("", offset, length)
                            for key, (offset, length) in spans["articles"].items()}, nums, 1, columns)
    for table in ("topics", "providers"):
        setattr(snapshot, table, {key: orjson.loads(source.read(offset, length))
                                  for key, (offset, length) in spans[table].items()})
    return snapshot


_TABLE = re.compile(rb'^\{?"([a-z_]+)":\{$')
_QUOTE, _BACKSLASH, _COMMA = ord('"'), ord("\\"), ord(",")
_ID_KEY = b'{"id":"'
_HASH_KEY = b'"_hash":"'


def _split_lines(raw: bytes) -> tuple[dict, dict[str, int]] | None:
    """The tables of a file in storage.py's layout, one document per line,
    and the articles' numbers by id; article documents stay unparsed
    (``Raw``, a view into ``raw``: no copy of the file is made) and are
    keyed by their ids, others are parsed and keyed by document number.
    None when the file is laid out any other way.

    It walks lines with the bytes' own find, and takes an article's id and
    hash by position: a regular expression per line (or one over the whole
    file) was most of a store's read, 1.3 s at 100k articles."""
    head = b'{"meta":{\n'
    if raw[:len(head)] != head or raw[-3:] != b"}}\n":
        return None
    view = memoryview(raw)
    find = raw.find
    tables: dict[str, dict] = {}
    nums: dict[str, int] = {}
    current: dict | None = None  # the table being read
    articles = False  # whether it is the articles table
    start = 0
    end = len(raw)
    try:
        while start < end:
            stop = find(b"\n", start)
            if stop < 0:
                return None
            if current is not None and raw[start] == _QUOTE:  # "<number>":<document>
                colon = find(b'":', start, stop)
                if colon < 0:
                    return None
                number = raw[start + 1:colon]
                if not number.isdigit():
                    return None
                first = colon + 2
                last = stop - 1 if raw[stop - 1] == _COMMA else stop
                if articles:
                    ident, digest = _article_keys(raw, first, last)
                    current[ident] = Raw(view[first:last], digest, first)
                    nums[ident] = int(number)
                else:
                    current[number.decode()] = orjson.loads(view[first:last])
            elif header := _TABLE.match(raw[start:stop]):
                table = header.group(1).decode()
                current = tables[table] = {}
                articles = table == "articles"
            elif raw[start:stop] in (b"},", b"}}"):
                current = None
            else:
                return None
            start = stop + 1
    except (orjson.JSONDecodeError, ValueError):
        return None
    return tables, nums


def _article_keys(raw: bytes, first: int, last: int) -> tuple[str, str]:
    """The id and hash of the article record at ``raw[first:last]``, which
    storage.py writes with the id first and the hash last; ValueError when
    it is not so."""
    begin = first + len(_ID_KEY)
    if raw[first:begin] != _ID_KEY:
        raise ValueError("an article record does not start with its id")
    quote = raw.find(b'"', begin, last)
    # A quote after a backslash is escaped, unless that backslash ends an
    # even run of them (escaped backslashes).
    while quote > 0 and raw[quote - 1] == _BACKSLASH:
        before = quote - 1
        while raw[before - 1] == _BACKSLASH:
            before -= 1
        if (quote - before) % 2 == 0:
            break
        quote = raw.find(b'"', quote + 1, last)
    if quote < 0:
        raise ValueError("an article id does not end")
    ident = raw[begin:quote]
    ident = orjson.loads(b'"' + ident + b'"') if _BACKSLASH in ident else ident.decode()
    at = raw.rfind(_HASH_KEY, max(first, last - 64), last)
    digest = raw[at + len(_HASH_KEY):last - 2]
    if at < 0 or raw[last - 2:last] != b'"}' or not digest.isalnum():
        raise ValueError("an article record does not end with its hash")
    return ident, digest.decode()
