"""Inline literals share a plan (graph/literals.py): documents that differ
only in their literal values share one parameterised, validated, compiled
preparation, and every answer and every error is the one the document as
written gets (an executor that prepares each document alone is the
reference), limits included."""
from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis_graphql import queries

from graph import literals
from graph.context import Context
from graph.executor import Executor
from graph.limits import estimate_cost
from graph.schema import schema
from graph.settings import Limits, Settings

from tests.conftest import FROZEN_NOW
from tests.fuzzing import datetime_literals

SETTINGS = Settings(db=None, preview_token="t")


@pytest.fixture(scope="module")
def shared() -> Executor:
    return Executor(schema, SETTINGS)


@pytest.fixture(scope="module")
def alone() -> Executor:
    return Executor(schema, SETTINGS, parameterise=False)


def _answer(executor: Executor, model, query: str, variables: dict | None = None) -> bytes:
    context = Context(model=model, preview=False, settings=SETTINGS, now=FROZEN_NOW)
    body, failed = executor.run(executor.prepare(query), variables, None, context)
    return orjson.dumps([body, failed])


def _same(shared: Executor, alone: Executor, model, query: str, variables: dict | None = None) -> dict:
    got = _answer(shared, model, query, variables)
    assert got == _answer(alone, model, query, variables), query
    return orjson.loads(got)[0]


LISTING = '{ articles(first: %d, where: {heat: {lte: %d}, quality: {gte: %d}}) { totalCount nodes { id heat } } }'


def test_documents_differing_in_literals_share_one_plan(shared, alone, corpus_model):
    texts = [LISTING % (first, heat, quality) for first, heat, quality in
             ((5, 100, 10), (7, 80, 20), (20, 737, 4), (1, 90, 40))]
    answers = [_same(shared, alone, corpus_model, text) for text in texts]
    assert len({orjson.dumps(a) for a in answers}) == len(texts)  # the values matter
    documents = {id(shared.prepare(text).document) for text in texts[1:]}
    assert len(documents) == 1
    operation = shared.operation(shared.prepare(texts[1]), None)
    plans = [p for p in shared.compiled._plans.values() if p is not None and p.operation is operation]
    assert len(plans) == 1
    # Only the first document of the shape was kept by its text.
    assert not any(text in shared._cache for text in texts[1:])


def test_the_values_are_the_literals(shared, corpus_model):
    prepared = shared.prepare('{ search(query: "power apps", where: {heat: {gte: 60}}, first: 3) '
                              '{ totalCount } }')
    prepared = shared.prepare('{ search(query: "canvas \\u00e9\\"", where: {heat: {gte: -1}}, first: 4) '
                              '{ totalCount } }')
    assert sorted(prepared.literals.values(), key=str) == [-1, 4, 'canvas é"']


@pytest.mark.parametrize("learned, sent, code, words", [
    (LISTING % (10, 5, 5), LISTING % (1000, 5, 5), "BAD_USER_INPUT", ("first", "100", "1000")),
    ('{ a: articles(first: 10) { nodes { relatedFrom(first: 10) { id } } } }',
     '{ a: articles(first: 100) { nodes { relatedFrom(first: 100) { relatedFrom(first: 100) { id } } } } }',
     "QUERY_TOO_COMPLEX", ()),
    (LISTING % (10, 5, 5), LISTING % (10, 5, 99999999999), "BAD_USER_INPUT", ("Int",)),
    (LISTING % (10, 5, 5), (LISTING % (10, 5, 5)).replace("gte: 5", "gte: " + "9" * 5000),
     "BAD_USER_INPUT", ()),
    ('{ articles(where: {publishedAt: {gte: "2021-01-01T00:00:00Z"}}) { totalCount } }',
     '{ articles(where: {publishedAt: {gte: "junk"}}) { totalCount } }', "BAD_USER_INPUT", ("DateTime",)),
    ('{ articles(where: {title: {contains: "a"}}) { totalCount } }',
     '{ articles(where: {title: {contains: "\\q"}}) { totalCount } }', "BAD_USER_INPUT", ("escape",)),
    ('{ articles(where: {publishedAt: {within: "P7D"}}) { totalCount } }',
     '{ articles(where: {publishedAt: {within: "P7 days"}}) { totalCount } }', "BAD_USER_INPUT",
     ("within",)),
    ('{ articles(first: 3, where: {heat: {lte: 5}}) { nodes { id } } }',
     '{ articles(first: 3, where: {heat: {lte: 5.5}}) { nodes { id } } }', "BAD_USER_INPUT", ("Int",)),
    ('{ articles(where: {topics: {some: ["a""b"]}}) { totalCount } }',
     '{ articles(where: {topics: {some: ["""b"]}}) { totalCount } }', "BAD_USER_INPUT", ("Syntax",)),
], ids=["page size", "cost", "Int out of range", "5,000 digits", "bad date", "bad escape", "bad duration", "Float for Int",
      "a block string's start"])
def test_limits_and_errors_see_the_document_as_written(shared, alone, corpus_model, learned, sent, code,
                                                       words):
    _same(shared, alone, corpus_model, learned)
    body = _same(shared, alone, corpus_model, sent)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code
    for word in words:
        assert word in error["message"], error["message"]


def test_an_error_keeps_the_location_of_the_document_as_written(shared, alone, corpus_model):
    """Literals of other lengths move the fields after them; the error of an
    execution (a bad `within`, found by the resolver) points at this
    document's own line and column."""
    template = ('{ articles(first: %s, where: {title: {contains: "%s"}}) { totalCount } '
                'b: articles(where: {publishedAt: {within: "%s"}}) { totalCount } }')
    _same(shared, alone, corpus_model, template % (1, "a", "P7D"))
    body = _same(shared, alone, corpus_model, template % (100, "a much longer word", "P7X"))
    (error,) = body["errors"]
    assert error["locations"] and error["path"] == ["b"]


@pytest.mark.parametrize("a, b", [
    ('{ articles(first: 3, orderBy: [{field: HEAT, direction: ASC}]) { nodes { id } } }',
     '{ articles(first: 3, orderBy: [{field: HEAT, direction: DESC}]) { nodes { id } } }'),
    ('query($n: Int = 2) { articles(first: $n) { nodes { id } } }',
     'query($n: Int = 3) { articles(first: $n) { nodes { id } } }'),
    ('{ articles(first: 2) { nodes { id related(first: 1) { title } } } }',
     '{ articles(first: 2) { nodes { id related(first: 2) { title } } } }'),
    ('{ articles(first: 2, where: {published: true}) { nodes { id } } }',
     '{ articles(first: 2, where: {published: false}) { nodes { id } } }'),
    ('{ articles(first: 2) { nodes { id } } }', '{ articles(first: 2) { nodes { id } } } # 3'),
], ids=["enum values", "variables' defaults", "inside an entity", "booleans", "comments"])
def test_what_shapes_a_plan_stays_in_the_key(shared, alone, corpus_model, a, b):
    """Enum values, booleans and null are names; variables' defaults, and
    literals inside an entity whose parts are remembered, stay as written:
    documents that differ in them are prepared each as written."""
    first, second = _same(shared, alone, corpus_model, a), _same(shared, alone, corpus_model, b)
    assert shared.prepare(b).literals is None
    assert shared.prepare(a).document is not shared.prepare(b).document
    assert "errors" not in first and "errors" not in second


def test_shapes_ignore_what_the_lexer_ignores():
    text = 'query Q1 { a1: articles(first: 10, where: {title: {contains: "x\\"#1"}}) # 5 "\n { totalCount } }'
    (pieces, kinds), tokens = literals.shape(text)
    assert tokens == ["10", '"x\\"#1"'] and kinds == ("i", "s")
    assert "".join(p + t for p, t in zip(pieces, tokens + [""])) == text
    assert literals.shape('{ a(x: -1.5e3, y: 0, z: """bl"ock 7""") }')[1] == ["-1.5e3", "0"]


# --- generated documents -----------------------------------------------------------

def _literal(kind: str):
    if kind == "i":
        return st.one_of(st.integers(-200, 800), st.integers(-2**40, 2**40)).map(str)
    if kind == "f":
        return st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.4e}")
    return st.one_of(
        st.sampled_from(["power", "", "2021-06-01T00:00:00Z", "2020-01-01", "P7D", "PT36H", "junk",
                         "news:none", "\\q", "\\u00e9t\\u00e9"]).map(lambda s: f'"{s}"'),
        st.text(max_size=12).map(lambda s: json.dumps(s, ensure_ascii=False)))


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(query=queries(schema.as_str(), custom_scalars={"DateTime": datetime_literals()}), data=st.data())
def test_generated_documents_answer_as_written(shared, alone, corpus_model, query, data):
    """A document generated from the schema, then another of its shape with
    other literals drawn at random (of every kind, valid or not): each gets
    the answer, or the error, it gets when prepared alone."""
    prepared = alone.prepare(query)
    assume(prepared.errors is None)
    assume(estimate_cost(prepared.document, alone.operation(prepared, None), {}, Limits()) <= 400)
    _same(shared, alone, corpus_model, query)
    (pieces, kinds), tokens = literals.shape(query)
    assume(tokens)
    drawn = [data.draw(_literal(kind)) for kind in kinds]
    sibling = "".join(p + t for p, t in zip(pieces, drawn + [""]))
    _same(shared, alone, corpus_model, sibling)


def _lexed(text: str) -> list[tuple[int, str, object]] | None:
    """graphql-core's number and string tokens of ``text``: (offset, kind,
    value), or None when its lexer refuses the text."""
    from graphql import GraphQLSyntaxError
    from graphql.language import Lexer, Source, TokenKind
    kinds = {TokenKind.INT: "i", TokenKind.FLOAT: "f", TokenKind.STRING: "s"}
    lexer = Lexer(Source(text))
    found = []
    try:
        while (token := lexer.advance()).kind is not TokenKind.EOF:
            if token.kind in kinds:
                found.append((token.start, kinds[token.kind], token.value))
    except GraphQLSyntaxError:
        return None
    return found


_PIECES = st.one_of(
    st.sampled_from(["a", "b1", "_x", "e", "E5", "true", "null", "{", "}", "(", ")", ":", "[", "]", "$",
                     "!", "...", "=", "@", "|", " ", ",", "\n", "# c 1 \"\n", '"""bl"ock 7"""', "-"]),
    st.integers(-10**6, 10**6).map(str),
    st.builds(lambda a, b, e: f"{a}.{b}{e}", st.integers(-99, 99), st.integers(0, 99),
              st.sampled_from(["", "e5", "E-2", "e+10", "e999"])),
    st.text(alphabet='\\"au0f{}/bnrt\u00e9\n', max_size=5).map(lambda body: f'"{body}"'),
    st.text(alphabet='"\\-+.eE019a{} \n#', max_size=4))


def _canonical(kind: str) -> str:
    return {"i": "7", "f": "0.5", "s": '"x"'}[kind]


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_the_shape_reads_literals_as_the_lexer_does(text):
    """Where the lexer reads a text, the shape finds the very number and
    string literals it reads. Where it refuses a text whose shape a valid
    text has (its literals replaced by good ones), a literal of the text is
    refused too, so a document never gets an answer through a shape that
    the parser would not give it."""
    (pieces, kinds), tokens = literals.shape(text)
    read = []
    for kind, token in zip(kinds, tokens):
        try:
            read.append(literals._untyped(kind, token))
        except ValueError:  # int() of 4,300 digits
            read.append(literals.Undefined)
    lexed = _lexed(text)
    if lexed is not None:
        assert [kind for _, kind, _ in lexed] == list(kinds), text
        # Strings by value; numbers by their text, which the lexer keeps.
        assert [v if k == "s" else t for v, k, t in zip(read, kinds, tokens)] == \
               [v for _, _, v in lexed], text
    else:
        canonical = "".join(p + t for p, t in zip(pieces, [*map(_canonical, kinds), ""]))
        good = _lexed(canonical)
        # A valid document of this shape: one whose lexer reads its literals
        # where the shape has them (the parameterised preparation checks it).
        if good is not None and literals.shape(canonical)[0] == (pieces, kinds) and \
                [kind for _, kind, _ in good] == list(kinds):
            assert literals.Undefined in read, (text, tokens)


def test_a_shape_learns_a_bounded_number_of_kept_variants(shared, alone, corpus_model, monkeypatch):
    """Literals kept in the key (a page size inside an entity) that change
    with every document: each is answered as written, and once a shape
    holds SHAPE_VARIANTS of them it learns no more (no second validation
    per document)."""
    from graph import executor as executor_module
    monkeypatch.setattr(executor_module, "SHAPE_VARIANTS", 3)
    learned = []
    real = literals.parameterise
    monkeypatch.setattr(literals, "parameterise", lambda *a: learned.append(1) or real(*a))
    text = '{ articles(first: 2, where: {heat: {gte: %d}}) { nodes { id related(first: %d) { title } } } }'
    for n in range(1, 8):
        _same(shared, alone, corpus_model, text % (n, n))
    assert len(learned) == 3
