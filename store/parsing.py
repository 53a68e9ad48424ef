"""Parsing the files a load looks at: data files and API pages first, then
front-matter files, in a pool of processes for many, each article no other
file describes merged by the worker that parsed its file."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator

import orjson

from loaders.files import Candidate
from loaders.parse import ParseOptions, Parsed, parse

from .filetable import FileTable, file_key, is_data
from .merge import merge

# Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 256

Progress = Callable[[int, int], None]  # (done, total)


def merge_alone(result: Parsed, shared: frozenset[str] | None) -> Parsed:
    """Merge each article fragment of ``result`` that is its article's only
    one (no key in ``shared``, the articles other files describe): the
    record, its hash and sources replace the fragment's data (``alone``)."""
    if shared is None:
        return result
    for fragment in result.fragments:
        if fragment["kind"] == "article" and fragment["key"] not in shared:
            record = merge("article", [fragment])
            fragment["alone"] = (orjson.dumps(record), record["_hash"], record["sources"],
                                 file_key(record["source"]["root"], record["source"]["path"]))
            fragment["data"] = None
    return result


_shared: frozenset[str] | None = None  # in a pool worker: the `shared` of merge_alone


_options = ParseOptions()  # in a pool worker: the load's ParseOptions


def _share(shared: frozenset[str] | None, options: ParseOptions) -> None:
    global _shared, _options
    _shared, _options = shared, options


def _parse_compact(candidate: Candidate) -> Parsed:
    """``parse`` then ``merge_alone``, with each fragment's data as JSON
    bytes: made by the worker in parallel, sent cheaply, and a tenth of the
    memory of the dicts while every file of a large site waits to be merged."""
    result = merge_alone(parse(candidate, _options), _shared)
    for fragment in result.fragments:
        if fragment["data"] is not None:
            fragment["data"] = orjson.dumps(fragment["data"])
    return result


def parse_each(todo: list[Candidate], workers: int | None, progress: Progress | None,
               done_before: int, total: int, shared: frozenset[str] | None = None,
               options: ParseOptions = _options) -> Iterator[Parsed]:
    """The results of ``todo``, in its order, each as soon as it is parsed:
    the caller keeps what it needs of one before the next comes (a load of
    1M files held them all, 10 GB, when this returned a list)."""
    workers = workers or os.cpu_count() or 1
    done = done_before
    if len(todo) >= POOL_THRESHOLD and workers > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_share,
                                 initargs=(shared, options)) as pool:
            for result in pool.map(_parse_compact, todo, chunksize=32):
                done += 1
                if progress:
                    progress(done, total)
                yield result
    else:
        for candidate in todo:
            result = merge_alone(parse(candidate, options), shared)
            done += 1
            if progress:
                progress(done, total)
            yield result


def parse_all(todo: list[Candidate], workers: int | None, progress: Progress | None,
              done_before: int, total: int, shared: frozenset[str] | None = None,
              options: ParseOptions = _options) -> list[Parsed]:
    return list(parse_each(todo, workers, progress, done_before, total, shared, options))


def parse_in_two_passes(todo: list[Candidate], files: FileTable, workers: int | None,
                         progress: Progress | None,
                         options: ParseOptions) -> Iterator[tuple[Candidate, Parsed]]:
    """Parse ``todo``: data files and API pages first, then front-matter
    files (each its own article). By then every other file that describes
    an article is known (parsed now, or left as it was), and an article no
    other file describes is merged by the worker that parsed its file, in
    parallel: the merge was a tenth of a 100k load, on one core, and the
    parsed files no longer wait for it beside the records it makes.
    Yields each candidate with its result as it is parsed."""
    first = [c for c in todo if is_data(c.path)]
    then = [c for c in todo if not is_data(c.path)]
    # Another front-matter file can only claim the same article as a
    # duplicate, which the merge never sees (store/applying.py, the
    # duplicate check). The articles data files described before this load
    # are taken too, even those a file parsed now no longer lists: such an
    # article is merged by the load rather than by its worker, the same record.
    shared = set(files.data_articles()) if len(files) else set()
    # The results first in each zip: the pool's generator runs to its end
    # (and shuts its workers down) before the zip stops.
    for result, candidate in zip(parse_each(first, workers, progress, 0, len(todo), options=options), first):
        shared.update(f["key"] for f in result.fragments if f["kind"] == "article")
        yield candidate, result
    for result, candidate in zip(parse_each(then, workers, progress, len(first), len(todo), frozenset(shared),
                                            options), then):
        yield candidate, result


def with_data(parts: list[dict], candidates: dict[str, Candidate]) -> list[dict]:
    """``parts`` with the data of any fragment merged alone by its worker,
    parsed again: another fragment of its article came up after all (which
    the two passes rule out; kept so a merge can never lose a file)."""
    if all(part["data"] is not None for part in parts):
        return parts
    found = []
    for part in parts:
        if part["data"] is None:
            again = parse(candidates[part["alone"][3]])
            part = next(f for f in again.fragments if (f["kind"], f["key"]) == (part["kind"], part["key"]))
        found.append(part)
    return found
