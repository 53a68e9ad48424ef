"""Run a query for a script: in-process on a store file or against a server,
optionally following the first connection's cursors to the end (``--all``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import httpx
from graphql import (ArgumentNode, FieldNode, InlineFragmentNode, NamedTypeNode, NameNode,
                     OperationDefinitionNode, SelectionSetNode, VariableDefinitionNode,
                     VariableNode, Visitor, get_named_type, parse, print_ast, visit)
from graphql.error import GraphQLSyntaxError

from graph.context import Context
from graph.executor import Executor
from graph.schema import schema
from graph.settings import Settings
from graph.state import build_model
from store.db import Store
from store.errors import StoreError

AFTER = "newsgraphAfter"


class PullError(Exception):
    """The server (or the in-process executor) answered with errors."""


class Runner:
    def run(self, query: str, variables: dict, operation: str | None) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalRunner(Runner):
    def __init__(self, db: str, preview: bool = False) -> None:
        store = Store(db)
        if not store.exists():
            raise StoreError(f"no store at {db}: run `newsgraph load PATH --db {db}` first")
        self.settings = Settings(db=db)
        self.model = build_model(store)
        self.executor = Executor(schema, self.settings)
        self.preview = preview

    def run(self, query: str, variables: dict, operation: str | None) -> dict:
        context = Context(model=self.model, preview=self.preview, settings=self.settings,
                          now=dt.datetime.now(dt.timezone.utc), request_id="cli")
        body, _ = self.executor.run(self.executor.prepare(query), variables, operation, context)
        return body


class RemoteRunner(Runner):
    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url
        self.client = httpx.Client(headers=headers, timeout=timeout)

    def run(self, query: str, variables: dict, operation: str | None) -> dict:
        try:
            response = self.client.post(self.url, json={"query": query, "variables": variables,
                                                        "operationName": operation})
        except httpx.HTTPError as exc:
            raise PullError(f"cannot reach {self.url}: {exc}") from None
        try:
            return response.json()
        except ValueError:
            raise PullError(f"{self.url} answered HTTP {response.status_code} without JSON") from None

    def close(self) -> None:
        self.client.close()


def check(body: dict) -> dict:
    if body.get("errors"):
        messages = "; ".join(e.get("message", "?") for e in body["errors"])
        raise PullError(messages)
    return body.get("data") or {}


def paginate_query(query: str, operation: str | None) -> tuple[str, tuple[str, ...], str]:
    """Rewrite ``query`` so its first connection takes its cursor from a
    variable and selects ``pageInfo { hasNextPage endCursor }``; return the
    new text, the connection's response path and the cursor variable's name.

    A query that already pages with ``after: $var`` keeps ``$var``; any other
    gets ``after: $newsgraphAfter``."""
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise PullError(exc.message) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((o for o in operations if operation is None or (o.name and o.name.value == operation)), None)
    if chosen is None:
        raise PullError("no operation to run")
    graphql_schema = schema._schema
    found = _find_connection(chosen.selection_set, graphql_schema.query_type, ())
    if found is None:
        raise PullError("--all needs a connection (a field with pageInfo) in the query")
    target, path = found
    given = next((a.value for a in target.arguments or () if a.name.value == "after"), None)
    cursor = given.name.value if isinstance(given, VariableNode) else AFTER
    # AST nodes are immutable: rebuild the target field and its operation.
    arguments = [a for a in target.arguments or () if a.name.value != "after"]
    arguments.append(ArgumentNode(name=NameNode(value="after"),
                                  value=VariableNode(name=NameNode(value=cursor))))
    page_info = FieldNode(
        alias=NameNode(value="newsgraphPageInfo"), name=NameNode(value="pageInfo"), arguments=(),
        directives=(), selection_set=SelectionSetNode(selections=(
            FieldNode(name=NameNode(value="hasNextPage"), arguments=(), directives=()),
            FieldNode(name=NameNode(value="endCursor"), arguments=(), directives=()))))
    new_field = replace(target, arguments=tuple(arguments), selection_set=SelectionSetNode(
        selections=(*target.selection_set.selections, page_info)))
    definitions = list(chosen.variable_definitions or ())
    if cursor == AFTER:
        definitions = [d for d in definitions if d.variable.name.value != AFTER]
        definitions.append(VariableDefinitionNode(variable=VariableNode(name=NameNode(value=AFTER)),
                                                  type=NamedTypeNode(name=NameNode(value="String")),
                                                  directives=()))

    class Rewrite(Visitor):
        def enter_field(self, node, *_):
            return new_field if node is target else None

        def enter_operation_definition(self, node, *_):
            return replace(node, variable_definitions=tuple(definitions)) if node is chosen else None

    document = visit(document, Rewrite())
    return print_ast(document), path, cursor


def _find_connection(selection_set, parent_type, path):
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, InlineFragmentNode):
            found = _find_connection(selection.selection_set, parent_type, path)
            if found:
                return found
            continue
        if not isinstance(selection, FieldNode) or not hasattr(parent_type, "fields"):
            continue
        definition = parent_type.fields.get(selection.name.value)
        if definition is None:
            continue
        named = get_named_type(definition.type)
        key = selection.alias.value if selection.alias else selection.name.value
        if named.name.endswith("Connection") and selection.selection_set:
            return selection, path + (key,)
        found = _find_connection(selection.selection_set, named, path + (key,))
        if found:
            return found
    return None


def _at(data, path):
    for key in path:
        data = (data or {}).get(key)
    return data


def pull_all(runner: Runner, query: str, variables: dict, operation: str | None):
    """Yield every node of the first connection, page after page."""
    from .output import connection_nodes

    rewritten, path, cursor_variable = paginate_query(query, operation)
    variables = dict(variables)
    variables.pop(AFTER, None)  # ours: every walk starts at the beginning
    seen_cursors: set[str] = set()
    while True:
        data = check(runner.run(rewritten, variables, operation))
        connection = _at(data, path)
        if connection is None:
            return
        info = connection.pop("newsgraphPageInfo", {}) or {}
        yield from connection_nodes(connection)
        cursor = info.get("endCursor")
        if not info.get("hasNextPage") or not cursor or cursor in seen_cursors:
            return
        seen_cursors.add(cursor)
        variables[cursor_variable] = cursor
