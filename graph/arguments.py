"""The arguments a compiled field passes its resolver.

graphql-core coerces an argument's literal on every request, and Strawberry
then converts the result into input objects: for a `where` filter with a
few variables inside, several times the cost of answering it. Here the
work that does not depend on the variables is done once per field node:

- an argument written as a literal, or left to its default, is coerced and
  converted when the operation is compiled;
- an argument that is one variable (`first: $n`) takes its coerced value;
- a literal with variables inside (`where: {heat: {lte: $h}}`) becomes a
  *template*: the argument converted once with a marker standing for each
  variable, from which each request's arguments are copied with its values
  in the markers' places (only the objects on the way to a marker are new;
  the rest is shared, as resolvers only read their input objects). This
  holds because graphql-core puts a variable's coerced value into a literal
  as it is; the template is used only for variables of scalar and enum
  types with a value, and only once a request's arguments made from it
  equal those graphql-core and Strawberry make. Other requests (a variable
  left out or null, a list or input object variable) take the long way,
  remembered by the values of the variables used.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING

from graphql import FieldNode, GraphQLSchema, NamedTypeNode, OperationDefinitionNode, VariableNode
from graphql import is_leaf_type, is_non_null_type
from graphql.execution.values import VariableValues, coerce_argument, get_argument_values
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import convert_argument
from strawberry.types.base import (StrawberryList, StrawberryMaybe, StrawberryOptional,
                                   has_object_definition)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from .limits import variables_in

# Coerced arguments remembered per field node with variables inside literals
# that no template serves (a list variable, a value left out): one per
# topic of a large site, say.
REMEMBERED_ARGUMENTS = 4096
_UNTRIED = object()


class Bail(Exception):
    """The compiled code cannot vouch for this answer: use the standard executor."""


def leaf_variables(schema: GraphQLSchema, operation: OperationDefinitionNode) -> frozenset[str]:
    """The operation's variables of a scalar or enum type (not a list, not
    an input object): those a template's markers may stand for."""
    names = set()
    for definition in operation.variable_definitions or ():
        type_node = definition.type
        if not isinstance(type_node, NamedTypeNode):
            type_node = type_node.type  # non-null
        if isinstance(type_node, NamedTypeNode):
            named = schema.get_type(type_node.name.value)
            if named is not None and is_leaf_type(named):
                names.add(definition.variable.name.value)
    return frozenset(names)


class Arguments:
    """The arguments of one field node that uses variables, as the resolver
    takes them: what graphql-core's ``get_argument_values`` and Strawberry's
    ``convert_arguments`` give, with their work done at compile time where
    it does not depend on the variables."""

    def __init__(self, compiler, field_def, node: FieldNode, field, leaves: frozenset[str]) -> None:
        self.field_def = field_def
        self.node = node
        self.compiler = compiler
        nodes = {argument.name.value: argument for argument in node.arguments or ()}
        self.constant: dict = {}
        self.bare: list[tuple[str, str, bool]] = []  # (name, variable, non-null) for `arg: $var`
        self.nested = False                          # a variable inside a literal
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
        self.inner = tuple(sorted(set().union(*map(variables_in, node.arguments or ())))) \
            if self.nested else ()
        # Made from the first request that gives every inner variable a value.
        self.template = _UNTRIED if self.inner and leaves.issuperset(self.inner) else None
        self.remembered: dict = {}

    @property
    def dynamic(self) -> bool:
        return bool(self.bare) or self.nested

    def values(self, variables: VariableValues) -> dict:
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

    def _nested(self, variables: VariableValues) -> dict:
        coerced = variables.coerced
        template = self.template
        if template is not None:
            values = [coerced.get(name) for name in self.inner]
            for value in values:
                if value is None:  # left out (a default may apply) or null: the long way
                    break
            else:
                if template is _UNTRIED:
                    return self._make_template(variables, values)
                return template(values)
        return self._remembered(variables)

    def _make_template(self, variables: VariableValues, values: list) -> dict:
        expected = self._convert(self._coerce(variables))
        markers = {name: _Marker(name) for name in self.inner}
        try:
            marked = self._convert(self._coerce(VariableValues(variables.sources,
                                                               {**variables.coerced, **markers})))
            fill = _filler(marked, {id(marker): k for k, marker in enumerate(markers.values())})
            made = fill(values) if fill is not None else None
        except Exception:  # a conversion that looks into the value: no template
            made = None
        self.template = fill if made is not None and made == expected else None
        return expected

    def _remembered(self, variables: VariableValues) -> dict:
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


class _Marker:
    """Stands for a variable's value while a template is made."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<${self.name}>"


def _filler(value, slots: dict[int, int]) -> Callable[[list], object] | None:
    """A function making a copy of ``value`` with each marker (by id, to its
    index in the values) replaced by its value, or None when ``value`` holds
    no marker that this can reach. Markers hidden in anything but lists,
    dicts and input objects are not reached, and the caller's comparison
    with graphql-core's own answer then refuses the template."""
    k = slots.get(id(value))
    if k is not None:
        return lambda values: values[k]
    cls = value.__class__
    if cls is list:
        parts = [(_filler(item, slots), item) for item in value]
        if all(fill is None for fill, _ in parts):
            return None
        makers = [fill or _constant(item) for fill, item in parts]
        return lambda values: [make(values) for make in makers]
    if cls is dict:
        changed = [(key, fill) for key, item in value.items() if (fill := _filler(item, slots))]
        if not changed:
            return None

        def fill_dict(values, base=value, changed=changed):
            copy = dict(base)
            for key, fill in changed:
                copy[key] = fill(values)
            return copy
        return fill_dict
    if has_object_definition(cls) and hasattr(value, "__dict__"):
        changed = [(key, fill) for key, item in vars(value).items() if (fill := _filler(item, slots))]
        if not changed:
            return None

        def fill_object(values, base=value.__dict__, cls=cls, changed=changed):
            copy = cls.__new__(cls)
            state = copy.__dict__
            state.update(base)
            for key, fill in changed:
                state[key] = fill(values)
            return copy
        return fill_object
    return None


def _constant(value):
    return lambda values: value


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
