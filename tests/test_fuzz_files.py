"""Generated site files (tests/filefuzzing.py): front matter from
structures and plain words, in several encodings, damaged byte by byte;
YAML data files; JSON API pages of each shape. No parse may raise, hang or
give a record the store or the API cannot hold; a bad file is named with a
reason and a line inside it; a site of such files still lands its good
file and answers every query about what landed. scripts/fuzz_files.py runs
the same properties for thousands of examples."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.filefuzzing import (API_NAMES, FRONT_MATTER_NAMES, api_pages, front_matter_files, parse_checked,
                               site_checked)


def fuzz_settings(examples: int) -> settings:
    # Repeatable in CI (derandomize, no example database); scripts/fuzz_files.py explores.
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


_ROOT = Path(tempfile.mkdtemp(prefix="newsgraph-fuzz-files-"))
(_ROOT / "_config.yml").write_text("title: Fuzzed\n", encoding="utf-8")
(_ROOT / "_news").mkdir()
(_ROOT / "_news" / "y.md").write_text("---\ntitle: kept\n---\n", encoding="utf-8")  # an API item's file


@fuzz_settings(300)
@given(raw=front_matter_files(), name=st.sampled_from(FRONT_MATTER_NAMES), explicit=st.booleans())
def test_any_front_matter_or_yaml_file_is_read_or_named(raw, name, explicit):
    parse_checked(_ROOT, name, raw, explicit)


@fuzz_settings(300)
@given(raw=api_pages(), name=st.sampled_from(API_NAMES), explicit=st.booleans())
def test_any_api_page_is_read_or_named(raw, name, explicit):
    parse_checked(_ROOT, name, raw, explicit)


@fuzz_settings(20)
@given(files=st.lists(st.tuples(st.sampled_from(FRONT_MATTER_NAMES + API_NAMES),
                                front_matter_files() | api_pages()), min_size=1, max_size=6))
def test_a_site_of_generated_files_lands_its_good_file_and_answers(files):
    site_checked(files)
