"""The ``DateTime`` scalar: ISO-8601 in UTC with ``Z`` out; ``Z``, an offset
or a plain date in. It replaces Strawberry's built-in one, which prints
``+00:00`` and rejects dates."""
from __future__ import annotations

import datetime as dt

import strawberry

from loaders.values import format_datetime, parse_datetime


def _parse(value):
    if not isinstance(value, str):
        raise ValueError(f"DateTime must be an ISO-8601 string, got {value!r}")
    try:
        return parse_datetime(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{value!r} is not an ISO-8601 date-time such as "
                         f"\"2021-06-02T09:12:27Z\"") from None


DateTime = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 date-time; answers are in UTC with a Z suffix.",
    serialize=format_datetime,
    parse_value=_parse,
)

# Annotations say `datetime`; the schema maps it to this scalar.
SCALAR_MAP = {dt.datetime: DateTime}
