"""Limits checked before execution: depth, aliases, page sizes, the size of
`where` filters and a cost estimate that multiplies page sizes down nested
connections (GitHub's node limit). Token counts are capped by the parser
itself."""
from __future__ import annotations

from graphql import (FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLSchema,
                     InlineFragmentNode, IntValueNode, NamedTypeNode, OperationDefinitionNode,
                     VariableNode, is_leaf_type, value_from_ast_untyped)
from graphql.language import DocumentNode, Visitor, visit

from .errors import TooComplexError, UserInputError
from .settings import Limits

# Fields whose size is set by `first`/`last`, with the size assumed when the
# argument is absent (connections default to 20; related lists are whole).
SIZED_FIELDS = {"articles": 20, "search": 20, "providers": 20, "topics": 20,
                "related": 20, "relatedFrom": 20, "people": 20, "events": 20, "items": 20,
                "playlists": 20}


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def check_static(document: DocumentNode, limits: Limits) -> None:
    """Depth and alias count; cycles are already refused by validation, but
    this walk is guarded too because it may run first."""
    fragments = _fragments(document)
    aliases = 0
    for definition in document.definitions:
        if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            aliases += _count_aliases(definition.selection_set)
    if aliases > limits.max_aliases:
        raise TooComplexError(f"query uses {aliases} aliases; the limit is {limits.max_aliases}")
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            depth = _depth(definition.selection_set, fragments, 0, limits.max_depth, frozenset())
            if depth > limits.max_depth:
                raise TooComplexError(f"query is nested deeper than the limit of {limits.max_depth} levels")


def _count_aliases(selection_set) -> int:
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode) and selection.alias is not None:
            total += 1
        inner = getattr(selection, "selection_set", None)
        if inner is not None:
            total += _count_aliases(inner)
    return total


def _depth(selection_set, fragments, depth: int, limit: int, seen: frozenset) -> int:
    if selection_set is None or depth > limit:
        return depth
    deepest = depth
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue  # introspection is bounded by the schema itself
            deepest = max(deepest, _depth(selection.selection_set, fragments, depth + 1, limit, seen)
                          if selection.selection_set else depth + 1)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, depth, limit, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue
            deepest = max(deepest, _depth(fragments[name].selection_set, fragments, depth, limit,
                                          seen | {name}))
        if deepest > limit:
            return deepest
    return deepest


def estimate_cost(document: DocumentNode, operation: OperationDefinitionNode,
                  variables: dict, limits: Limits) -> int:
    """Nodes the answer may hold: each sized field contributes its size times
    the sizes of the sized fields above it."""
    return _estimate(document, operation, variables, limits)[0]


def _estimate(document, operation, variables, limits: Limits) -> tuple[int, str | None]:
    """The cost, and the first page size out of bounds (as a message)."""
    fragments = _fragments(document)
    total = 0
    out_of_bounds: str | None = None
    # A variable left out takes its default: count that, not the page default.
    defaults = {d.variable.name.value: int(d.default_value.value)
                for d in operation.variable_definitions or ()
                if isinstance(d.default_value, IntValueNode)}
    variables = {**defaults, **(variables or {})}

    def size(field: FieldNode) -> int | None:
        nonlocal out_of_bounds
        name = field.name.value
        if name not in SIZED_FIELDS:
            return None
        chosen = None
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, VariableNode):
                    value = variables.get(value.name.value)
                elif isinstance(value, IntValueNode):
                    value = int(value.value)
                else:
                    value = None
                if isinstance(value, int) and not isinstance(value, bool):
                    if not 0 <= value <= limits.max_page and out_of_bounds is None:
                        out_of_bounds = (f"{argument.name.value} must be between 0 and "
                                         f"{limits.max_page}, got {value}")
                    chosen = max(chosen or 0, value)
        return SIZED_FIELDS[name] if chosen is None else max(chosen, 1)

    def walk(selection_set, multiplier: int, seen: frozenset) -> None:
        nonlocal total
        if selection_set is None or total > limits.max_cost:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                sized = size(selection)
                inner = multiplier
                if sized is not None:
                    inner = multiplier * sized
                    total += inner
                walk(selection.selection_set, inner, seen)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    walk(fragments[name].selection_set, multiplier, seen | {name})

    walk(operation.selection_set, 1, frozenset())
    return total, out_of_bounds


def check_conditions(document, operation, variables: dict, limits: Limits) -> None:
    """Each condition of a `where` filter is a pass over the articles:
    refuse queries whose filters, literal or from variables, hold too many."""
    fragments = _fragments(document)
    count = 0

    def walk(selection_set, seen: frozenset) -> None:
        nonlocal count
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    if argument.name.value == "where":
                        count += _conditions(value_from_ast_untyped(argument.value, variables))
                        if count > limits.max_conditions:
                            raise TooComplexError(f"the query's where filters have {count} or more "
                                                  f"conditions; the limit is {limits.max_conditions}")
                walk(selection.selection_set, seen)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    walk(fragments[name].selection_set, seen | {name})

    walk(operation.selection_set, frozenset())


def _conditions(where) -> int:
    """Leaf conditions of a filter: lists of filters (AND, OR) count their
    parts, lists of values (in, some) count once."""
    if isinstance(where, dict):
        return sum(_conditions(value) for value in where.values())
    if isinstance(where, list) and any(isinstance(item, dict) for item in where):
        return sum(_conditions(item) for item in where)
    return 1


def limit_variables(document: DocumentNode, schema: GraphQLSchema | None = None) -> frozenset[str]:
    """Variables that the per-request checks read: page sizes, and in
    `where` filters those that can hold filters (an input object, or a list
    of them). A scalar or enum value counts as one condition whatever it
    is, and one of another shape never reaches a filter (variable coercion
    refuses it), so requests that differ only in, say, a topic's slug share
    one verdict. Where there are none, every request gets the same verdict.
    Without the schema every variable there counts."""
    names: set[str] = set()
    declared: dict[str, set[str]] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                named = variable.type
                while not isinstance(named, NamedTypeNode):
                    named = named.type
                declared.setdefault(variable.variable.name.value, set()).add(named.name.value)

    def holds_filters(name: str) -> bool:
        if schema is None or name not in declared:
            return True
        return not all(is_leaf_type(schema.get_type(type_name)) for type_name in declared[name])

    class Collect(Visitor):
        def enter_argument(self, node, *_):
            if node.name.value in ("first", "last"):
                names.update(variables_in(node.value))
            elif node.name.value == "where":
                names.update(filter(holds_filters, variables_in(node.value)))

    visit(document, Collect())
    return frozenset(names)


def variables_in(node) -> set[str]:
    """The names of the variables used anywhere inside ``node``."""
    found: set[str] = set()

    class Find(Visitor):
        def enter_variable(self, variable, *_):
            found.add(variable.name.value)

    visit(node, Find())
    return found


def check_cost(document, operation, variables, limits: Limits) -> None:
    """The limits that depend on variables: page sizes, filter size, cost."""
    cost, out_of_bounds = _estimate(document, operation, variables, limits)
    if out_of_bounds:  # said before execution, rather than as a cost of millions
        raise UserInputError(out_of_bounds)
    check_conditions(document, operation, variables, limits)
    if cost > limits.max_cost:
        raise TooComplexError(f"query may return about {cost:,} nodes; the limit is "
                              f"{limits.max_cost:,} (lower first/last on nested connections)")
