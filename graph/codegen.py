"""Python source for one validated operation (the graph-jit technique).

graphql-core's executor resolves, type-checks and completes every field of
every object through several Python calls, about 10 µs a field. Here an
operation becomes one module of Python functions that build the answer
straight from the read-model objects: a plain field is an attribute read
inside a dict display, a list is a comprehension, and only fields with
resolvers (connections, lookups, ``related(first:)``) call a function, the
same Strawberry resolver the standard executor calls, with arguments made
by graph/arguments.py.

The code raises ``Bail`` at the first thing that would be an error or that
it cannot vouch for (a null in a non-null field, a value of an unexpected
type); what it cannot compile at all raises ``Unsupported`` here. The part
of an answer showing an entity is remembered per view when nothing of the
request reaches inside it (graph/parts.py).
"""
from __future__ import annotations

import datetime as dt
import keyword
from collections.abc import Iterable, Mapping

from graphql import (DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLBoolean, GraphQLID,
                     GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString,
                     OperationDefinitionNode, Undefined, is_abstract_type, is_leaf_type, is_list_type,
                     is_non_null_type, is_object_type)
from graphql.execution.collect_fields import FragmentDetails, collect_fields, collect_subfields

from loaders.values import format_datetime

from .arguments import Arguments, Bail, leaf_variables
from .parts import LONG_LIVED, remembered

DEFINITION = "strawberry-definition"
# Built-in scalars whose values pass through unchanged when of this class
# (Int also needs the 32-bit range check graphql-core makes).
NATIVE = {GraphQLString: "str", GraphQLID: "str", GraphQLBoolean: "bool", GraphQLInt: "int"}


class Unsupported(Exception):
    """The document uses something the compiler does not handle."""


class Plan:
    __slots__ = ("operation", "run", "dynamic_args")


def _leaf(gtype, value):
    out = gtype.coerce_output_value(value)
    if out is None or out is Undefined:
        raise Bail
    return out



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



class Codegen:
    """Writes one module of Python source for one operation."""

    def __init__(self, compiler, document: DocumentNode,
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
                          "_resolve_type": _resolve_type, "_null": _null, "SCHEMA": self.schema,
                          "_DATETIME": dt.datetime, "_UTC": dt.timezone.utc}
        self.functions: list[str] = []
        self.dynamic_args: dict[int, Arguments] = {}
        self.leaves = leaf_variables(self.schema, operation)
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
            lines.append("    p = r.parts")
            lines.append("    if p is not None:")
            lines.append(f"        k = ({token}, id(o))")
            lines.append("        got = p.entries.get(k)")
            lines.append("        if got is not None and got[0] is o: return got[1]")
            lines.append("    part = {")
            lines.extend(entries)
            lines.append("    }")
            lines.append(f"    return part if p is None else p.remember(k, o, part, {LONG_LIVED.get(gtype.name)})")
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
        arguments = Arguments(self.c, field_def, node, field, self.leaves)
        if arguments.dynamic:
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
            if getattr(gtype, "coerce_output_value", None) is format_datetime:
                # A UTC datetime goes to orjson as it is, for an answer that
                # orjson writes (graph/parts.py dumps, OPT_UTC_Z): the same
                # text format_datetime makes, written in Rust.
                return (f"({null} if ({v} := {expr}) is None else {v} if {v}.__class__ is _DATETIME and "
                        f"{v}.tzinfo is _UTC and r.raw else _leaf({leaf}, {v}))")
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
