"""Read queries compiled to plain Python (the graph-jit technique).

graphql-core's executor resolves, type-checks and completes every field of
every object through several Python calls, about 10 µs a field, which is
most of a request. Here each validated operation is compiled once into
Python source that builds the answer straight from the read-model objects:
a plain field is an attribute read inside a dict display, a list is a
comprehension, and only fields with resolvers (connections, lookups,
``related(first:)``) call a function, the same Strawberry resolver the
standard executor calls.

The standard executor stays the reference. Compiled code gives up (raises
``Bail``) at the first thing that would be an error or that it cannot vouch
for (a null in a non-null field, a resolver error, a value of an unexpected
type), and the caller then runs the standard executor, which produces the
answer and its errors. Documents using what the compiler does not support
(introspection, @defer/@stream, fragment variables, async resolvers, field
extensions) are never compiled. tests/test_compiled.py compares the two.

The part of an answer that shows one entity (an Article, Provider, Topic,
or a view's facets) depends only on that object and the view when no
variable reaches inside it and no ``within`` filter reads the clock; such
parts are remembered per view (so per data version and audience) and
shared by later answers, which must therefore be treated as read-only.
"""
from __future__ import annotations

import keyword
import operator
from collections.abc import Iterable, Mapping
from dataclasses import MISSING
from threading import Lock

import orjson
from graphql import (DirectiveNode, DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLBoolean,
                     GraphQLError, GraphQLID, GraphQLInt, GraphQLObjectType, GraphQLSchema,
                     GraphQLString, OperationDefinitionNode, Undefined, VariableNode, is_abstract_type,
                     is_leaf_type, is_list_type, is_non_null_type, is_object_type)
from graphql.execution.collect_fields import FragmentDetails, collect_fields, collect_subfields
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import (VariableValues, VariableValueSource, coerce_argument,
                                      get_argument_values, get_variable_values)
from graphql.language import Visitor, visit
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import convert_argument
from strawberry.types.base import (StrawberryList, StrawberryMaybe, StrawberryOptional,
                                   has_object_definition)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from .context import Context
from .limits import variables_in

PLAN_CACHE_SIZE = 2048
MEMO_ENTRIES = 20_000  # remembered entity parts per compiled function and view
# Objects kept besides the entities (Node types, which live as long as their
# data version), so that an answer part remembered by object stays right,
# with how many parts of each a compiled function remembers per view.
# graph/schema.py keeps the facets of its last FACETS_MEMO_SIZE filters per
# view; a part remembered beyond those would keep alive a facets object no
# request shows again, one per request when filters are drawn anew (a 10k
# server grew by a gigabyte).
LONG_LIVED = {"ArticleFacets": 1024}
DEFINITION = "strawberry-definition"
# Built-in scalars whose values pass through unchanged when of this class
# (Int also needs the 32-bit range check graphql-core makes).
NATIVE = {GraphQLString: "str", GraphQLID: "str", GraphQLBoolean: "bool", GraphQLInt: "int"}
NATIVE_CLASSES = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool, GraphQLInt: int}
# Coerced arguments remembered per field node with variables inside literals
# (Arguments._nested): one per topic of a large site, say.
REMEMBERED_ARGUMENTS = 4096


def remembered(gtype) -> bool:
    """Whether the parts of answers showing an object of this type are
    remembered per view (when no variable reaches inside them)."""
    return gtype.name in LONG_LIVED or any(i.name == "Node" for i in getattr(gtype, "interfaces", ()))


class Bail(Exception):
    """The compiled code cannot vouch for this answer: use the standard executor."""


class Unsupported(Exception):
    """The document uses something the compiler does not handle."""


class Info:
    """What resolvers get as ``info``: the request context. A resolver that
    reads anything else raises AttributeError, and the request falls back."""

    __slots__ = ("context",)

    def __init__(self, context: Context) -> None:
        self.context = context


class Arguments:
    """The arguments of one field node that uses variables, as the resolver
    takes them: what graphql-core's ``get_argument_values`` and Strawberry's
    ``convert_arguments`` give, with their work done at compile time where
    it does not depend on the variables."""

    def __init__(self, compiler: "Compiler", field_def, node: FieldNode, field) -> None:
        self.field_def = field_def
        self.node = node
        self.field = field
        self.compiler = compiler
        nodes = {argument.name.value: argument for argument in node.arguments or ()}
        self.constant: dict = {}
        self.bare: list[tuple[str, str, bool]] = []  # (name, variable, non-null) for `arg: $var`
        self.nested = False                          # a variable inside a literal: no shortcut
        for name, arg_def in field_def.args.items():
            argument = nodes.get(name)
            if argument is not None and isinstance(argument.value, VariableNode):
                self.bare.append((name, argument.value.name.value, is_non_null_type(arg_def.type)))
            elif argument is not None and variables_in(argument):
                self.nested = True
            else:  # a literal, or absent (its default): the same for every request
                coerce_argument(self.constant, node, name, arg_def, argument, None, None,
                                compiler.hide_suggestions)
        self.conversions = [(compiler.config.name_converter.from_argument(argument),
                             argument.python_name, argument.type) for argument in field.arguments]
        # With variables inside literals (`where: {topics: {some: [$t]}}`),
        # graphql-core coerces the whole literal on every request; its result
        # depends only on those variables' values, so it is remembered by them.
        self.inner = tuple(sorted(set().union(*map(variables_in, node.arguments or ())))) \
            if self.nested else ()
        self.remembered: dict = {}

    def values(self, variables) -> dict:
        if self.nested:
            return self._nested(variables)
        coerced = variables.coerced
        raw = dict(self.constant)
        for name, variable, non_null in self.bare:
            if variable not in coerced:  # defaults apply: the long way
                return self._convert(self._coerce(variables))
            value = coerced[variable]
            if value is None and non_null:
                raise Bail
            raw[name] = value
        return self._convert(raw)

    def _convert(self, raw: dict) -> dict:
        convert = self.compiler.convert
        return {python_name: convert(raw[name], type_)
                for name, python_name, type_ in self.conversions if name in raw}

    def _coerce(self, variables) -> dict:
        return get_argument_values(self.field_def, self.node, variables,
                                   hide_suggestions=self.compiler.hide_suggestions)

    def _nested(self, variables) -> dict:
        """The arguments, remembered by the values of the variables they use.
        Resolvers only read their input objects (graph/types.py, schema.py),
        so requests may share them; each gets its own dict of them. A
        variable left out (its default applies) or a value that cannot be
        a key (a list, an object) takes the long way every time."""
        coerced = variables.coerced
        try:
            key = tuple([coerced[name] for name in self.inner])
            found = self.remembered.get(key)
        except (KeyError, TypeError):
            return self._convert(self._coerce(variables))
        if found is None:
            found = self._convert(self._coerce(variables))
            if len(self.remembered) >= REMEMBERED_ARGUMENTS:
                self.remembered.clear()  # a simple bound; a frontend's few values come back at once
            self.remembered[key] = found
        return dict(found)


class Converter:
    """Strawberry's ``convert_argument`` (GraphQL input values to Python
    input objects) with each input type's fields looked up once, not on
    every call: the same values, several times faster for nested filters.
    Anything unusual (Maybe, lazy types, custom ``from_input``) goes to
    Strawberry itself."""

    def __init__(self, scalar_registry, config) -> None:
        self.scalar_registry = scalar_registry
        self.config = config
        self.kinds: dict[int, tuple] = {}  # id(type) -> (kind, detail, type): types live on

    def __call__(self, value, type_):
        kind = self.kinds.get(id(type_))
        if kind is None:
            kind = self.kinds[id(type_)] = self._kind(type_)
        tag = kind[0]
        if tag == "strawberry":
            return convert_argument(value, kind[1], self.scalar_registry, self.config)
        if value is None or value is UNSET or tag == "leaf":
            return value  # graphql-core already coerced scalars and enums
        if tag == "list":
            return [self(item, kind[1]) for item in value]
        defaults, fields, cls = kind[1]
        kwargs = dict(defaults)
        for graphql_name, python_name, field_type in fields:
            if graphql_name in value:
                kwargs[python_name] = self(value[graphql_name], field_type)
        return cls(**kwargs)

    def _kind(self, type_) -> tuple:
        original = type_
        while isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
            type_ = type_.of_type
        if isinstance(type_, StrawberryMaybe):
            return ("strawberry", type_, original)
        if isinstance(type_, StrawberryList):
            return ("list", type_.of_type, original)
        if (type_ in self.scalar_registry and type_ is not GlobalID) or has_enum_definition(type_):
            return ("leaf", None, original)
        if has_object_definition(type_):
            definition = type_.__strawberry_definition__
            if definition.is_input and definition.from_input is None:
                defaults = {f.python_name: None for f in definition.fields
                            if f.default_value is MISSING and f.default_factory is MISSING}
                fields = []
                for field in definition.fields:
                    field_type = field.resolve_type(type_definition=definition)
                    if isinstance(field_type, LazyType):
                        return ("strawberry", type_, original)
                    fields.append((self.config.name_converter.from_field(field), field.python_name,
                                   field_type))
                return ("input", (defaults, tuple(fields), type_), original)
        return ("strawberry", type_, original)


class Request:
    """Per-request state the compiled functions share."""

    __slots__ = ("info", "variables", "args", "plan", "fragments")

    def __init__(self, plan: "Plan", context: Context, variables) -> None:
        self.plan = plan
        self.info = Info(context)
        self.variables = variables
        self.args: dict[int, dict] = {}
        self.fragments = context.fragments

    def memo(self, token) -> dict:
        """Remembered parts of answers for one compiled function, kept by the
        view, so they go with its data version; serialized parts apart from
        plain ones (a plain part holds only plain parts)."""
        cache = self.info.context.view.cache
        key = (token, self.fragments)
        found = cache.get(key)
        if found is None:
            found = cache.setdefault(key, {})
        return found

    def arguments(self, k: int) -> dict:
        """Arguments of field node ``k`` that use variables: the same for every
        object in a list, so converted once per request."""
        got = self.args.get(k)
        if got is None:
            got = self.args[k] = self.plan.dynamic_args[k].values(self.variables)
        return got


class Plan:
    __slots__ = ("operation", "run", "dynamic_args")


def _leaf(gtype, value):
    out = gtype.coerce_output_value(value)
    if out is None or out is Undefined:
        raise Bail
    return out


def _remember(memo: dict, obj, part: dict, fragments: bool, most: int):
    """Keyed by identity (dataclass objects are not hashable); the entry keeps
    the object alive, so its id cannot be reused while it is remembered.
    For an answer that goes straight to orjson the part is kept serialized,
    so later answers copy its bytes instead of walking it again."""
    if fragments:
        part = orjson.Fragment(orjson.dumps(part))
    if len(memo) >= most:
        memo.clear()  # bounded: start again rather than track recency
    memo[id(obj)] = (obj, part)
    return part


# Whole answers remembered per view by their parts (answer_bytes), in bytes.
WHOLE_ANSWERS_BYTES = 32 << 20


def answer_bytes(body: dict, view) -> bytes:
    """The JSON of an answer body. An answer whose every root field is a
    remembered part (``_remember``: an entity or a view's facets, kept
    serialized) depends only on those parts and the names they answer to,
    so its bytes are remembered per view by them: the next request that
    shows the same parts (``facets`` under the same filter, ``article`` by
    the same id) gets the same bytes object. A fresh 37 KB answer on each
    request (Q4 at 1M) cost the server 148 µs of CPU per request against
    138 µs with this, side by side, though serializing it takes a few µs
    in a loop: the kernel sends a kept object faster than new memory."""
    data = body.get("data")
    if len(body) != 1 or data.__class__ is not dict or not data:
        return orjson.dumps(body)
    parts = tuple(data.values())
    for part in parts:
        if part.__class__ is not orjson.Fragment:
            return orjson.dumps(body)
    key = (*data, *map(id, parts))
    memo = view.cache.get("answers")
    if memo is None:
        memo = view.cache.setdefault("answers", {})
    found = memo.get(key)
    # The entry holds its parts, so their ids cannot be reused while it lives.
    if found is not None and all(map(operator.is_, found[0], parts)):
        return found[1]
    raw = orjson.dumps(body)
    with view.cache_lock:
        held = view.cache.get("answers_held", 0) + len(raw)
        if held > WHOLE_ANSWERS_BYTES:
            memo.clear()  # a simple bound, as _remember's
            held = len(raw)
        memo[key] = (parts, raw)
        view.cache["answers_held"] = held
    return raw


def _null():
    raise Bail


def _items(value):
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray, Mapping)):
        return value
    raise Bail


def _accept(known: set, gtype: GraphQLObjectType, obj) -> None:
    """Type-check an object the first time its class is seen. ``is_type_of``
    is decided by the class for every type here (isinstance checks)."""
    if obj is None:
        raise Bail
    is_type_of = gtype.is_type_of
    if is_type_of is not None and is_type_of(obj, None) is not True:
        raise Bail
    known.add(obj.__class__)


def _resolve_type(table: dict, schema: GraphQLSchema, abstract, obj):
    """The runtime type of an interface value, as graphql-core's default type
    resolver finds it: the first possible type whose ``is_type_of`` holds."""
    if obj is None:
        raise Bail
    for gtype in schema.get_possible_types(abstract):
        if gtype.is_type_of is not None and gtype.is_type_of(obj, None) is True:
            function = table.get(gtype.name)
            if function is None:
                raise Bail
            table[obj.__class__] = function
            return function
    raise Bail


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
            plan = _Codegen(self, document, operation, coerced).plan()
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
    variables that are all built-in scalars."""

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
            if named not in NATIVE:
                self.scalars = None  # lists, inputs, enums, Float: graphql-core coerces
                break
            self.scalars.append((signature.name, NATIVE_CLASSES[named], is_non_null_type(signature.type),
                                 definition.default_value is not None, signature))

    def coerce(self, inputs: dict):
        """graphql-core's coerced variables where the values are already what
        coercion would give (a str for String and ID, an int in range, a
        bool); None when graphql-core must coerce (defaults, nulls for
        non-null variables, other values and types)."""
        if self.scalars is None:
            return None
        sources: dict = {}
        coerced: dict = {}
        for name, cls, non_null, has_default, signature in self.scalars:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if has_default or non_null:
                    return None
                sources[name] = VariableValueSource(signature)
                continue
            if value is None:
                if non_null:
                    return None
            elif value.__class__ is not cls or (cls is int and not -2147483648 <= value <= 2147483647):
                return None
            sources[name] = VariableValueSource(signature, value)
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


class _Codegen:
    """Writes one module of Python source for one operation."""

    def __init__(self, compiler: Compiler, document: DocumentNode,
                 operation: OperationDefinitionNode, coerced) -> None:
        self.c = compiler
        self.schema = compiler.schema
        self.operation = operation
        self.coerced = coerced
        self.fragments: dict[str, FragmentDetails] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:
                    raise Unsupported("fragment variables")
                self.fragments[definition.name.value] = FragmentDetails(definition, None)
        self.env: dict = {"Bail": Bail, "_leaf": _leaf, "_items": _items, "_accept": _accept,
                          "_resolve_type": _resolve_type, "_null": _null, "_remember": _remember,
                          "SCHEMA": self.schema}
        self.functions: list[str] = []
        self.dynamic_args: dict[int, Arguments] = {}
        self.count = 0
        self.temps = 0
        source = document.loc.source.body if document.loc else None
        self.memoize = source is not None and "within" not in source

    def name(self, prefix: str, value=None) -> str:
        self.count += 1
        name = f"{prefix}{self.count}"
        if value is not None:
            self.env[name] = value
        return name

    def plan(self) -> Plan:
        root = self.schema.query_type
        collected = collect_fields(self.schema, self.fragments, self.coerced, root, self.operation,
                                   self.c.hide_suggestions)
        entry = self.object_function(root, collected, check=False)
        source = "\n\n".join(self.functions)
        exec(compile(source, f"<compiled {self.operation.name.value if self.operation.name else 'query'}>",
                     "exec"), self.env)
        plan = Plan()
        plan.operation = self.operation
        plan.run = self.env[entry]
        plan.dynamic_args = self.dynamic_args
        return plan

    # --- objects ---------------------------------------------------------------

    def object_function(self, gtype: GraphQLObjectType, collected, check: bool = True) -> str:
        """A function (object, request) -> dict for one selection on one type."""
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise Unsupported("@defer")
        name = self.name("s_")
        lines = [f"def {name}(o, r):"]
        if check:
            known = self.name("K_", set())
            lines.append(f"    if o.__class__ not in {known}: _accept({known}, {self.name('T_', gtype)}, o)")
        entries = []
        dynamic_before = len(self.dynamic_args)
        for key, details in collected.grouped_field_set.items():
            for detail in details:
                if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                    raise Unsupported("@defer or fragment variables")
            entries.append(f"        {key!r}: {self.field_value(gtype, details)},")
        # An entity's part of the answer depends only on the entity and the view
        # when no variable reaches inside it and no `within` reads the clock:
        # remember it per view, so the next request that shows it copies nothing.
        memo = check and self.memoize and len(self.dynamic_args) == dynamic_before and remembered(gtype)
        if memo:
            token = self.name("M_", object())
            lines.append(f"    m = r.memo({token})")
            lines.append("    got = m.get(id(o))")
            lines.append("    if got is not None and got[0] is o: return got[1]")
            lines.append("    return _remember(m, o, {")
            lines.extend(entries)
            lines.append(f"    }}, r.fragments, {LONG_LIVED.get(gtype.name, MEMO_ENTRIES)})")
        else:
            lines.append("    return {")
            lines.extend(entries)
            lines.append("    }")
        self.functions.append("\n".join(lines))
        return name

    def field_value(self, gtype: GraphQLObjectType, details) -> str:
        node: FieldNode = details[0].node
        field_name = node.name.value
        if field_name == "__typename":
            return repr(gtype.name)
        if field_name.startswith("__"):
            raise Unsupported("introspection")
        field_def = gtype.fields[field_name]
        field = (field_def.extensions or {}).get(DEFINITION)
        if field is None or field.extensions or getattr(field, "is_async", False):
            raise Unsupported(f"field {gtype.name}.{field_name}")
        if field.base_resolver is None:
            if not getattr(field_def.resolve, "_is_default", False):
                raise Unsupported(f"field {gtype.name}.{field_name} has a custom resolver")
            attr = field.python_name
            raw = f"o.{attr}" if attr.isidentifier() and not keyword.iskeyword(attr) \
                else f"getattr(o, {attr!r})"
        else:
            raw = self.resolver_call(field_def, field, node)
        return self.complete(raw, field_def.type, details)

    def resolver_call(self, field_def, field, node: FieldNode) -> str:
        resolver = field.base_resolver
        function = self.name("F_", resolver.wrapped_func)
        args = ["o"] if resolver.self_parameter else []
        for parameter in (resolver.parent_parameter, resolver.root_parameter):
            if parameter is not None:
                args.append(f"{parameter.name}=o")
        if resolver.info_parameter:
            args.append(f"{resolver.info_parameter.name}=r.info")
        arguments = Arguments(self.c, field_def, node, field)
        if arguments.bare or arguments.nested:
            k = len(self.dynamic_args)
            self.dynamic_args[k] = arguments
            args.append(f"**r.arguments({k})")
        else:
            constant = arguments.values(self.coerced)
            if constant:
                args.append(f"**{self.name('A_', constant)}")
        return f"{function}({', '.join(args)})"

    # --- values ----------------------------------------------------------------

    def temp(self) -> str:
        self.temps += 1
        return f"v{self.temps}"

    def complete(self, expr: str, gtype, details) -> str:
        """An expression completing ``expr`` as graphql-core would, or bailing."""
        if is_non_null_type(gtype):
            return self.complete_value(expr, gtype.of_type, details, nullable=False)
        return self.complete_value(expr, gtype, details, nullable=True)

    def complete_value(self, expr: str, gtype, details, nullable: bool) -> str:
        v = self.temp()
        # Each form binds the value once (:=); a null in a non-null position bails.
        null = "None" if nullable else "_null()"
        if is_leaf_type(gtype):
            leaf = self.name("L_", gtype)
            native = NATIVE.get(gtype)
            if native is None:  # enums, DateTime, JSON, Float: graphql-core's own coercion
                return f"({null} if ({v} := {expr}) is None else _leaf({leaf}, {v}))"
            check = f"__class__ is {native}"
            if gtype is GraphQLInt:  # graphql-core refuses ints beyond 32 bits
                check += f" and -2147483648 <= {v} <= 2147483647"
            if nullable:
                return f"({v} if ({v} := {expr}) is None or {v}.{check} else _leaf({leaf}, {v}))"
            return f"({v} if ({v} := {expr}).{check} else _leaf({leaf}, {v}))"
        if is_list_type(gtype):
            item = self.temp()
            inner = self.complete(item, gtype.of_type, details)
            return (f"({null} if ({v} := {expr}) is None else "
                    f"[{inner} for {item} in ({v} if {v}.__class__ is list else _items({v}))])")
        if is_object_type(gtype):
            collected = collect_subfields(self.schema, self.fragments, self.coerced, self.operation,
                                          gtype, details, self.c.hide_suggestions)
            function = self.object_function(gtype, collected)
            if nullable:
                return f"(None if ({v} := {expr}) is None else {function}({v}, r))"
            return f"{function}({expr}, r)"  # the function bails on None
        if is_abstract_type(gtype):
            table = self.name("D_", {})
            abstract = self.name("I_", gtype)
            functions = {}
            for possible in self.schema.get_possible_types(gtype):
                collected = collect_subfields(self.schema, self.fragments, self.coerced, self.operation,
                                              possible, details, self.c.hide_suggestions)
                functions[possible.name] = self.object_function(possible, collected)
            # The table maps type names, then each class met, to its function.
            self.functions.append(f"{table}.update({{{', '.join(f'{k!r}: {f}' for k, f in functions.items())}}})")
            call = f"({table}.get({v}.__class__) or _resolve_type({table}, SCHEMA, {abstract}, {v}))({v}, r)"
            return f"({null} if ({v} := {expr}) is None else {call})"
        raise Unsupported(f"type {gtype}")
