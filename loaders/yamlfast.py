"""libyaml's safe loader with PyYAML's constructor work done faster.

``yaml.CSafeLoader`` parses in C, but builds the Python objects in Python:
for every node a generic ``construct_object`` (memo tables, recursion
checks, a generator per mapping and list), and for every plain scalar a
``resolve`` that tries its implicit-type patterns. On front matter that is
about half of a load's parse time.

``SafeLoader`` here gives the very same objects for the documents front
matter is made of, faster:
- plain scalars are resolved once per distinct value (a topic, a provider,
  a date repeat across thousands of files);
- a document of mappings, lists and scalars of the standard safe tags, with
  no alias and no merge key, is built by a direct walk; scalars other than
  strings go through SafeConstructor's own functions.
Anything else (an alias or anchor reused, ``<<`` merge keys, a non-scalar
key, ``!!set``, ``!!omap``, an unknown tag) goes to PyYAML's constructor,
which gives the answer or the error it always gave.
tests/test_yamlfast.py compares the two on the corpus and on generated YAML.
"""
from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:  # libyaml is ~10x faster; the pure loader is a correct fallback.
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
STR, MAP, SEQ = _TAG + "str", _TAG + "map", _TAG + "seq"
# Scalar tags built by SafeConstructor's plain (non-generator) functions.
_SCALARS = {tag: _Base.yaml_constructors[tag]
            for tag in (_TAG + "null", _TAG + "bool", _TAG + "int", _TAG + "float",
                        _TAG + "binary", _TAG + "timestamp")}
RESOLVED_MAX = 1 << 16  # distinct plain scalars remembered per process

# Resolution depends on the value alone only without path resolvers
# (yaml.add_path_resolver), which nothing here adds.
assert not _Base.yaml_path_resolvers


class _Fallback(Exception):
    """The document needs PyYAML's own constructor."""


class SafeLoader(_Base):
    _resolved: dict[str, str] = {}
    fell_back = False

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0]:
            tag = self._resolved.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._resolved) >= RESOLVED_MAX:
                    self._resolved.clear()  # a simple bound: titles and excerpts rarely repeat
                self._resolved[value] = tag
            return tag
        return super().resolve(kind, value, implicit)

    def construct_document(self, node):
        try:
            return self._build(node, set())
        except Exception:
            # _Fallback, or an error (a bad !!int): PyYAML then meets its own
            # error first. It fills nested mappings after their parent, so
            # of two errors it may name another than a depth-first walk.
            # Only such a document can share a list or a mapping between
            # places (an alias), which yamldoc.py bounds.
            self.fell_back = True
            return super().construct_document(node)

    def _build(self, node, seen: set):
        cls = node.__class__
        if cls is ScalarNode:
            tag = node.tag
            if tag == STR:
                return node.value
            construct = _SCALARS.get(tag)
            if construct is None:
                raise _Fallback
            return construct(self, node)
        # A collection met twice is an alias (shared, or recursive): PyYAML
        # gives one object for both, which a walk would not.
        if id(node) in seen:
            raise _Fallback
        seen.add(id(node))
        build = self._build
        if cls is MappingNode and node.tag == MAP:
            mapping = {}
            for key_node, value_node in node.value:
                # A list or map as a key: PyYAML's error. (Merge keys, <<,
                # and "=" keys have tags of their own: the walk falls back.)
                if key_node.__class__ is not ScalarNode:
                    raise _Fallback
                mapping[build(key_node, seen)] = build(value_node, seen)
            return mapping
        if cls is SequenceNode and node.tag == SEQ:
            return [build(item, seen) for item in node.value]
        raise _Fallback

