"""Fuzz the loaders with generated site files.

    .venv/bin/python scripts/fuzz_files.py [--examples 3000] [--sites 200] [--seed N]

Front matter built from structures and plain words, in UTF-8, UTF-16 and
Windows-1252, damaged byte by byte; YAML data files; JSON API pages of each
of the family's shapes (tests/filefuzzing.py). No parse may raise, take
seconds, or give a record the store or the API cannot hold; a bad file is
named with a reason and a line; a site of such files lands its good file and
answers a query of every field. Prints what the parses gave.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.filefuzzing import (API_NAMES, FRONT_MATTER_NAMES, OUTCOMES, api_pages,  # noqa: E402
                               front_matter_files, parse_checked, site_checked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=3000, help="files of each kind to parse")
    parser.add_argument("--sites", type=int, default=200, help="sites of generated files to load and query")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: random)")
    args = parser.parse_args(argv)
    common = dict(deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck))
    with tempfile.TemporaryDirectory(prefix="newsgraph-fuzz-files-") as workdir:
        root = Path(workdir)
        (root / "_config.yml").write_text("title: Fuzzed\n", encoding="utf-8")
        (root / "_news").mkdir()
        (root / "_news" / "y.md").write_text("---\ntitle: kept\n---\n", encoding="utf-8")

        @settings(max_examples=args.examples, **common)
        @given(raw=front_matter_files(), name=st.sampled_from(FRONT_MATTER_NAMES), explicit=st.booleans())
        def front_matter(raw, name, explicit):
            parse_checked(root, name, raw, explicit)

        @settings(max_examples=args.examples, **common)
        @given(raw=api_pages(), name=st.sampled_from(API_NAMES), explicit=st.booleans())
        def api(raw, name, explicit):
            parse_checked(root, name, raw, explicit)

        @settings(max_examples=args.sites, **common)
        @given(files=st.lists(st.tuples(st.sampled_from(FRONT_MATTER_NAMES + API_NAMES),
                                        front_matter_files() | api_pages()), min_size=1, max_size=6))
        def sites(files):
            site_checked(files)

        started = time.monotonic()
        for name, test in (("front matter and YAML", front_matter), ("API pages", api), ("sites", sites)):
            if args.seed is not None:
                test = seed(args.seed)(test)
            test()
            print(f"{name}: none failed")
    print(f"outcomes: {dict(sorted(OUTCOMES.items()))} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
