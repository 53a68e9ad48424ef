"""Small sites written by the tests themselves: folders of files given as
text, loaded into a store of their own and served in-process."""
from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

from graph.state import DataHolder
from store.db import Store
from store.ingest import load
from tests.conftest import GQL, make_client


def write_site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def front(text: str, body: str = "") -> str:
    """A front-matter file from the YAML between its fences."""
    return "---\n" + textwrap.dedent(text).strip("\n") + "\n---\n" + body


@contextlib.contextmanager
def served(db: Path, *targets: Path, **load_options):
    """Load ``targets`` into ``db`` and yield (report, GQL) on it."""
    report = load(Store(db), list(targets), **load_options)
    with make_client(DataHolder(Store(db))) as client:
        yield report, GQL(client)
