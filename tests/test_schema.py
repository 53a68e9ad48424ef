"""schema.graphql is the printed schema, and SPEC.md's names hold."""
from __future__ import annotations

import re

from graph.schema import sdl
from tests.conftest import ROOT


def test_schema_graphql_is_the_printed_schema():
    assert (ROOT / "schema.graphql").read_text() == sdl(), \
        "schema.graphql drifted: run `newsgraph export-schema > schema.graphql`"


def test_spec_names_are_in_the_schema():
    spec = (ROOT.parent / "shared" / "SPEC.md").read_text()
    block = spec.split("```graphql", 1)[1].split("```", 1)[0]
    printed = sdl()
    for kind, name, body in re.findall(r"(type|input|interface|enum) (\w+)[^{]*\{(.*?)\}", block, re.S):
        assert re.search(rf"\b{kind} {name}\b", printed), name
        section = re.search(rf"\b{kind} {name}\b[^{{]*\{{(.*?)\n\}}", printed, re.S).group(1)
        for field in re.findall(r"(?:^|\s)(\w+)(?=[(:\s])", re.sub(r"#.*", "", body)):
            if kind == "enum" or field in ("ID", "String", "Int", "Boolean", "Float", "DateTime", "JSON"):
                continue
            assert re.search(rf"\b{field}\b", section), f"{name}.{field}"
