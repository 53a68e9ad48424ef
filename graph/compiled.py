"""Read queries compiled to plain Python, with the standard executor as the reference.

Each validated operation is compiled once (graph/codegen.py) into Python
that builds the answer straight from the read-model objects; its
resolvers' arguments are made as graph/arguments.py says, and parts of
answers are remembered per view as graph/parts.py says.

The standard executor stays the reference. Compiled code gives up (raises
``Bail``) at the first thing that would be an error or that it cannot vouch
for (a null in a non-null field, a resolver error, a value of an unexpected
type), and the caller then runs the standard executor, which produces the
answer and its errors. Documents using what the compiler does not support
(introspection, @defer/@stream, fragment variables, async resolvers, field
extensions) are never compiled. tests/test_compiled.py compares the two.
"""
from __future__ import annotations

from threading import Lock

from graphql import (DirectiveNode, DocumentNode, GraphQLBoolean, GraphQLError, GraphQLID, GraphQLInt,
                     GraphQLSchema, GraphQLString, OperationDefinitionNode, Undefined, VariableNode,
                     is_leaf_type, is_non_null_type)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource, get_variable_values
from graphql.language import Visitor, visit

from .arguments import Converter
from .codegen import Codegen, Plan, Unsupported
from .context import Context
from .parts import parts_of

PLAN_CACHE_SIZE = 2048
# Variables of these built-in scalars are taken as they come when of this
# class (Int also needs the 32-bit range check graphql-core makes).
NATIVE_CLASSES = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool, GraphQLInt: int}


class Info:
    """What resolvers get as ``info``: the request context. A resolver that
    reads anything else raises AttributeError, and the request falls back."""

    __slots__ = ("context",)

    def __init__(self, context: Context) -> None:
        self.context = context


class Request:
    """Per-request state the compiled functions share."""

    __slots__ = ("info", "variables", "args", "plan", "parts", "raw")

    def __init__(self, plan: Plan, context: Context, variables) -> None:
        self.plan = plan
        self.info = Info(context)
        self.variables = variables
        self.args: dict[int, dict] = {}
        # Parts are remembered serialized, and values orjson writes as
        # GraphQL would (UTC datetimes) left to it, only for answers that go
        # straight to orjson (HTTP, graph/parts.py dumps); Python callers get
        # plain values.
        self.raw = context.fragments
        self.parts = parts_of(context.view, context.settings.answer_parts_bytes) \
            if context.fragments else None

    def arguments(self, k: int) -> dict:
        """Arguments of field node ``k`` that use variables: the same for every
        object in a list, so converted once per request."""
        got = self.args.get(k)
        if got is None:
            got = self.args[k] = self.plan.dynamic_args[k].values(self.variables)
        return got


class Compiler:
    def __init__(self, schema: GraphQLSchema, hide_suggestions: bool = False) -> None:
        self.schema = schema
        self.hide_suggestions = hide_suggestions
        strawberry_schema = getattr(schema, "_strawberry_schema", None)
        self.scalar_registry = strawberry_schema.schema_converter.scalar_registry
        self.config = strawberry_schema.config
        self.convert = Converter(self.scalar_registry, self.config)
        self._plans: dict[tuple, Plan | None] = {}
        self._operations: dict[int, _Operation] = {}
        self._lock = Lock()

    def run(self, document: DocumentNode, operation: OperationDefinitionNode,
            variables: dict | None, context: Context) -> dict | None:
        """The answer body, or None when the standard executor must answer."""
        facts = self._operations.get(id(operation))
        if facts is None or facts.operation is not operation:
            facts = _Operation(self.schema, document, operation)
            with self._lock:
                if len(self._operations) >= PLAN_CACHE_SIZE:
                    self._operations.clear()
                self._operations[id(operation)] = facts
        coerced = facts.coerce(variables or {})
        if coerced is None:
            coerced = get_variable_values(self.schema, operation.variable_definitions, variables or {},
                                          50, self.hide_suggestions)
            if isinstance(coerced, list):
                return None  # variable errors: the standard executor words them
        try:
            plan = self._plan(facts, document, coerced)
            if plan is None:
                return None
            return {"data": plan.run(None, Request(plan, context, coerced))}
        except Exception:  # any error at all: let the reference executor answer
            return None

    def _plan(self, facts: "_Operation", document, coerced) -> Plan | None:
        operation = facts.operation
        key = (id(operation), *(repr(coerced.coerced.get(n)) for n in facts.directive_variables))
        found = self._plans.get(key, Undefined)
        if found is not Undefined and (found is None or found.operation is operation):
            return found
        try:
            plan = Codegen(self, document, operation, coerced).plan()
        except Unsupported:
            plan = None
        with self._lock:
            if len(self._plans) >= PLAN_CACHE_SIZE:
                self._plans.clear()
            self._plans[key] = plan
        return plan


class _Operation:
    """What the compiler keeps about an operation: the variables @skip and
    @include read (they shape the plan), and a shortcut for coercing
    variables that are all of scalar or enum types."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 operation: OperationDefinitionNode) -> None:
        self.operation = operation
        self.directive_variables = _directive_variables(document)
        self.scalars: list | None = []
        for definition in operation.variable_definitions or ():
            signature = get_variable_signature(schema, definition)
            if isinstance(signature, GraphQLError):
                self.scalars = None
                break
            named = signature.type.of_type if is_non_null_type(signature.type) else signature.type
            if not is_leaf_type(named):
                self.scalars = None  # lists and input objects: graphql-core coerces
                break
            cls = NATIVE_CLASSES.get(named)
            self.scalars.append((signature.name, cls, None if cls else named.coerce_input_value,
                                 is_non_null_type(signature.type), definition.default_value is not None,
                                 signature))

    def coerce(self, inputs: dict):
        """graphql-core's coerced variables: a value already what coercion
        would give (a str for String and ID, an int in range, a bool) as it
        is, another scalar's or enum's by the type's own coercion, as
        graphql-core does it; None when graphql-core must coerce (defaults,
        nulls for non-null variables, values it refuses, lists and objects)."""
        if self.scalars is None:
            return None
        sources: dict = {}
        coerced: dict = {}
        for name, cls, parse, non_null, has_default, signature in self.scalars:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if has_default or non_null:
                    return None
                sources[name] = VariableValueSource(signature)
                continue
            sources[name] = VariableValueSource(signature, value)
            if value is None:
                if non_null:
                    return None
            elif cls is not None:
                if value.__class__ is not cls or (cls is int and not -2147483648 <= value <= 2147483647):
                    return None
            elif value.__class__ in (list, dict):
                return None  # graphql-core checks its depth first
            else:
                try:
                    value = parse(value)
                except Exception:  # graphql-core words the refusal
                    return None
                if value is Undefined:
                    return None
            coerced[name] = value
        return VariableValues(sources, coerced)


def _directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """Variables that @skip/@include read: they shape the plan itself."""
    names: list[str] = []

    class Find(Visitor):
        def enter_directive(self, node: DirectiveNode, *_):
            if node.name.value in ("skip", "include"):
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.append(argument.value.name.value)

    visit(document, Find())
    return tuple(sorted(set(names)))


