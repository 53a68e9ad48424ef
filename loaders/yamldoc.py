"""Parse one YAML document (front matter or a data file) and name every
fault in it: a bad file is a rejection with its line, never a crash.

Only libyaml's safe loader is used (yamlfast.py makes its Python half
faster): front matter comes from the web and a full loader would construct
arbitrary Python objects. On top of it:

- characters YAML refuses are replaced, with a warning (characters.py);
- a value holding ``": "`` (``name: DM: Diablo Immortal``), which every YAML
  parser refuses and every reader means as text, is read as text, with a
  warning;
- a scalar its constructor cannot build (``2021-02-30``, an impossible
  date, which PyYAML lets out as a ValueError) is named with its key and line;
- a document whose aliases would expand past a bound (a "billion laughs")
  is refused before anything walks it.
"""
from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .characters import replace_refused
from .errors import LoadError, LoadWarning
from .yamlfast import SafeLoader as _Loader, TooManyValues, keep_text

# Values that aliases may add to a document beyond those it spells out. A
# real document repeats a few settings; nine levels of nine aliases would
# add 387 million, and everything after the parse copies them.
ALIAS_EXPANSION_MAX = 100_000
REPAIRS_MAX = 20      # values with ": " read as text in one document
REPAIR_VALUES = 200_000  # values built by the attempts, past which no further repair is tried
CHARACTER_WARNINGS_MAX = 10  # listed one by one; the rest are counted

_TAG = "tag:yaml.org,2002:"
# What PyYAML's constructors let out for a scalar they cannot build, beside
# its own errors: `2021-02-30` (ValueError), `!!timestamp x` (AttributeError),
# `!!bool x` (KeyError), `!!int ""` (IndexError).
CONSTRUCTOR_FAULTS = (ValueError, OverflowError, TypeError, AttributeError, KeyError, IndexError)
_KEY = r"^(?P<lead>\s*(?:-\s+)?)(?P<key>[^\s\"'#\[\]{},&*!|>%@`-][^:#]*?):[ \t]+"
# `key: text: more` on one line; the value starts as plain text would.
_COLON_IN_VALUE = re.compile(_KEY + r"(?P<value>[^\s\"'\[\]{},&*!|>%@`#][^#]*?:[ \t].*?)\s*$")
# `key: "text "quoted" more"`, or `key: 'quoted' then more`: a value that
# starts quoted and goes on past its closing quote.
_QUOTES_IN_VALUE = re.compile(_KEY + r"(?P<value>(?P<quote>[\"']).*(?P=quote).*?)\s*$")
SHOWN = 80  # characters of a repaired value a warning shows


def parse_yaml(path: str, text: str, first_line: int = 1, warnings: list | None = None,
               text_keys: dict | None = None):
    """The document's data. ``first_line`` is the file line of ``text``'s
    first line, so faults point into the file rather than the fragment;
    repairs are appended to ``warnings`` as LoadWarnings. Plain scalars
    under ``text_keys`` are the words written (yamlfast.keep_text)."""
    warned = warnings if warnings is not None else []
    spent = [0]  # values the attempts have built
    repairs = 0
    while True:
        try:
            return _load(path, text, first_line, text_keys, spent)
        except yaml.reader.ReaderError:
            # libyaml refuses the document whole: found only then, so the
            # usual file pays no scan of its own.
            text = _replace_refused(path, text, first_line, warned)
            continue
        except yaml.MarkedYAMLError as exc:
            repaired = _read_as_text(text, exc)
            if repaired is None:
                raise _marked_error(path, text, first_line, exc) from None
            # Each repair parses the document again: past the first, they
            # stop at a bound on what the attempts built, so a large file of
            # such lines costs seconds rather than minutes.
            if repairs == REPAIRS_MAX or (repairs and spent[0] > REPAIR_VALUES):
                raise LoadError(path, f"invalid YAML: too many values YAML refuses to read as text "
                                      f"(holding ': ' or quotes of their own): {repairs} read so, and more "
                                      "follow", first_line + exc.problem_mark.line) from None
            repairs += 1
            text, line, key, value, fault = repaired
            shown = value if len(value) <= SHOWN else value[:SHOWN] + "…"
            warned.append(LoadWarning(path, f"{key}: the value {shown!r} holds {fault}, which "
                                            "YAML refuses; read as text", first_line + line))


def _replace_refused(path: str, text: str, first_line: int, warned: list) -> str:
    text, replaced, count = replace_refused(text, CHARACTER_WARNINGS_MAX)
    if not count:  # refused for another reason (none known): say what libyaml said
        raise LoadError(path, "invalid YAML: a character YAML refuses")
    for line, code, instead in replaced:
        warned.append(LoadWarning(path, f"{code} is a control character YAML refuses; "
                                        f"read as {instead!r}", first_line + line - 1))
    if count > CHARACTER_WARNINGS_MAX:
        warned.append(LoadWarning(path, f"{count - CHARACTER_WARNINGS_MAX} more control "
                                        "characters YAML refuses were replaced"))
    return text


def _load(path: str, text: str, first_line: int, text_keys: dict | None, spent: list | None = None):
    loader = _Loader(text, text_keys)
    try:
        data = loader.get_single_data()
        if loader.fell_back:
            _check_expansion(path, data, first_line)
        return data
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError):
        raise
    except TooManyValues as exc:
        raise LoadError(path, f"refused: {exc} (keys, list items and values)", first_line) from None
    except yaml.YAMLError as exc:
        raise LoadError(path, f"invalid YAML: {exc}") from None
    except CONSTRUCTOR_FAULTS as exc:
        # A scalar its constructor cannot build: PyYAML lets the error out.
        raise _constructor_fault(path, text, first_line, exc, text_keys) from None
    finally:
        if spent is not None:
            spent[0] += loader.values
        loader.dispose()


def _marked_error(path: str, text: str, first_line: int, exc: yaml.MarkedYAMLError) -> LoadError:
    problem = str(exc.problem or "")
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and "end of stream" in problem:
        # An unclosed quote or bracket: where it opens, not where the text ends.
        mark = exc.context_mark
    if exc.problem_mark is not None and _char_at(text, exc.problem_mark) == "\t" and "tab" not in problem:
        # libyaml does not say which character; PyYAML does, and a tab is the usual one.
        problem = "found character '\\t' that cannot start any token (a tab: YAML indents with spaces)"
    reason = " ".join(p for p in (exc.context, problem) if p)
    opened = _quote_running_to(text, exc.problem_mark) if exc.problem_mark is not None else None
    if opened is not None:
        # A quote left open runs on to the next quote, lines later, and the
        # fault shows only there: name the line where it opens.
        reason += (f" (the quoted value opened at line {first_line + opened} runs on to line "
                   f"{first_line + exc.problem_mark.line}: is its closing quote missing?)")
        return LoadError(path, f"invalid YAML: {reason}", first_line + opened)
    return LoadError(path, f"invalid YAML: {reason}", first_line + mark.line if mark is not None else None)


def _quote_running_to(text: str, mark) -> int | None:
    """The line where a quoted value that spans lines and ends on ``mark``'s
    line opens, if the text before the fault has one."""
    loader = _Loader(text)
    found = None
    try:
        while loader.check_token():
            token = loader.get_token()
            if token.start_mark.line > mark.line:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ("'", '"') \
                    and token.start_mark.line < token.end_mark.line == mark.line:
                found = token.start_mark.line
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return found


def _char_at(text: str, mark) -> str:
    lines = text.split("\n", mark.line + 1)
    if mark.line < len(lines) and mark.column < len(lines[mark.line]):
        return lines[mark.line][mark.column]
    return ""


def _read_as_text(text: str, exc: yaml.MarkedYAMLError) -> tuple[str, int, str, str, str] | None:
    """(``text`` with the value at the fault single-quoted, its line, key,
    value, what was wrong) when the fault is a one-line value that every
    reader means as text: plain text holding ": ", or quoted text holding
    its own quotes. None for any other fault."""
    mark = exc.problem_mark
    problem = str(exc.problem)
    if mark is None:
        return None
    lines = text.split("\n")
    if mark.line >= len(lines):
        return None
    if "mapping values are not allowed" in problem:
        match, fault = _COLON_IN_VALUE.match(lines[mark.line]), "': '"
    elif "did not find expected key" in problem or "expected <block end>" in problem:
        match, fault = _QUOTES_IN_VALUE.match(lines[mark.line]), "quotes of its own"
        if match is not None and match.group("quote") == '"' and "\\" in match.group("value"):
            return None  # escapes: the text is not plain, and would change
        if match is not None and _quote_running_to(text, mark) is not None:
            return None  # a quote left open lines before: that is the fault
    else:
        return None
    if match is None or mark.column <= match.start("value"):
        return None
    value = match.group("value")
    quote = match.groupdict().get("quote")
    if quote and len(value) > 1 and value.endswith(quote):
        value = value[1:-1]  # quoted whole, with quotes inside: the text between the outer ones
    lines[mark.line] = f"{match.group('lead')}{match.group('key')}: '{value.replace(chr(39), chr(39) * 2)}'"
    return "\n".join(lines), mark.line, match.group("key").strip(), value, fault


def _constructor_fault(path: str, text: str, first_line: int, exc: Exception,
                       text_keys: dict | None) -> LoadError:
    """Find the scalar whose constructor fails, by composing the document
    again (only for a bad file) and trying each scalar in text order."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if text_keys is not None and root is not None:
            keep_text(root, text_keys)  # a text field's 2021-02-30 is no fault
        stack = [(root, None)]
        while stack:
            node, key = stack.pop()
            if isinstance(node, ScalarNode):
                construct = loader.yaml_constructors.get(node.tag)
                if construct is None:
                    continue
                try:
                    construct(loader, node)
                except CONSTRUCTOR_FAULTS as fault:
                    kind = node.tag[len(_TAG):] if node.tag.startswith(_TAG) else node.tag
                    what = "a date" if kind == "timestamp" else f"a valid {kind}"
                    named = f"{key}: " if key is not None else ""
                    return LoadError(path, f"{named}{node.value} is not {what} ({fault})",
                                     first_line + node.start_mark.line)
            elif isinstance(node, MappingNode):
                for key_node, value_node in reversed(node.value):
                    name = key_node.value if isinstance(key_node, ScalarNode) else key
                    stack.append((value_node, name))
                    stack.append((key_node, key))
            elif isinstance(node, SequenceNode):
                stack.extend((item, key) for item in reversed(node.value))
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return LoadError(path, f"invalid YAML: {exc}")


class _TooLarge(Exception):
    pass


def _check_expansion(path: str, data, first_line: int) -> None:
    """Refuse a document whose aliases add more than ALIAS_EXPANSION_MAX
    values, or refer to themselves. PyYAML builds an alias as the same
    object, so the walk visits each list and mapping once: linear in what
    the file spells out, however far the aliases would expand."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    distinct = 0

    def size(value) -> int:
        nonlocal distinct
        kind = type(value)
        if kind is not dict and kind is not list:
            return 1
        ident = id(value)
        known = sizes.get(ident)
        if known is not None:
            return known
        if ident in open_:
            raise LoadError(path, "refused: an alias refers to a list or mapping that holds it "
                                  "(a recursive document)", first_line)
        open_.add(ident)
        children = [*value.keys(), *value.values()] if kind is dict else value
        distinct += 1 + len(children)
        total = 1 + sum(size(child) for child in children)
        open_.discard(ident)
        sizes[ident] = total
        if total > distinct + ALIAS_EXPANSION_MAX:
            raise _TooLarge
        return total

    try:
        size(data)
    except _TooLarge:
        raise LoadError(path, f"refused: its aliases would expand it by more than "
                              f"{ALIAS_EXPANSION_MAX:,} values (a YAML alias bomb)", first_line) from None


def key_line(front_matter: str, key: str, first_line: int = 2) -> int | None:
    """The file line where a top-level key is defined, for error messages."""
    prefix = f"{key}:"
    quoted = (f'"{key}":', f"'{key}':")
    for number, line in enumerate(front_matter.split("\n")):
        if line.startswith(prefix) or line.startswith(quoted):
            return first_line + number
    return None
