"""The values a record's fields are made of: text, integers, booleans and
dates checked and coerced as every generation of the family writes them,
untyped values made into what JSON holds, and the limits a file's values
must keep. ``loaders.normalize`` builds records from them."""
from __future__ import annotations

import base64
import datetime as dt
import re
import unicodedata

from loaders.errors import LoadError


# Records one file may give (API items, or mappings of a YAML list). A real
# page lists tens, a data file thousands; 8 MB of `{}` items would be 2.6
# million articles, minutes and gigabytes before anything is written.
RECORDS_MAX = 20_000


def check_records(path: str, count: int, what: str) -> None:
    if count > RECORDS_MAX:
        raise LoadError(path, f"refused: {count:,} {what} in one file, more than {RECORDS_MAX:,}")


class FieldError(ValueError):
    """A field with the wrong type; ``key`` is the top-level key to point at."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(value: str) -> str:
    """"Teams integration" -> "teams-integration"; accents folded to ASCII."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("-", folded.lower()).strip("-")


def parse_datetime(value) -> dt.datetime:
    """A date or datetime, or an ISO-8601 string with ``Z`` or an offset, to an
    aware UTC datetime. Naive values are taken as UTC, as Jekyll does."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = dt.datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a date: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def format_datetime(moment: dt.datetime) -> str:
    text = moment.astimezone(dt.timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def as_text(key: str, value, *, path: str | None = None):
    if isinstance(value, str):
        # A stray byte-order mark inside a value (pasted text) is invisible
        # and breaks equality and search: removed.
        return value.replace("\ufeff", "") if "\ufeff" in value else value
    if value is None:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # JSON's `"title": 2020` is a title, not a type error
    raise FieldError(key, f"{path or key} must be text, got {kind(value)}")


# Text that a generator wrote for "no value" (Python's None, JSON's null).
NO_VALUE = frozenset({"", "None", "none", "null", "Null", "NULL"})


# GraphQL's Int is 32 bits: a number past them could be stored, but every
# answer holding it would be an error.
INT_RANGE = (-2**31, 2**31 - 1)


def as_int(key: str, value, *, path: str | None = None):
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        number = value
    elif isinstance(value, str) and value.strip() in NO_VALUE:
        return None
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    else:
        raise FieldError(key, f"{path or key} must be an integer, got {kind(value)} {value!r}"[:200])
    if number is not None and not INT_RANGE[0] <= number <= INT_RANGE[1]:
        raise FieldError(key, f"{path or key} must be an integer from {INT_RANGE[0]:,} to {INT_RANGE[1]:,}, "
                              f"got {str(number)[:40]}")
    return number


def as_bool(key: str, value, *, path: str | None = None):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FieldError(key, f"{path or key} must be true or false, got {kind(value)} {value!r}"[:200])


def as_date(key: str, value):
    if value is None or value == "":
        return None
    try:
        return format_datetime(parse_datetime(value))
    except OverflowError:  # 9999-12-31T23:00:00-05:00: a date, past the last one in UTC
        shown = value.isoformat() if isinstance(value, dt.date) else value
        raise FieldError(key, f"{key}: {shown} is outside the dates UTC can hold"[:200]) from None
    except (ValueError, TypeError):
        raise FieldError(key, f"{key} is not an ISO-8601 date: {value!r}"[:200]) from None


def as_list(key: str, value, *, path: str | None = None) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise FieldError(key, f"{path or key} must be a list, got {kind(value)}")


def kind(value) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", str: "text", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


# Lists and mappings one value may nest. The store writes records with
# orjson, which stops at 255 levels (a record sits a few deep); real
# front matter nests a handful.
NESTING_MAX = 64


class _TooDeep(Exception):
    pass


def drop_none(mapping: dict) -> dict:
    # Keys as JSON writes them: YAML's may be numbers, dates or null (`? : x`).
    out = {}
    for k, v in mapping.items():
        if v is not None:
            key = k if type(k) is str else str(k)
            try:
                out[key] = _jsonable(v)
            except _TooDeep:
                raise FieldError(key, f"{key} nests lists or mappings more than {NESTING_MAX} deep") from None
    return out


def _jsonable(value, depth: int = 0):
    """Untyped values go to JSON: dates become ISO strings; what YAML's
    explicit tags build beside them (``!!binary``, ``!!set``, ``!!omap``)
    becomes what JSON can hold: base64 text, a sorted list, a list."""
    if isinstance(value, dt.datetime):
        try:
            return format_datetime(parse_datetime(value))
        except OverflowError:  # 0001-01-01 00:00:00 +05:00 has no UTC time: kept as written
            return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple, set, frozenset)) and depth == NESTING_MAX:
        raise _TooDeep
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):  # sorted: a record's hash must not vary by run
        return [_jsonable(v, depth + 1) for v in sorted(value, key=lambda v: (type(v).__name__, repr(v)))]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if type(value) is int and not -2**63 <= value < 2**64:
        return str(value)  # past what the store writes as a number: kept as its digits
    return value
