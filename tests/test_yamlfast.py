"""loaders/yamlfast.py gives the very objects PyYAML's own safe loader gives
(or the very error), on every YAML document of the corpus, on documents
written to reach each rule of the fallback, and on generated ones."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from loaders import yamlfast
from loaders.frontmatter import decode, has_front_matter, split
from tests.conftest import CORPUS

STOCK = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(text: str, loader):
    try:
        return ("ok", yaml.load(text, Loader=loader))
    except Exception as exc:  # PyYAML lets some through: ValueError for !!int abc
        return ("error", type(exc).__name__, str(exc))


def _typed(value):
    """The value with every type spelled out: 1 == 1.0 == True and
    date == datetime would hide a difference."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, (set, tuple)):
        return (type(value).__name__, sorted(map(repr, value)))
    return (type(value).__name__, repr(value))


def _assert_same(text: str) -> None:
    stock, fast = _load(text, STOCK), _load(text, yamlfast.SafeLoader)
    if stock[0] == "ok":
        assert fast[0] == "ok", fast
        assert _typed(fast[1]) == _typed(stock[1])
    else:
        assert fast == stock


def _corpus_documents() -> list[tuple[str, str]]:
    documents = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix.lower() in (".yml", ".yaml"):
            documents.append((str(path), decode(str(path), path.read_bytes())))
        elif path.suffix.lower() in (".md", ".markdown", ".html"):
            text = decode(str(path), path.read_bytes())
            if has_front_matter(text):
                documents.append((str(path), split(str(path), text)[0]))
    return documents


def test_every_corpus_document_loads_to_the_same_objects():
    documents = _corpus_documents()
    assert len(documents) > 100  # the whole corpus, not a stray file
    built = 0
    for path, text in documents:
        _assert_same(text)
        built += isinstance(yaml.load(text, Loader=yamlfast.SafeLoader), dict)
    assert built > 100


CASES = {
    "scalars of every safe type": """
        s: text
        quoted: "123"
        i: 0x1F
        octal: 010
        sexagesimal: 1:20
        underscore: 1_000
        f: 1.5e3
        inf: -.inf
        nan: .nan
        yes: yes
        off: Off
        tilde: ~
        empty:
        date: 2020-02-29
        when: 2001-12-14t21:59:43.10-05:00
        naive: 2001-12-14 21:59:43
        bin: !!binary aGVsbG8=
        explicit: !!str 12
        long: "%s"
    """ % ("x" * 300),
    "keys of every scalar type": "1: a\n1.5: b\ntrue: c\n~: d\n2020-01-01: e\n'1': f\n",
    "duplicate keys, the later wins": "a: 1\nb: 2\na: 3\n",
    "nested lists and maps": "a:\n  - b: [1, 2, {c: d}]\n  - - x\n    - y\n  - {}\n  - []\n",
    "shared list (alias)": "a: &x [1, 2]\nb: *x\n",
    "shared scalar (alias)": "a: &x hello\nb: *x\n",
    "merge keys": "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n",
    "merge without an alias": "c:\n  <<: {x: 1, y: 2}\n  y: 3\n",
    "merge list": "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n",
    "value key": "=: v\n",
    "value as a value": "k: =\n",
    "set": "s: !!set {a, b}\n",
    "omap": "o: !!omap [a: 1, b: 2]\n",
    "pairs": "p: !!pairs [a: 1, a: 2]\n",
    "unhashable key": "? [a, b]\n: c\n",
    "mapping key": "? {a: 1}\n: c\n",
    "unknown tag": "x: !custom 1\n",
    "python tag refused": "x: !!python/object:os.system ls\n",
    "bad int": "x: !!int abc\n",
    "bad date": "x: !!timestamp 2020-13-45\n",
    "two errors, the nested one first in the text": "a: {b: !!int x}\nc: !!int y\n",
    "scalar document": "just text\n",
    "list document": "- 1\n- 2\n",
    "empty document": "",
    "scanner error": "a: 'unclosed\n",
    "parser error": "a: b: c\n",
    "two documents": "a: 1\n---\nb: 2\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_each_rule_gives_what_pyyaml_gives(text):
    _assert_same(text.replace("\n        ", "\n"))


def test_aliases_keep_pyyaml_identity():
    # (A recursive document is compared here, not by value.)
    data = yaml.load("a: &x [1]\nb: *x\n", Loader=yamlfast.SafeLoader)
    assert data["a"] is data["b"]  # one object, as PyYAML's constructor makes it
    loop = yaml.load("a: &x\n  b: *x\n", Loader=yamlfast.SafeLoader)
    assert loop["a"]["b"] is loop["a"]


def test_plain_scalars_are_resolved_once_within_a_bound(monkeypatch):
    monkeypatch.setattr(yamlfast, "RESOLVED_MAX", 8)
    monkeypatch.setattr(yamlfast.SafeLoader, "_resolved", {})
    text = "\n".join(f"k{n}: {value}" for n, value in
                     enumerate(["1", "yes", "2020-01-01", "x", "1.5", "~", "0x10", "text"] * 3))
    for _ in range(3):
        _assert_same(text)
        assert 0 < len(yamlfast.SafeLoader._resolved) <= 8
    _assert_same("a: yes\nb: [yes, 1]\n")
    assert yamlfast.SafeLoader._resolved["yes"] == "tag:yaml.org,2002:bool"
    assert yaml.load("a: 2020-01-01", Loader=yamlfast.SafeLoader) == {"a": dt.date(2020, 1, 1)}


_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
            | st.text(max_size=30) | st.dates()
            | st.sampled_from(["yes", "No", "on", "~", "null", "1_0", "0o17", "012", "1:30", ".inf",
                               "2020-01-01", "2001-12-14 21:59:43.10 -5", "=", "<<", "0x1f", "-", "'"]))
_keys = st.text(max_size=12) | st.integers() | st.sampled_from(["yes", "1", "2020-01-01", "null"])
_documents = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(_keys, inner, max_size=4), max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_documents, flow=st.sampled_from([False, True, None]))
def test_generated_documents(data, flow):
    _assert_same(yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab1:- \n[]{},&*!<=?'\"#|>.~0x")), max_size=60))
def test_arbitrary_text(text):
    _assert_same(text)
