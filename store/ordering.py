"""Orderings of articles: the sort key of each, as rankings, cursors and
the reference evaluator all compare them.

Missing values sort last in both directions and ties go by id, so a
descending order is not the reverse of the ascending one: both keep ties
and missing values in id order.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .errors import BadQuery
from .objects import Article, default_key

Order = tuple[tuple[str, str], ...]

FIELDS: dict[str, Callable[[Article], object]] = {
    "PUBLISHED_AT": lambda a: a.published_ts,
    "HEAT": lambda a: a.heat,
    "QUALITY": lambda a: a.quality,
    "TITLE": lambda a: a.title_key,
}
ATTRIBUTES = {"PUBLISHED_AT": "published_ts", "HEAT": "heat", "QUALITY": "quality",
              "TITLE": "title_key"}
DEFAULT_ORDER: Order = (("PUBLISHED_AT", "DESC"),)


class Desc:
    """Reverses comparison for values that cannot be negated (titles)."""

    __slots__ = ("v",)

    def __init__(self, v) -> None:
        self.v = v

    def __lt__(self, other: "Desc") -> bool:
        return other.v < self.v

    def __gt__(self, other: "Desc") -> bool:
        return self.v < other.v

    def __eq__(self, other) -> bool:
        return self.v == other.v


def _component(value, direction: str):
    # Missing values sort last whichever the direction.
    if value is None:
        return (1,)
    if direction == "ASC":
        return (0, value)
    return (0, -value) if isinstance(value, (int, float)) else (0, Desc(value))


def normalise_order(order: Sequence[tuple[str, str]] | None) -> Order:
    order = tuple(order or ()) or DEFAULT_ORDER
    for field, direction in order:
        if field not in FIELDS or direction not in ("ASC", "DESC"):
            raise BadQuery(f"cannot order by {field} {direction}")
    return order


def key_function(order: Order) -> Callable[[Article], tuple]:
    if order == DEFAULT_ORDER:
        return default_key
    getters = [(FIELDS[f], d) for f, d in order]
    return lambda a: tuple(_component(g(a), d) for g, d in getters) + (a.id,)


def key_from_values(order: Order, values: list) -> tuple:
    """The sort key of a cursor: the same shape as ``key_function`` gives."""
    if order == DEFAULT_ORDER:
        ts, ident = values
        return (0, -ts, ident) if ts is not None else (1, 0.0, ident)
    *vals, ident = values
    return tuple(_component(v, d) for v, (_, d) in zip(vals, order)) + (ident,)


def values_of(order: Order, article: Article) -> list:
    return [FIELDS[f](article) for f, _ in order] + [article.id]


def order_tag(order: Order) -> str:
    return ",".join(f"{f}:{d}" for f, d in order)
