"""Parse, validate and execute GraphQL documents against the Strawberry schema.

Documents are parsed and validated once and kept in a bounded cache keyed by
their text; documents that differ only in their literals share one
parameterised preparation (graph/literals.py). Limits that depend on
variables (the cost estimate) are checked per request, before execution.
"""
from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from threading import Lock

import orjson
from graphql import (GraphQLError, GraphQLSyntaxError, OperationDefinitionNode, OperationType,
                     execute, parse, specified_rules, validate)
from graphql.validation import NoSchemaIntrospectionCustomRule

from store.errors import BadQuery

from . import literals
from .compiled import Compiler
from .context import Context
from .errors import BAD_USER_INPUT, INTERNAL, QUERY_TOO_COMPLEX, TooComplexError, UserInputError
from .limits import check_cost, check_static, limit_variables
from .parts import remembered
from .settings import Settings

log = logging.getLogger("newsgraph")

DOCUMENT_CACHE_SIZE = 1024
SHAPE_CACHE_SIZE = 1024
SHAPE_VARIANTS = 64      # per shape, by the literals it keeps as written
PASSED_CACHE_SIZE = 256  # limit verdicts kept per document
UNSHARED = object()      # a shape whose documents are each prepared alone
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
    # A document answered through its shape's parameterised preparation:
    # the values of its literals as variables, and its text (for answers
    # with errors, which the document as written gives).
    literals: dict | None = None
    text: str | None = None


class Executor:
    def __init__(self, schema, settings: Settings, parameterise: bool = True) -> None:
        self.schema = schema._schema if hasattr(schema, "_schema") else schema
        self.settings = settings
        self.limits = settings.limits
        rules = list(specified_rules)
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules = rules
        self._cache: OrderedDict[str, Prepared] = OrderedDict()
        self.parameterise = parameterise
        self._shapes: OrderedDict[tuple, literals.Shape | object] = OrderedDict()
        self._lock = Lock()
        self.compiled = Compiler(self.schema, hide_suggestions=not settings.introspection)

    def prepare(self, query: str) -> Prepared:
        with self._lock:
            hit = self._cache.get(query)
            if hit is not None:
                self._cache.move_to_end(query)
                return hit
        if not self.parameterise:
            return self._plain(query)
        key, tokens = literals.shape(query)
        if tokens:
            shared = self._shared(key, tokens, query)
            if shared is not None:
                return shared  # not kept by text: a document of fresh values comes once
        prepared = self._plain(query)
        if tokens and prepared.errors is None:
            self._learn(key, tokens, query, prepared)
        return prepared

    def _plain(self, query: str) -> Prepared:
        """The document prepared as written, kept by its text."""
        with self._lock:
            hit = self._cache.get(query)
        if hit is not None:
            return hit
        prepared = self._prepare(query)
        with self._lock:
            self._cache[query] = prepared
            while len(self._cache) > DOCUMENT_CACHE_SIZE:
                self._cache.popitem(last=False)
        return prepared

    def _shared(self, key: tuple, tokens: list[str], query: str) -> Prepared | None:
        """The shape's parameterised preparation with this document's
        literals, or None when the document must be prepared as written."""
        with self._lock:
            shape = self._shapes.get(key)
            if shape is not None:
                self._shapes.move_to_end(key)
        if shape is None or shape is UNSHARED:
            return None
        shared = shape.prepared.get(shape.key(tokens))
        if shared is None:
            return None
        values = shape.values(tokens)
        if values is None:
            return None
        return replace(shared, literals=values, text=query, uses_clock="within" in query)

    def _learn(self, key: tuple, tokens: list[str], query: str, prepared: Prepared) -> None:
        """Make the shape's parameterised preparation from its first valid
        document, for the documents of that shape that come after."""
        with self._lock:
            shape = self._shapes.get(key)
        if shape is UNSHARED or (shape is not None and (shape.key(tokens) in shape.prepared
                                                         or len(shape.prepared) >= SHAPE_VARIANTS)):
            return
        made = literals.parameterise(self.schema, prepared.document, query, tokens, key[1], remembered)
        if made is None:
            learned, shared = UNSHARED, None
        else:
            learned, document = made
            hide = not self.settings.introspection
            shared = None
            if not validate(self.schema, document, self.rules, max_errors=20, hide_suggestions=hide):
                operations = {d.name.value if d.name else None: d for d in document.definitions
                              if isinstance(d, OperationDefinitionNode)}
                shared = Prepared(document, None, operations, prepared.uses_clock,
                                  limit_variables(document, self.schema))
        with self._lock:
            if learned is not UNSHARED:
                shape = self._shapes.get(key)
                learned = shape if isinstance(shape, literals.Shape) else learned
                # A shape whose kept literals keep changing (a page size inside
                # an entity drawn anew each time) stops learning variants: its
                # further documents are prepared as written, and learning each
                # would cost a second validation for nothing.
                if len(learned.prepared) < SHAPE_VARIANTS:
                    # None: documents of this variant are prepared as written.
                    learned.prepared[learned.key(tokens)] = shared
            self._shapes[key] = learned
            while len(self._shapes) > SHAPE_CACHE_SIZE:
                self._shapes.popitem(last=False)

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
        context.deadline = time.monotonic() + self.limits.timeout_seconds
        if prepared.literals is not None:
            merged = {**variables, **prepared.literals} if variables else prepared.literals
            body, failed = self._run(prepared, merged, operation_name, context)
            if "errors" not in body:
                return body, failed
            # Errors (a limit, a resolver's, a variable's) are given as the
            # document as written gives them, with its own locations. Within
            # the same deadline: a request that ran out of time stops at once.
            prepared = self._plain(prepared.text)
        return self._run(prepared, variables, operation_name, context)

    def _run(self, prepared: Prepared, variables: dict | None, operation_name: str | None,
             context: Context) -> tuple[dict, bool]:
        if prepared.errors:
            return {"errors": prepared.errors}, True
        try:
            operation = self.operation(prepared, operation_name)
            if operation.operation is not OperationType.QUERY:
                raise UserInputError(f"only queries are supported, not {operation.operation.value}s")
            self._check_limits(prepared, operation, variables or {})
        except GraphQLError as exc:
            return {"errors": [_error(exc.message, exc.extensions.get("code", BAD_USER_INPUT))]}, True
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
