"""Find the files a site, a folder or a single path contributes."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FRONT_MATTER_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})
JSON_SUFFIXES = frozenset({".json"})
# Files a site holds beside its news that are never news data: found so
# the summary counts them, and skipped.
NOT_DATA_SUFFIXES = frozenset({".csv", ".tsv"})
PLACEHOLDERS = frozenset({".keep", ".gitkeep"})  # keep an empty folder in git
SUFFIXES = FRONT_MATTER_SUFFIXES | YAML_SUFFIXES | JSON_SUFFIXES | NOT_DATA_SUFFIXES

# Jekyll folders that hold templates, build output or assets, never news.
NOT_CONTENT = frozenset({"_layouts", "_includes", "_sass", "_site", "_plugins", "assets",
                         "node_modules", "vendor"})
# Of `_data`, only these describe news entities (others are navigation etc.).
DATA_FOLDERS = frozenset({"topics", "organizations"})
# Taxonomy terms of older sites: `_terms/<folder>/*.md`, by folder.
TERM_FOLDERS = {"topics": "topic", "providers": "provider", "organizations": "provider"}
# Jekyll collections that hold the site's own pages (about, sign-up...), not news.
PAGE_COLLECTIONS = frozenset({"_pages"})
JEKYLL_CONFIGS = ("_config.yml", "_config.yaml", "_config.toml")
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml")
HUGO_CONTENT = "content"


@dataclass(frozen=True)
class Candidate:
    """A file to parse: ``path`` is POSIX-style and relative to ``root``;
    ``explicit`` when the user named the file itself, so a file that is not
    news data is an error instead of something to pass over.
    ``id_prefix`` goes before the ids of the articles the file gives: it
    keeps the ids of one site apart from another's in the same store
    (store/sites.py)."""

    root: str
    path: str
    explicit: bool = False
    id_prefix: str = ""
    # The file's name is not UTF-8 (a Latin-1 name from an old archive):
    # ``path`` shows its bytes escaped, and the file is refused by name.
    bad_name: bool = False


def discover(target: Path) -> tuple[Path, list[Candidate]]:
    """The loaded root and the files under it, sorted so runs are repeatable."""
    target = Path(os.path.abspath(target))
    if not target.is_dir():
        # Missing paths still become a candidate so the user sees one rejection.
        return target.parent, [_candidate(str(target.parent), target.name, explicit=True)]
    root = str(target)
    found: list[Candidate] = []
    # A Hugo site's news is under content/; the rest is its theme and build.
    walked = target / HUGO_CONTENT if layout_of(root) == "hugo" else target
    for folder, dirs, names in os.walk(walked, onerror=None):
        rel = os.path.relpath(folder, root)
        parts = () if rel == "." else tuple(Path(rel).parts)
        dirs[:] = sorted(d for d in dirs if _keep_dir(parts, d))
        for name in sorted(names):
            if _keep_file(parts, name):
                found.append(_candidate(root, "/".join(parts + (name,))))
    return target, found


def walk(target: Path) -> tuple[str, list[tuple[str, int, int]]]:
    """The folder ``target``'s files as ``discover`` finds them, each as
    (path, size, mtime_ns) (-1, -1 when it cannot be stat'ed), found with
    one scandir per folder: a load compares them with what the store
    recorded and makes a Candidate (``candidate_at``) only of a file that
    changed. Candidates, and a second stat of each file, were most of a
    plain re-load of a large site. In the order the folders list them,
    not sorted: a load sorts the few that changed (sorting every folder's
    entries was a sixth of a walk of 100k files)."""
    root = os.path.abspath(target)
    found: list[tuple[str, int, int]] = []
    top = os.path.join(root, HUGO_CONTENT) if layout_of(root) == "hugo" else root
    parts = () if top == root else (HUGO_CONTENT,)
    _walk(top, parts, found)
    return root, found


def _walk(folder: str, parts: tuple[str, ...], found: list) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return  # as os.walk's onerror=None: a folder that cannot be read is passed over
    prefix = "/".join(parts) + "/" if parts else ""
    folders = []
    for entry in entries:
        name = entry.name
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            # os.walk lists a link to a folder but does not go into it.
            if _keep_dir(parts, name) and not entry.is_symlink():
                folders.append(entry)
            continue
        # _keep_file's test, inline below the top: it runs for every file.
        dot = name.rfind(".")
        if not parts or dot <= 0:
            if not _keep_file(parts, name):
                continue
        elif name[dot:].lower() not in SUFFIXES:
            continue
        try:
            st = entry.stat()
            found.append((prefix + name, st.st_size, st.st_mtime_ns))
        except OSError:
            found.append((prefix + name, -1, -1))
    for entry in folders:
        _walk(entry.path, parts + (entry.name,), found)



def candidate_at(root: str, path: str) -> Candidate | None:
    """The candidate ``discover(root)`` would find for the file at ``path``
    (absolute, or relative to the working directory), or None: a file it
    passes over, or one outside ``root``. Whether the file exists is not
    looked at. For loads told which paths changed (``load --watch``)."""
    rel = os.path.relpath(os.path.abspath(path), root)
    if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
        return None
    parts = tuple(Path(rel).parts)
    for depth in range(len(parts) - 1):
        if not _keep_dir(parts[:depth], parts[depth]):
            return None
    if not _keep_file(parts[:-1], parts[-1]):
        return None
    return _candidate(root, "/".join(parts))


def candidate(root: str, path: str) -> Candidate:
    """The Candidate of a file ``walk`` found at ``path`` under ``root``."""
    return _candidate(root, path)


def _candidate(root: str, path: str, explicit: bool = False) -> Candidate:
    """A name that is not UTF-8 comes from the file system with surrogates,
    which can be neither stored nor printed: its bytes are shown escaped."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return Candidate(root, shown, explicit, bad_name=True)
    return Candidate(root, path, explicit)


def _keep_file(parts: tuple[str, ...], name: str) -> bool:
    # os.path, not a Path per file: 0.43 -> 0.29 s for 100k files.
    if name.startswith("."):
        return name in PLACEHOLDERS
    if os.path.splitext(name)[1].lower() not in SUFFIXES:
        return False
    # Site settings and the mapping file (keymap.py), not content.
    return bool(parts) or not (name.startswith("_config") or name == "newsgraph.yaml")


def _keep_dir(parts: tuple[str, ...], name: str) -> bool:
    if name.startswith(".") or name in NOT_CONTENT:
        return False
    if parts == ("_data",):
        return name in DATA_FOLDERS
    return True


def layout_of(root: str) -> str | None:
    """"jekyll" for a Jekyll site's root, "hugo" for a Hugo site's, None for
    a plain folder (where every front-matter file is an article)."""
    if any(os.path.isfile(os.path.join(root, name)) for name in JEKYLL_CONFIGS):
        return "jekyll"
    if os.path.isdir(os.path.join(root, HUGO_CONTENT)) and \
            any(os.path.isfile(os.path.join(root, name)) for name in HUGO_CONFIGS):
        return "hugo"
    return None


def place(path: str, layout: str | None) -> str:
    """What a file of a site is, by where it lies: "collection" (documents:
    articles and the like), "data" (_data/topics, _data/organizations),
    "terms" (_terms/*), "api" (the static API), "site-data" (other _data),
    or "page" (the site's own pages and sources, never news). In a plain
    folder every file is a "collection" file."""
    first, sep, rest = path.partition("/")
    if first == "_data":
        return "data" if data_kind(path) else "site-data"
    if first == "_terms" and sep:
        return "terms"
    if layout is None:
        return "collection"
    if layout == "hugo":
        return "collection" if first == HUGO_CONTENT and sep else "page"
    if first == "api" and sep:
        return "api"
    if first.startswith("_") and len(first) > 1 and sep and first not in PAGE_COLLECTIONS:
        return "collection"
    return "page"


def collection_of(path: str) -> str:
    """``_news/x.md`` -> ``news``; files outside a collection folder are news."""
    first = path.split("/", 1)[0]
    if "/" in path and first.startswith("_") and first != "_data" and len(first) > 1:
        return first[1:]
    return "news"


def article_id(path: str) -> tuple[str, str]:
    """(id, slug) from a path relative to the root: the collection plus the
    path inside it without the extension, so ids are stable and unique."""
    collection = collection_of(path)
    inner = path.split("/", 1)[1] if path.startswith("_") and "/" in path else path
    stem = inner.rsplit(".", 1)[0] if "." in inner.rsplit("/", 1)[-1] else inner
    return f"{collection}/{stem}", stem.rsplit("/", 1)[-1]


def data_kind(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == "_data":
        return {"topics": "topic", "organizations": "provider"}.get(parts[1])
    if len(parts) >= 3 and parts[0] == "_terms":
        return TERM_FOLDERS.get(parts[1])
    return None
