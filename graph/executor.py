"""Parse, validate and execute GraphQL documents against the Strawberry schema.

Documents are parsed and validated once and kept in a bounded cache keyed by
their text; limits that depend on variables (the cost estimate) are checked
per request, before execution.
"""
from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock

import orjson
from graphql import (GraphQLError, GraphQLSyntaxError, OperationDefinitionNode, OperationType,
                     execute, parse, specified_rules, validate)
from graphql.validation import NoSchemaIntrospectionCustomRule

from store.errors import BadQuery

from .compiled import Compiler
from .context import Context
from .errors import BAD_USER_INPUT, INTERNAL, QUERY_TOO_COMPLEX, TooComplexError, UserInputError
from .limits import check_cost, check_static, limit_variables
from .settings import Settings

log = logging.getLogger("newsgraph")

DOCUMENT_CACHE_SIZE = 1024
PASSED_CACHE_SIZE = 256  # limit verdicts kept per document
_SUGGESTION = re.compile(r" Did you mean .*\?$")


@dataclass
class Prepared:
    document: object | None
    errors: list[dict] | None      # request-level errors: parse, validation, limits
    operations: dict[str | None, OperationDefinitionNode]
    uses_clock: bool               # `within` filters depend on the time: never cache
    # Variables the per-request limit checks read, and the verdicts already
    # given (by operation and those variables' values): checks run once per
    # shape of request, not once per request.
    limit_variables: frozenset = frozenset()
    passed: OrderedDict = field(default_factory=OrderedDict)


class Executor:
    def __init__(self, schema, settings: Settings) -> None:
        self.schema = schema._schema if hasattr(schema, "_schema") else schema
        self.settings = settings
        self.limits = settings.limits
        rules = list(specified_rules)
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules = rules
        self._cache: OrderedDict[str, Prepared] = OrderedDict()
        self._lock = Lock()
        self.compiled = Compiler(self.schema, hide_suggestions=not settings.introspection)

    def prepare(self, query: str) -> Prepared:
        with self._lock:
            hit = self._cache.get(query)
            if hit is not None:
                self._cache.move_to_end(query)
                return hit
        prepared = self._prepare(query)
        with self._lock:
            self._cache[query] = prepared
            while len(self._cache) > DOCUMENT_CACHE_SIZE:
                self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> Prepared:
        uses_clock = "within" in query
        if not query.strip():
            return Prepared(None, [_error("the query is empty", BAD_USER_INPUT)], {}, uses_clock)
        try:
            document = parse(query, max_tokens=self.limits.max_tokens, no_location=False)
        except GraphQLSyntaxError as exc:
            message = exc.message
            code = BAD_USER_INPUT
            if "contains more than" in message and "tokens" in message:
                message = f"query has more than {self.limits.max_tokens} tokens, the limit"
                code = QUERY_TOO_COMPLEX
            return Prepared(None, [_error(message, code, exc)], {}, uses_clock)
        try:
            check_static(document, self.limits)
        except TooComplexError as exc:
            return Prepared(None, [_error(exc.message, QUERY_TOO_COMPLEX)], {}, uses_clock)
        hide = not self.settings.introspection
        errors = validate(self.schema, document, self.rules, max_errors=20, hide_suggestions=hide)
        if errors:
            return Prepared(None, [self._user_error(e, hide) for e in errors], {}, uses_clock)
        operations = {d.name.value if d.name else None: d for d in document.definitions
                      if isinstance(d, OperationDefinitionNode)}
        return Prepared(document, None, operations, uses_clock, limit_variables(document, self.schema))

    def _user_error(self, error: GraphQLError, hide_suggestions: bool) -> dict:
        message = _SUGGESTION.sub("", error.message) if hide_suggestions else error.message
        return _error(message, BAD_USER_INPUT, error)

    def operation(self, prepared: Prepared, name: str | None) -> OperationDefinitionNode:
        if name is None and len(prepared.operations) == 1:
            return next(iter(prepared.operations.values()))
        if name is None:
            raise UserInputError("the document has several operations: give operationName")
        if name not in prepared.operations:
            raise UserInputError(f"no operation named {name!r} in the document")
        return prepared.operations[name]

    def _check_limits(self, prepared: Prepared, operation, variables: dict) -> None:
        names = prepared.limit_variables
        try:
            # Omitted and null differ: an omitted variable takes its default.
            key = (id(operation), orjson.dumps([(n, n in variables, variables.get(n)) for n in sorted(names)])
                   if names else b"")
        except TypeError:  # too deep for orjson: check it the slow way
            key = None
        if key is not None and key in prepared.passed:
            return
        check_cost(prepared.document, operation, variables, self.limits)  # raises when refused
        if key is not None:
            with self._lock:
                prepared.passed[key] = True
                while len(prepared.passed) > PASSED_CACHE_SIZE:
                    prepared.passed.popitem(last=False)

    def run(self, prepared: Prepared, variables: dict | None, operation_name: str | None,
            context: Context) -> tuple[dict, bool]:
        """The response body, and whether it failed before execution."""
        if prepared.errors:
            return {"errors": prepared.errors}, True
        try:
            operation = self.operation(prepared, operation_name)
            if operation.operation is not OperationType.QUERY:
                raise UserInputError(f"only queries are supported, not {operation.operation.value}s")
            self._check_limits(prepared, operation, variables or {})
        except GraphQLError as exc:
            return {"errors": [_error(exc.message, exc.extensions.get("code", BAD_USER_INPUT))]}, True
        context.deadline = time.monotonic() + self.limits.timeout_seconds
        # Fast path (graph/compiled.py): the operation compiled to plain Python.
        # It answers only when it can vouch for the answer; on None (unsupported
        # document, or any error on the way) the standard executor below, the
        # reference, answers instead.
        fast = self.compiled.run(prepared.document, operation, variables, context)
        if fast is not None:
            return fast, False
        result = execute(self.schema, prepared.document, None, context, variables,
                         operation.name.value if operation.name else None,
                         hide_suggestions=not self.settings.introspection)
        body: dict = {}
        if result.errors:
            body["errors"] = [self.format(e, context) for e in result.errors]
        if result.data is not None or not result.errors:
            body["data"] = result.data
        # No data at all means the request itself was at fault (bad variables).
        return body, result.data is None

    def format(self, error: GraphQLError, context: Context) -> dict:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            code = (error.extensions or {}).get("code", BAD_USER_INPUT)
            return _error(error.message, code, error)
        if isinstance(original, BadQuery):
            return _error(str(original), BAD_USER_INPUT, error)
        log.error("request %s: unexpected error at %s", context.request_id,
                  ".".join(map(str, error.path or ())), exc_info=original)
        return _error(f"internal error; quote request id {context.request_id} to the operator",
                      INTERNAL, error, request_id=context.request_id)


def _error(message: str, code: str, error: GraphQLError | None = None, **extra) -> dict:
    body: dict = {"message": message}
    if error is not None:
        if error.locations:
            body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        if error.path:
            body["path"] = list(error.path)
    body["extensions"] = {"code": code, **extra}
    return body
