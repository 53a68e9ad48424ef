"""The compiled executor (graph/compiled.py) against the reference, graphql-core's
standard executor, on the real corpus: the same bytes for every answer it
gives, and no answer at all (so the reference answers) whenever the
reference reports an error."""
from __future__ import annotations

import datetime as dt
from threading import Lock

import graphql
import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis_graphql import queries

from graph import arguments, compiled, parts
from graph.context import Context
from graph.executor import Executor
from graph.limits import estimate_cost
from graph.schema import schema
from graph.settings import Limits, Settings
from loaders.values import format_datetime
from store.urls import url_key

from tests.conftest import FROZEN_NOW
from tests.fuzzing import datetime_literals

SETTINGS = Settings(db=None, preview_token="t")


@pytest.fixture(scope="module")
def executor() -> Executor:
    return Executor(schema, SETTINGS)


def _both(executor: Executor, model, query: str, variables: dict | None = None,
          preview: bool = False, name: str | None = None, fragments: bool = False):
    """(compiled body or None, reference body as graph/executor.py builds it)."""
    prepared = executor.prepare(query)
    assert prepared.errors is None, prepared.errors
    if prepared.literals:  # the document's shape, parameterised: its literals are variables
        variables = {**(variables or {}), **prepared.literals}
    operation = executor.operation(prepared, name)
    fast = executor.compiled.run(prepared.document, operation, variables,
                                 Context(model=model, preview=preview, settings=SETTINGS, now=FROZEN_NOW,
                                         fragments=fragments))
    result = graphql.execute(executor.schema, prepared.document, None,
                             Context(model=model, preview=preview, settings=SETTINGS, now=FROZEN_NOW),
                             variables, name)
    return fast, result


def _same(executor, model, query, variables=None, preview=False, name=None) -> dict | None:
    # Twice in each form: the second answer comes from parts remembered by the
    # first; plain answers (for Python callers) must hold no serialized parts.
    for fragments in (False, True, False, True):
        fast, result = _both(executor, model, query, variables, preview, name, fragments)
        if result.errors:
            assert fast is None, f"compiled answered where the reference failed: {result.errors}"
            return None
        # Bytes, not ==: 1 == 1.0 and key order would hide differences. An
        # answer for orjson (HTTP) is written as graph/http.py writes it.
        assert fast is not None, "the compiler gave up on a query it supports"
        assert (parts.dumps(fast) if fragments else orjson.dumps(fast)) == orjson.dumps({"data": result.data})
        if not fragments:
            plain = fast
            assert "Fragment" not in repr(fast) and "datetime" not in repr(fast)
    return plain["data"]


@pytest.fixture(scope="module")
def samples(corpus_model):
    """Real values to query: a linked article, a provider, a hidden article."""
    public = corpus_model.public
    linked = next(a for a in public.articles if any(public.related_target(i) for i in a.related))
    target = next(public.related_target(i) for i in linked.related if public.related_target(i))
    hidden = next(a for a in corpus_model.preview.articles if not a.visible)
    provider = next(p for p in corpus_model.public.providers.values()
                    if corpus_model.public.by_provider.get(p.key))
    topic = max(corpus_model.public.topics.values(),
                key=lambda t: len(corpus_model.public.by_topic.get(t.slug, ())))
    return {"linked": linked.id, "target": target.id, "hidden": hidden.id, "domain": provider.domain,
            "name": provider.name, "key": provider.key, "topic": topic.slug, "topic_name": topic.name, "url": linked.url}


ARTICLE_FIELDS = """id slug collection title excerpt body type url originalUrl ampUrl cdnAmpUrl
  publishedAt quality heat published featuredContent providerName extra
  provider { id domain name description extra names articleCount images { url width height title isCached aspectRatio } }
  topics { id slug name keywords hashtags articleCount extra parent { slug } }
  images { url width height title isCached aspectRatio extra } image { url aspectRatio }
  source { path loader paths }"""

CASES = [
    # (name, query, variables, preview)
    ("every article field", "query($id: ID!) { article(id: $id) { %s } }" % ARTICLE_FIELDS,
     {"id": "{linked}"}, False),
    ("related and links", """query($id: ID!) { article(id: $id) { related { title excerpt url ampUrl
        cdnAmpUrl publishedAt type quality providerName extra provider { domain name }
        images { url width } article { id title } } relatedFrom { id } } }""", {"id": "{target}"}, False),
    ("related(first:) literal and variable", """query($n: Int) { a: article(id: "{linked}") {
        related(first: 2) { title } more: related(first: $n) { url } } }""", {"n": 3}, False),
    ("hidden article is null in public", "query($id: ID!) { article(id: $id) { id title } }",
     {"id": "{hidden}"}, False),
    ("hidden article in preview", "query($id: ID!) { article(id: $id) { id title published } }",
     {"id": "{hidden}"}, True),
    ("missing article", '{ article(id: "news/no-such-thing") { id } }', None, False),
    ("by url", "query($u: String) { article(url: $u) { id url } }", {"u": "{url}"}, False),
    ("aliases", """{ first: articles(first: 2) { nodes { id t: title } }
        second: articles(first: 3, orderBy: [{field: TITLE, direction: ASC}]) { nodes { id title } } }""",
     None, False),
    ("named and inline fragments merged", """
        query { articles(first: 5) { ...Page nodes { ... on Article { excerpt provider { name } } } } }
        fragment Page on ArticleConnection { totalCount pageInfo { hasNextPage endCursor }
          nodes { id ...Bits provider { domain } } }
        fragment Bits on Article { title __typename }""", None, False),
    ("typename everywhere", """{ __typename articles(first: 2) { __typename edges { __typename cursor
        node { __typename id } } } }""", None, False),
    ("node interface", """query($a: ID!, $p: ID!, $t: ID!) {
        a: node(id: $a) { __typename id ... on Article { title } ... on Provider { domain } }
        p: node(id: $p) { __typename id ... on Provider { name articleCount } }
        t: node(id: $t) { __typename id ... on Topic { slug name } }
        none: node(id: "nothing:here") { id } }""",
     {"a": "{linked}", "p": "provider:{key}", "t": "topic:{topic}"}, False),
    ("skip and include with variables", """query($yes: Boolean!, $no: Boolean!) {
        articles(first: 3) { nodes { id title @include(if: $yes) excerpt @skip(if: $yes)
          url @include(if: $no) } } }""", {"yes": True, "no": False}, False),
    ("skip and include flipped", """query($yes: Boolean!, $no: Boolean!) {
        articles(first: 3) { nodes { id title @include(if: $yes) excerpt @skip(if: $yes)
          url @include(if: $no) } } }""", {"yes": False, "no": True}, False),
    ("variables with defaults", """query($first: Int = 4, $order: [ArticleOrder!] = [{field: HEAT}]) {
        articles(first: $first, orderBy: $order) { totalCount nodes { id heat } } }""", None, False),
    ("filters", """query($t: [String!]) { articles(first: 10, where: { OR: [{ topics: { some: $t } },
        { title: { contains: "power" } }], NOT: { type: { eq: "video" } } }) {
        totalCount nodes { id title topics { slug } } } }""", {"t": ["{topic}"]}, False),
    ("paging with cursors", """query($after: String) { articles(first: 3, after: $after) {
        edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
     {"after": None}, False),
    ("last and before", "{ articles(last: 3) { nodes { id } pageInfo { hasPreviousPage } } }", None, False),
    ("provider page", """query($d: String!, $n: String) { provider(domain: $d, name: $n) { name articleCount images { url }
        articles(first: 3, orderBy: [{field: QUALITY}]) { totalCount nodes { title quality } } } }""",
     {"d": "{domain}", "n": "{name}"}, False),
    ("topic page", """query($s: String, $n: String) { a: topic(slug: $s) { name keywords hashtags articleCount
        articles(first: 2) { nodes { id } } } b: topic(name: $n) { slug } }""",
     {"s": "{topic}", "n": "{topic_name}"}, False),
    ("connections of providers and topics", """{ providers(first: 5, where: { domain: { contains: "." } }) {
        totalCount pageInfo { endCursor } nodes { domain name } } topics(first: 4) { totalCount nodes { slug } } }""",
     None, False),
    ("facets and stats", """{ facets(where: { hasImages: true }) { total topics { value label count }
        providers { value label count } types { value count } months { value count } }
        stats { articles providers topics relatedItems collections { value count } dataVersion loadedAt } }""",
     None, False),
    ("search", """query($q: String!) { search(query: $q, first: 5) { totalCount
        edges { score cursor node { id title } } } }""", {"q": "power apps"}, False),
    ("search in preview", """query($q: String!) { search(query: $q, first: 5) { totalCount
        edges { score node { id } } } }""", {"q": "power*"}, True),
    ("deep nesting", """{ topics(first: 2) { nodes { slug articles(first: 3) { nodes { id
        related(first: 2) { title article { id relatedFrom(first: 2) { id provider { domain } } } } } } } } }""",
     None, False),
    ("within uses the clock", """{ articles(first: 3, where: { publishedAt: { within: "P30D" } }) {
        totalCount nodes { id publishedAt } } }""", None, False),
    ("nullable variable omitted", "query($after: String) { articles(first: 2, after: $after) { nodes { id } } }",
     {}, False),
    ("ID given as a number", "query($id: ID!) { article(id: $id) { id } }", {"id": 12345}, False),
    ("DateTime and enum variables", """query($d: DateTime!, $f: ArticleSortField!, $dir: SortDirection) {
        articles(first: 3, where: {publishedAt: {gte: $d}}, orderBy: [{field: $f, direction: $dir}]) {
        totalCount nodes { id heat publishedAt } } }""", {"d": "2020-06-01T00:00:00+02:00", "f": "HEAT", "dir": "ASC"},
     False),
    ("a date for a DateTime variable", """query($d: DateTime) { articles(first: 2, where: {publishedAt: {lt: $d}}) {
        totalCount } }""", {"d": "2020-06-01"}, False),
    # Errors: the compiled code must leave these to the reference.
    ("Int variable beyond 32 bits", "query($n: Int) { articles(first: $n) { totalCount } }", {"n": 2 ** 31},
     False),
    ("null for a non-null variable", "query($id: ID!) { article(id: $id) { id } }", {"id": None}, False),
    ("Boolean given as text", "query($yes: Boolean!) { articles(first: 1) { nodes { id @include(if: $yes) } } }",
     {"yes": "true"}, False),
    ("page too large", "{ articles(first: 1000) { nodes { id } } }", None, False),
    ("both id and url", '{ article(id: "x", url: "y") { id } }', None, False),
    ("bad cursor", '{ articles(first: 2, after: "not-a-cursor") { nodes { id } } }', None, False),
    ("bad variable type", "query($n: Int) { articles(first: $n) { totalCount } }", {"n": "three"}, False),
    ("DateTime variable that is no date", "query($d: DateTime!) { articles(where: {publishedAt: {gte: $d}}) "
     "{ totalCount } }", {"d": "soon"}, False),
    ("DateTime variable given a list", "query($d: DateTime!) { articles(where: {publishedAt: {gte: $d}}) "
     "{ totalCount } }", {"d": ["2020-01-01"]}, False),
    ("enum variable that is no value", "query($f: ArticleSortField!) { articles(first: 1, orderBy: [{field: $f}]) "
     "{ totalCount } }", {"f": "NOPE"}, False),
    ("missing required variable", "query($id: ID!) { article(id: $id) { id } }", {}, False),
    ("bad duration", '{ articles(where: { publishedAt: { within: "soon" } }) { totalCount } }', None, False),
    ("partial failure keeps siblings", """{ ok: articles(first: 1) { nodes { id } }
        bad: articles(first: 500) { nodes { id } } }""", None, False),
]


def _fill(value, samples):
    if isinstance(value, str):
        return value.format(**samples) if "{" in value and "}" in value and " " not in value else value
    if isinstance(value, list):
        return [_fill(v, samples) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, samples) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name,query,variables,preview", CASES, ids=[c[0] for c in CASES])
def test_same_answer_as_the_standard_executor(executor, corpus_model, samples, name, query,
                                              variables, preview):
    for key, value in samples.items():
        query = query.replace("{" + key + "}", value)
    _same(executor, corpus_model, query, _fill(variables, samples), preview)


def test_the_fast_path_answers_real_queries(executor, corpus_model, samples):
    """Not vacuous: the compiled code answered, with real content."""
    data = _same(executor, corpus_model, "query($id: ID!) { article(id: $id) { %s } }" % ARTICLE_FIELDS,
                 {"id": samples["linked"]})
    assert data["article"]["id"] == samples["linked"]
    # For HTTP answers, remembered parts come pre-serialized.
    serialized, _ = _both(executor, corpus_model, '{ article(id: "%s") { id title } }' % samples["linked"],
                          fragments=True)
    assert "Fragment" in repr(serialized)
    assert orjson.loads(orjson.dumps(serialized))["data"]["article"]["id"] == samples["linked"]
    hidden = _same(executor, corpus_model, '{ article(id: "%s") { id } }' % samples["hidden"])
    assert hidden == {"article": None}
    article = corpus_model.preview.by_id[samples["linked"]]
    linked = _same(executor, corpus_model, '{ article(id: "%s") { related { url article { id } } } }'
                   % samples["linked"])
    for item, got in zip(article.related, linked["article"]["related"]):
        if got["article"] is not None:
            assert url_key(item.url) == url_key(corpus_model.preview.by_id[got["article"]["id"]].url)


def test_remembered_parts_never_cross_views(executor, corpus_model):
    """A link to an unpublished article is null in public answers and shown
    in preview ones, whichever view asked first."""
    hidden = next(a for a in corpus_model.preview.articles
                  if not a.visible and corpus_model.public.related_from(a))
    source = corpus_model.public.related_from(hidden)[0]
    query = '{ article(id: "%s") { id related { url article { id title } } } }' % source.id
    answers = [_same(executor, corpus_model, query, preview=p) for p in (True, False, True, False)]
    shown = [[i["article"] and i["article"]["id"] for i in a["article"]["related"]] if a["article"] else None
             for a in answers]
    assert shown[0] == shown[2] and shown[1] == shown[3]
    assert hidden.id in shown[0] and hidden.id not in shown[1]


def test_utc_datetimes_are_written_by_orjson_as_the_scalar_writes_them():
    """Answers for orjson leave UTC datetimes to it (parts.dumps): the text
    is the DateTime scalar's, microseconds, early years and all."""
    from hypothesis import given as given_

    @settings(max_examples=2000, deadline=None, derandomize=True)
    @given_(st.datetimes(timezones=st.just(dt.timezone.utc)))
    def check(moment):
        assert parts.dumps(moment) == orjson.dumps(format_datetime(moment))

    check()


def test_answers_for_orjson_carry_datetimes(executor, corpus_model):
    """Not vacuous: with no remembered parts, an HTTP answer holds the
    datetimes themselves, and its bytes are the reference's."""
    query = "{ articles(first: 5) { nodes { id publishedAt related { publishedAt } } } }"
    prepared = executor.prepare(query)
    operation = executor.operation(prepared, None)
    off = Settings(db=None, answer_parts_bytes=0)
    fast = executor.compiled.run(prepared.document, operation, None,
                                 Context(model=corpus_model, preview=False, settings=off, now=FROZEN_NOW,
                                         fragments=True))
    assert "datetime.datetime" in repr(fast)
    result = graphql.execute(executor.schema, prepared.document, None,
                             Context(model=corpus_model, preview=False, settings=off, now=FROZEN_NOW))
    assert parts.answer_bytes(fast, None) == orjson.dumps({"data": result.data})


def test_introspection_is_left_to_the_reference(executor, corpus_model):
    fast, result = _both(executor, corpus_model, "{ __schema { queryType { name } } }")
    assert fast is None and result.data == {"__schema": {"queryType": {"name": "Query"}}}


@pytest.mark.parametrize("variables", [
    {"d": "2021-06-02T09:12:27+02:00", "f": "HEAT", "n": 3, "s": "x", "b": True},
    {"d": "2020-01-01", "f": "TITLE", "n": None, "s": None, "b": None},
    {"d": "2020-01-01T00:00:00Z", "f": "QUALITY"},
    {"d": "junk", "f": "HEAT"}, {"d": 5, "f": "HEAT"}, {"d": "2020-01-01", "f": "heat"},
    {"d": "2020-01-01", "f": "HEAT", "n": 2 ** 40}, {"d": None, "f": "HEAT"}, {"f": "HEAT"},
    {"d": {"x": 1}, "f": "HEAT"}, {"d": "2020-01-01", "f": "HEAT", "b": "yes"}])
def test_scalar_variables_are_coerced_as_graphql_core_does(executor, variables):
    """The compiler's own coercion of scalar and enum variables gives the
    values graphql-core gives, or leaves the request to it."""
    prepared = executor.prepare("query($d: DateTime!, $f: ArticleSortField!, $n: Int, $s: String, $b: Boolean) "
                                "{ articles(first: $n, where: {publishedAt: {gte: $d}, title: {eq: $s}, "
                                "hasImages: $b}, orderBy: [{field: $f}]) { totalCount } }")
    operation = executor.operation(prepared, None)
    mine = compiled._Operation(executor.schema, prepared.document, operation).coerce(variables)
    theirs = graphql.execution.values.get_variable_values(executor.schema, operation.variable_definitions,
                                                          variables)
    if mine is None:
        return  # graphql-core coerces (and words any refusal)
    assert not isinstance(theirs, list), theirs
    assert mine.coerced == theirs.coerced
    assert [type(v) for v in mine.coerced.values()] == [type(v) for v in theirs.coerced.values()]
    assert {k: (v.signature.name, v.value) for k, v in mine.sources.items()} == \
        {k: (v.signature.name, v.value) for k, v in theirs.sources.items()}


def test_plans_are_reused(executor, corpus_model):
    query = "query($n: Int) { articles(first: $n) { nodes { id } } }"
    for n in (1, 2, 3):
        _same(executor, corpus_model, query, {"n": n})
    plans = [p for p in executor.compiled._plans.values() if p is not None and p.operation is
             executor.operation(executor.prepare(query), None)]
    assert len(plans) == 1


@pytest.fixture
def coercions(monkeypatch) -> list:
    """One entry per time a filter's arguments are coerced the long way
    (graphql-core, then Strawberry)."""
    calls = []
    real = arguments.Arguments._coerce
    monkeypatch.setattr(arguments.Arguments, "_coerce",
                        lambda self, variables: calls.append(1) or real(self, variables))
    return calls


def test_filters_with_variables_inside_are_made_from_a_template(executor, corpus_model, coercions):
    """`where: {topics: {some: [$t]}, heat: {gte: $h}}` is coerced by
    graphql-core twice, to make its template (once as is, once with markers
    for the variables); every later request copies the template with its
    values: the answers stay the reference's for every value, in any order.
    A variable left out or null takes the long way."""
    query = "query($t: String!, $h: Int, $n: Int) { articles(where: {topics: {some: [$t]}, heat: {gte: $h}}, " \
            "first: $n) { totalCount nodes { id heat } } }"
    topics = sorted(corpus_model.public.by_topic, key=lambda s: -len(corpus_model.public.by_topic[s]))
    a, b = topics[0], topics[1]
    answers = [_same(executor, corpus_model, query, variables)
               for variables in ({"t": a, "h": 0, "n": 3}, {"t": b, "h": 0, "n": 3}, {"t": a, "h": 0, "n": 3},
                                 {"t": b, "h": 0, "n": 1}, {"t": a, "h": 10 ** 6, "n": 3})]
    assert answers[0] == answers[2] != answers[1] != answers[3]
    assert answers[0]["articles"]["totalCount"] > answers[4]["articles"]["totalCount"] == 0
    assert len(coercions) == 2
    # $h left out: the long way each time (_same runs the compiled code four times)
    _same(executor, corpus_model, query, {"t": a, "n": 2})
    assert len(coercions) == 2 + 4
    _same(executor, corpus_model, query, {"t": a, "h": None, "n": 2})  # null: remembered by its values
    assert len(coercions) == 2 + 4 + 1


def test_list_variables_inside_filters_are_coerced_once_per_value(executor, corpus_model, coercions):
    """A list variable inside a literal gets no template (its conversion looks
    into it): it is coerced once per value of the variables, then remembered."""
    query = "query($t: [String!], $n: Int) { articles(where: {topics: {some: $t}}, first: $n) " \
            "{ totalCount nodes { id } } }"
    topics = sorted(corpus_model.public.by_topic, key=lambda s: -len(corpus_model.public.by_topic[s]))
    a, b = [topics[0]], [topics[1], topics[2]]
    answers = [_same(executor, corpus_model, query, variables)
               for variables in ({"t": a, "n": 3}, {"t": b, "n": 3}, {"t": a, "n": 3}, {"t": b, "n": 1})]
    assert answers[0] == answers[2] != answers[1] != answers[3]
    # A list is no key of the memo: each request takes the long way.
    assert len(coercions) == 4 * 4


# Leaf variables inside `where` at every kind of place a filter takes them,
# with values drawn per request: the template made from the first request's
# values must give the reference's answer for every later one.
_PLACES = {  # type -> filter fields and operators where it goes
    "Int": [("heat", ("eq", "ne", "gt", "gte", "lt", "lte", "in", "notIn")),
            ("quality", ("eq", "gt", "gte", "lt", "lte", "in"))],
    "String": [("title", ("eq", "ne", "contains", "startsWith", "endsWith", "in", "notIn")),
               ("type", ("eq", "ne", "in")), ("excerpt", ("contains",))],
    "DateTime": [("publishedAt", ("eq", "gt", "gte", "lt", "lte"))],
}
_VALUES = {
    "Int": st.integers(-5, 1200) | st.sampled_from([0, 2 ** 31 - 1]),
    "String": st.sampled_from(["power", "Power", "the", "", "video", "article", "a"]),
    "DateTime": st.datetimes(timezones=st.just(dt.timezone.utc)).map(lambda d: d.isoformat())
    | st.just("2020-01-01"),
}


@st.composite
def _filter_documents(draw):
    """A listing whose `where` (AND/OR/NOT to depth 2) holds variables, and
    the variables' (GraphQL type, kind of value) by name."""
    declared: dict[str, tuple[str, str]] = {}

    def variable(kind: str, graphql_type: str, in_list: bool = False) -> str:
        # A list's items are non-null: a nullable variable may not stand for one.
        name = f"v{len(declared)}"
        declared[name] = (graphql_type + ("!" if in_list else draw(st.sampled_from(["", "!"]))), kind)
        return "$" + name

    def tree(depth: int) -> str:
        shape = draw(st.sampled_from(["leaf", "leaf", "topics", "and", "or", "not"] if depth else ["leaf"]))
        if shape == "leaf":
            kind = draw(st.sampled_from(sorted(_PLACES)))
            field, operator = draw(st.sampled_from([(f, o) for f, ops in _PLACES[kind] for o in ops]))
            listed = operator in ("in", "notIn")
            value = variable(kind, kind, listed)
            return f"{{ {field}: {{ {operator}: {f'[{value}]' if listed else value} }} }}"
        if shape == "topics":
            return f"{{ topics: {{ {draw(st.sampled_from(['some', 'every', 'none']))}: " \
                   f"[{variable('topic', 'String', True)}] }} }}"
        if shape == "not":
            return f"{{ NOT: {tree(depth - 1)} }}"
        items = [tree(depth - 1) for _ in range(draw(st.integers(1, 3)))]
        return f"{{ {shape.upper()}: [{', '.join(items)}] }}"

    where = tree(2)
    order = draw(st.sampled_from(["", ", orderBy: [{field: HEAT, direction: ASC}]"]))
    document = (f"query Q({', '.join(f'${n}: {t}' for n, (t, _) in declared.items())}) "
                f"{{ articles(where: {where}, first: 5{order}) {{ totalCount nodes {{ id heat }} }} }}")
    return document, declared


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(made=_filter_documents(), data=st.data())
def test_templates_give_the_reference_answer_for_drawn_values(executor, corpus_model, made, data):
    document, declared = made
    topics = st.sampled_from(sorted(corpus_model.public.by_topic)[:20])
    for _ in range(3):  # the first request makes the template, the next ones use it
        variables = {}
        for name, (graphql_type, kind) in declared.items():
            if not graphql_type.endswith("!") and data.draw(st.integers(0, 9)) == 0:
                if data.draw(st.booleans()):
                    continue  # left out
                variables[name] = None
            else:
                variables[name] = data.draw(topics if kind == "topic" else _VALUES[kind])
        _same(executor, corpus_model, document, variables)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(query=queries(schema.as_str(), custom_scalars={"DateTime": datetime_literals()}),
       preview=st.booleans())
def test_random_queries(executor, corpus_model, query, preview):
    """Queries generated from the schema: whatever their arguments, the fast
    path gives the reference's bytes or leaves the answer to it."""
    prepared = executor.prepare(query)
    assume(prepared.errors is None)
    operation = executor.operation(prepared, None)
    # Keep answers small so the suite stays fast.
    assume(estimate_cost(prepared.document, operation, {}, Limits()) <= 400)
    _same(executor, corpus_model, query, None, preview)


def _parts(budget: int = 1 << 20) -> parts.Parts:
    return parts.Parts(budget, Lock())


def test_whole_answers_of_remembered_parts_are_remembered(executor, corpus_model):
    held = _parts()
    topic = max(corpus_model.public.by_topic, key=lambda slug: len(corpus_model.public.by_topic[slug]))
    query = "query($t: String!) { f: facets(where: {topics: {some: [$t]}}) { total providers { value count } } }"
    _both(executor, corpus_model, query, {"t": topic}, fragments=True)  # asked before: kept (graph/schema.py)
    fast, result = _both(executor, corpus_model, query, {"t": topic}, fragments=True)
    assert result.errors is None and "Fragment" in repr(fast)
    expected = orjson.dumps({"data": result.data})
    first = parts.answer_bytes(fast, held)
    assert first == expected
    # The same parts again (remembered by the first request): the same bytes object.
    again, _ = _both(executor, corpus_model, query, {"t": topic}, fragments=True)
    assert again["data"]["f"] is fast["data"]["f"]
    assert parts.answer_bytes(again, held) is first
    # The same part under another name is another answer.
    renamed = {"data": {"g": fast["data"]["f"]}}
    assert parts.answer_bytes(renamed, held) == expected.replace(b'"f":', b'"g":', 1)
    # Equal contents in another part object: right bytes, never a stale entry.
    copy = {"data": {"f": orjson.Fragment(orjson.dumps(result.data["f"]))}}
    assert parts.answer_bytes(copy, held) == expected
    # An entry whose parts are gone may meet a new part at the same id: the
    # parts it holds are compared, so it is never served for another.
    other = orjson.Fragment(b'{"total":0}')
    held.entries[("f", id(other))] = ((fast["data"]["f"],), b"stale")
    assert parts.answer_bytes({"data": {"f": other}}, held) == b'{"data":{"f":{"total":0}}}'
    # Off: the same bytes, nothing kept.
    assert parts.answer_bytes(fast, None) == expected


def test_facets_parts_are_remembered_no_longer_than_their_facets(executor, corpus_model):
    """graph/schema.py keeps the facets of a filter asked a second time, those
    of its last FACETS_MEMO_SIZE such filters: a compiled query remembers
    the parts of those facets only (a remembered part keeps its object
    alive), none of a filter asked once (one per request, with filters
    drawn anew)."""
    from graph.schema import FACETS_MEMO_SIZE
    from graph.types import ArticleFacets
    prepared = executor.prepare("query Drawn($q: Int!) { facets(where: {quality: {gte: $q}}) "
                                "{ total types { value count } } }")
    operation = executor.operation(prepared, None)

    def run(q: int) -> dict:
        context = Context(model=corpus_model, preview=False, settings=SETTINGS, now=FROZEN_NOW, fragments=True)
        found = executor.compiled.run(prepared.document, operation, {"q": q}, context)
        assert found is not None
        return found["data"]

    held = parts.parts_of(corpus_model.public, SETTINGS.answer_parts_bytes)

    def kept() -> list:
        return [e for e in held.entries.values() if isinstance(e[0], ArticleFacets)]

    base = 10 ** 6  # filters this test's module asks nowhere else
    before = len(kept())
    for q in range(base, base + 50):  # a filter never asked before, each time
        run(q)
    assert len(kept()) == before
    first = run(base)  # asked again: kept, and its part remembered
    assert len(kept()) == before + 1 and run(base)["facets"] is first["facets"]
    for q in range(base, base + FACETS_MEMO_SIZE + 100):  # each asked twice
        assert parts.dumps(run(q)) == parts.dumps(run(q))
    assert 0 < len(kept()) <= FACETS_MEMO_SIZE
    assert max(held.counts.values()) <= FACETS_MEMO_SIZE


def test_remembered_parts_stay_within_their_bytes(executor, corpus_model):
    """Parts of articles drawn from the whole collection are held within the
    budget in bytes; a budget of 0 remembers nothing and answers the same."""
    query = "query($n: Int!, $after: String) { articles(first: $n, after: $after) { " \
            "pageInfo { endCursor } nodes { id title excerpt url } } }"
    prepared = executor.prepare(query)
    operation = executor.operation(prepared, None)
    answers = {}
    for budget in (0, 4096, 1 << 20):
        settings_ = Settings(db=None, answer_parts_bytes=budget)
        corpus_model.public.cache.pop(parts.Parts, None)
        got = []
        after = None
        for _ in range(6):
            context = Context(model=corpus_model, preview=False, settings=settings_, now=FROZEN_NOW,
                              fragments=True)
            body = executor.compiled.run(prepared.document, operation, {"n": 20, "after": after}, context)
            raw = parts.answer_bytes(body, parts.parts_of(corpus_model.public, budget))
            got.append(raw)
            held = corpus_model.public.cache.get(parts.Parts)
            if budget == 0:
                assert held is None and "Fragment" not in repr(body)
            else:
                assert 0 < held.held <= budget
            after = orjson.loads(raw)["data"]["articles"]["pageInfo"]["endCursor"]
        answers[budget] = got
    corpus_model.public.cache.pop(parts.Parts, None)
    assert answers[0] == answers[4096] == answers[1 << 20]


def test_only_answers_made_wholly_of_remembered_parts_are_remembered():
    held = _parts()
    part = orjson.Fragment(b'{"id":"x"}')
    for body in ({"data": {"a": part, "n": 1}}, {"data": {"a": part}, "errors": [{"message": "m"}]},
                 {"data": None}, {"data": {}}, {"errors": [{"message": "m"}]}):
        assert parts.answer_bytes(body, held) == orjson.dumps(body)
    assert not held.entries


def test_remembered_whole_answers_stay_within_their_bound():
    held = _parts(budget=100 + 2 * parts.ENTRY_BYTES)
    answers = [orjson.Fragment(orjson.dumps({"id": f"article-{n:03}", "pad": "x" * 20})) for n in range(20)]
    for _ in range(2):
        for part in answers:
            body = {"data": {"article": part}}
            assert parts.answer_bytes(body, held) == orjson.dumps(body)
            assert 0 < held.held <= held.budget
            assert len(held.entries) <= 2
