"""Inline literals share a plan: documents that differ only in the values
written into them are one document with variables.

Scripts and curl users write values into the document (`heat: {lte: 300}`),
so each request is a new document, and parsing, validating and compiling
it costs far more than answering it. As SQL engines auto-parameterise
statements, a document's literals are taken out here: its text is cut by
one regular expression into a *shape* (everything but the number and
string tokens, which the lexer would read the same way) and those tokens.
The first document of a shape is parsed and validated as it is, then its
literals become variables of a parameterised copy, which is validated in
turn; later documents of the shape use that copy and its compiled plan,
with their own literals as the variables' values.

What stays in the shape, never a variable: names (so enum values, booleans
and null), block strings, comments, and the literals that shape a plan or
that a variable would not stand for exactly:
- directive arguments, and variables' default values;
- literals inside the selection of an entity whose part of an answer the
  compiled executor remembers (graph/parts.py: an Article's
  `related(first: 5)`), since a variable there would stop that;
- a literal whose type is not a scalar (one value given for a list, a
  value inside a JSON object).
Such literals are part of the key: documents that differ in them get a
plan each.

A value is used only if the literal and the variable coerce to the same
value, each the way graphql-core coerces it (an Int out of range, a
malformed date, a bad escape are not): otherwise, and whenever the answer
holds an error, the document is answered as it stands, so limits, errors
and their locations are exactly those of the document as written
(graph/executor.py). Limits see the real values, since the variables hold
them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import (DirectiveNode, DocumentNode, FloatValueNode, GraphQLNonNull, GraphQLScalarType,
                     GraphQLSchema, IntValueNode, NamedTypeNode, NameNode, NonNullTypeNode,
                     OperationDefinitionNode, StringValueNode, TypeInfo, TypeInfoVisitor, Undefined,
                     VariableDefinitionNode, VariableNode)
from graphql.language import Lexer, Source, TokenKind, Visitor, visit

# One pass over the text. Runs of names, punctuation and whitespace go to
# the shape whole; a `"` starts a block string or a string, `#` a comment,
# `-` or a digit outside a name a number, as in graphql-core's lexer (which
# reads `""` followed by `"` as the start of a block string).
_TOKENS = re.compile(r'''
    (?P<skeleton>(?:[_A-Za-z][_0-9A-Za-z]*|[^"\#\-0-9_A-Za-z])+)
  | (?P<block>"""(?:\\"""|(?!""")[\s\S])*""")
  | (?P<string>"(?:[^"\\\n\r]|\\[^\n\r])+"|""(?!"))
  | (?P<comment>\#[^\n\r]*)
  | (?P<number>-?(?:0|[1-9][0-9]*)(?P<float>(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?))
  | (?P<other>[\s\S])
''', re.X)
_NEEDS_LEXER = re.compile(r"[\\\ud800-\udfff]")
_INT, _FLOAT, _STRING = "i", "f", "s"


def shape(text: str) -> tuple[tuple, list[str]]:
    """(the shape: the text between literals and each literal's kind, the
    literal tokens as written)."""
    pieces: list[str] = []
    kinds: list[str] = []
    tokens: list[str] = []
    piece: list[str] = []
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup
        if kind == "float":  # the inner group of a number
            kind = "number"
        if kind == "number":
            kinds.append(_FLOAT if match.group("float") else _INT)
        elif kind == "string":
            kinds.append(_STRING)
        else:
            piece.append(match.group())
            continue
        pieces.append("".join(piece))
        piece = []
        tokens.append(match.group())
    pieces.append("".join(piece))
    return (tuple(pieces), tuple(kinds)), tokens


def _untyped(kind: str, token: str):
    """The value a variable holds for a literal token, or Undefined when
    the token is not one the lexer reads (then the document answers)."""
    if kind == _INT:
        return int(token)
    if kind == _FLOAT:
        return float(token)
    content = token[1:-1]
    if _NEEDS_LEXER.search(content) is None:
        return content
    try:
        read = Lexer(Source(token)).advance()
    except Exception:  # a bad escape, a lone surrogate: the parser's error is the answer
        return Undefined
    return read.value if read.kind is TokenKind.STRING and read.end == len(token) else Undefined


def _node(kind: str, token: str, value):
    if kind == _INT:
        return IntValueNode(value=token)
    if kind == _FLOAT:
        return FloatValueNode(value=token)
    return StringValueNode(value=value)


@dataclass(frozen=True)
class Slot:
    """One literal of a shape: a variable's value, or text that must match."""
    variable: str | None              # None: kept as written (part of the key)
    leaf: GraphQLScalarType | None = None


class Shape:
    """What a shape's first document taught: which literals are variables,
    and the parameterised document's preparation, per text of the literals
    kept as written (None: this shape is not parameterised)."""

    def __init__(self, slots: tuple[Slot, ...], kinds: tuple[str, ...]) -> None:
        self.slots = slots
        self.kinds = kinds
        self.kept = tuple(k for k, slot in enumerate(slots) if slot.variable is None)
        self.prepared: dict[tuple, object] = {}

    def key(self, tokens: list[str]) -> tuple:
        return tuple(tokens[k] for k in self.kept)

    def values(self, tokens: list[str]) -> dict | None:
        """The variables' values for these tokens, or None when a literal
        and its variable would not coerce alike (or a literal is invalid)."""
        values = {}
        for slot, kind, token in zip(self.slots, self.kinds, tokens):
            if slot.variable is None:
                continue
            leaf = slot.leaf
            try:
                value = _untyped(kind, token)  # int() refuses 4,300 digits and more
                if value is Undefined:
                    return None
                literal = (leaf.coerce_input_literal or leaf.parse_literal)(_node(kind, token, value))
                variable = leaf.coerce_input_value(value)
            except Exception:  # noqa: BLE001 (any failure: the document answers with its error)
                return None
            if literal is Undefined or literal.__class__ is not variable.__class__ or literal != variable:
                return None
            values[slot.variable] = value
        return values


def parameterise(schema: GraphQLSchema, document: DocumentNode, text: str, tokens: list[str],
                 kinds: tuple[str, ...], remembered) -> tuple[Shape, DocumentNode] | None:
    """The shape of a valid ``document`` (parsed from ``text``) and its
    parameterised copy, or None when it has nothing to parameterise or is
    not one operation. ``remembered(type)`` says whether the compiled
    executor remembers that type's parts of answers."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or not tokens:
        return None
    starts = [m.start() for m in _TOKENS.finditer(text) if m.lastgroup in ("number", "float", "string")]
    found = _literals(schema, document, remembered)
    if sorted(found) != starts:  # the expression and the lexer disagree: leave it
        return None
    used = {m.group(1) for m in re.finditer(r"\$\s*([_A-Za-z][_0-9A-Za-z]*)", text)}
    prefix = "_L"
    while any(name.startswith(prefix) for name in used):
        prefix += "_"
    slots, replace, definitions = [], {}, []
    for k, start in enumerate(starts):
        leaf = found[start]
        if leaf is None:
            slots.append(Slot(None))
            continue
        name = f"{prefix}{k}"
        slots.append(Slot(name, leaf.of_type if isinstance(leaf, GraphQLNonNull) else leaf))
        replace[start] = VariableNode(name=NameNode(value=name))
        named = NamedTypeNode(name=NameNode(value=slots[-1].leaf.name))
        definitions.append(VariableDefinitionNode(
            variable=VariableNode(name=NameNode(value=name)),
            type=NonNullTypeNode(type=named) if isinstance(leaf, GraphQLNonNull) else named,
            directives=()))
    if not replace:
        return None

    class Edit(Visitor):
        def enter_operation_definition(self, node, *_):
            fields = {name: getattr(node, name) for name in node.keys}
            fields["variable_definitions"] = (*(node.variable_definitions or ()), *definitions)
            return OperationDefinitionNode(**fields)

        def _value(self, node, *_):
            return replace.get(node.loc.start) if node.loc else None

        enter_int_value = enter_float_value = enter_string_value = _value

    return Shape(tuple(slots), kinds), visit(document, Edit())


def _literals(schema: GraphQLSchema, document: DocumentNode, remembered) -> dict:
    """Each number and (non-block) string literal of the document by its
    offset: (its type, when a variable may stand for it, else None)."""
    info = TypeInfo(schema)
    found: dict[int, tuple] = {}
    inside: list[bool] = []     # per enclosing field: on a remembered type
    kept = [0]                  # within directives or variables' defaults

    class Collect(Visitor):
        def enter_field(self, node, *_):
            parent = info.get_parent_type()
            inside.append(parent is not None and remembered(parent))

        def leave_field(self, node, *_):
            inside.pop()

        def enter_directive(self, node: DirectiveNode, *_):
            kept[0] += 1

        def leave_directive(self, node, *_):
            kept[0] -= 1

        def enter_variable_definition(self, node, *_):
            kept[0] += 1

        def leave_variable_definition(self, node, *_):
            kept[0] -= 1

        def _value(self, node, *_):
            if isinstance(node, StringValueNode) and node.block:
                return
            expected = info.get_input_type()
            leaf = expected.of_type if isinstance(expected, GraphQLNonNull) else expected
            free = not kept[0] and not any(inside) and isinstance(leaf, GraphQLScalarType)
            found[node.loc.start] = expected if free else None

        enter_int_value = enter_float_value = enter_string_value = _value

    visit(document, TypeInfoVisitor(info, Collect()))
    return found
