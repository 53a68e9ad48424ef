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

Given ``text_keys``, a loader also keeps the words an author wrote where a
field is text: YAML 1.1 reads a plain ``title: yes`` as true, ``no`` and
``off`` as false, ``1e3``-like and ``0x1F`` as numbers, ``2020-01-01`` as a
date, and the words are lost (or the file rejected) before any field is
read. A plain scalar under a text key is tagged as a string before it is
constructed, so it is the source text, while a date or a number under any
other key is what it always was.
"""
from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:  # libyaml is ~10x faster; the pure loader is a correct fallback.
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
STR, MAP, SEQ, MERGE = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "merge"
# Scalar tags built by SafeConstructor's plain (non-generator) functions.
_SCALARS = {tag: _Base.yaml_constructors[tag]
            for tag in (_TAG + "null", _TAG + "bool", _TAG + "int", _TAG + "float",
                        _TAG + "binary", _TAG + "timestamp")}
RESOLVED_MAX = 1 << 16  # distinct plain scalars remembered per process

# Resolution depends on the value alone only without path resolvers
# (yaml.add_path_resolver), which nothing here adds.
assert not _Base.yaml_path_resolvers


# Tags YAML 1.1 resolves plain scalars to that YAML 1.2's core schema reads
# as text (yes, no, on, off, 2020-01-01, 1_000) or that a text field means
# as written (a number: "0x1F" is no "31"). Null is not here: `~`, `null`
# and an empty value mean no value in both versions, as a generator writes it.
_TEXT_IN_TEXT_FIELDS = frozenset(_TAG + kind for kind in ("bool", "int", "float", "timestamp"))


def keep_text(root, text_keys: dict) -> None:
    """Tag as a string every plain scalar that ``text_keys`` names as text.

    ``text_keys`` maps a key to the text keys of the mapping it may hold
    (or of each mapping of a list there). A plain scalar under a key is text
    when the key names no nested keys (``{}``: a text field), or names ``""``
    among them (a provider given by its name alone); so is each scalar of a
    list there. The root, or each mapping of a root list, is read with
    ``text_keys``. Each collection node is visited once for each set of
    keys it is read with (aliases share nodes; text_keys holds a few sets),
    so the walk is linear in what the file spells out; it is a loop, not a
    recursion."""
    seen: set[tuple[int, int, bool]] = set()
    stack = [(root, text_keys, False)]
    while stack:
        node, keys, text = stack.pop()
        cls = node.__class__
        if cls is ScalarNode:
            if text and not node.style and node.tag in _TEXT_IN_TEXT_FIELDS:  # plain: None, or libyaml's ""
                node.tag = STR
            continue
        visit = (id(node), id(keys), text)
        if visit in seen:
            continue
        seen.add(visit)
        if cls is SequenceNode:
            stack.extend((item, keys, text) for item in node.value)
        elif cls is MappingNode:
            for key_node, value_node in node.value:
                if key_node.tag == MERGE:  # `<<: *base`: the base's keys are this mapping's
                    stack.append((value_node, keys, False))
                elif key_node.__class__ is ScalarNode and key_node.value in keys:
                    nested = keys[key_node.value]
                    stack.append((value_node, nested, not nested or "" in nested))


_NO_KEYS: dict = {}


class _Fallback(Exception):
    """The document needs PyYAML's own constructor."""


# Values (scalars, lists and mappings) one document may hold. Building each
# costs microseconds in Python: 8 MB of one-character keys would hold a
# load for tens of seconds. The largest real documents (a data file of
# 10,000 topics, an article with a related list of 180) hold under 100,000.
VALUES_MAX = 250_000


class TooManyValues(yaml.YAMLError):
    """A document past VALUES_MAX, refused while libyaml reads it."""


class SafeLoader(_Base):
    _resolved: dict[str, str] = {}
    fell_back = False
    values = 0  # resolved so far: libyaml resolves every node once
    text_keys: dict | None = None  # keep_text's; None: PyYAML's objects exactly

    def __init__(self, stream, text_keys: dict | None = None) -> None:
        super().__init__(stream)
        self.text_keys = text_keys

    def resolve(self, kind, value, implicit):
        self.values += 1
        if self.values > VALUES_MAX:
            raise TooManyValues(f"more than {VALUES_MAX:,} values in one document")
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
        keys = self.text_keys
        try:
            return self._build(node, set(), _NO_KEYS if keys is None else keys, False)
        except Exception:
            # _Fallback, or an error (a bad !!int): PyYAML then meets its own
            # error first. It fills nested mappings after their parent, so
            # of two errors it may name another than a depth-first walk.
            # Only such a document can share a list or a mapping between
            # places (an alias), which yamldoc.py bounds.
            self.fell_back = True
            if keys is not None:
                keep_text(node, keys)
            return super().construct_document(node)

    def _build(self, node, seen: set, keys: dict, text: bool):
        """The walk, reading text where keep_text would (``keys``, and
        whether this value is text) without touching the nodes."""
        cls = node.__class__
        if cls is ScalarNode:
            tag = node.tag
            if tag == STR or (text and not node.style and tag in _TEXT_IN_TEXT_FIELDS):
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
                nested = keys.get(key_node.value)
                mapping[build(key_node, seen, _NO_KEYS, False)] = \
                    build(value_node, seen, _NO_KEYS, False) if nested is None else \
                    build(value_node, seen, nested, not nested or "" in nested)
            return mapping
        if cls is SequenceNode and node.tag == SEQ:
            return [build(item, seen, keys, text) for item in node.value]
        raise _Fallback
