"""Print query answers as JSON, NDJSON or CSV (nested fields as dotted columns)."""
from __future__ import annotations

import csv
import io
from typing import Iterable

import orjson


def find_connection(data, path=()) -> tuple[tuple, dict] | None:
    """The first connection (an object with a list of edges or nodes; pageInfo
    need not be selected) in answer order, with its path."""
    if isinstance(data, dict):
        if isinstance(data.get("edges"), list) or isinstance(data.get("nodes"), list):
            return path, data
        for key, value in data.items():
            found = find_connection(value, path + (key,))
            if found:
                return found
    return None


def connection_nodes(connection: dict) -> list:
    if connection.get("nodes") is not None:
        return connection["nodes"]
    nodes = []
    for edge in connection.get("edges") or ():
        node = edge.get("node")
        if isinstance(node, dict):
            extra = {k: v for k, v in edge.items() if k not in ("node", "cursor")}
            node = {**node, **extra}  # an edge's score belongs with its node
        nodes.append(node)
    return nodes


def rows_of(data) -> list:
    """What a row is: the first connection's nodes, else the first list."""
    found = find_connection(data)
    if found:
        return connection_nodes(found[1])
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, list):
                return value
            rows = rows_of(value) if isinstance(value, dict) else None
            if rows:
                return rows
    return [data]


def flatten(value, prefix: str = "") -> dict[str, object]:
    """{"provider": {"domain": "x"}} -> {"provider.domain": "x"}; lists of
    objects give one column per key with values joined by "; "."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return {prefix: "; ".join("" if v is None else str(v) for v in value)}
        columns: dict[str, list] = {}
        for item in value:
            for key, v in flatten(item, prefix).items():
                columns.setdefault(key, []).append("" if v is None else str(v))
        return {k: "; ".join(v) for k, v in columns.items()}
    return {prefix: value}


def to_csv(rows: Iterable) -> str:
    flat = [flatten(r) if isinstance(r, dict) else {"value": r} for r in rows]
    header: list[str] = []
    for row in flat:
        for key in row:
            if key not in header:
                header.append(key)
    # A null object (provider: null) flattens to a bare "provider"; its
    # dotted columns from other rows already say it, empty.
    header = [k for k in header if not any(other.startswith(k + ".") for other in header)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in flat:
        writer.writerow(["" if row.get(k) is None else _cell(row.get(k)) for k in header])
    return buffer.getvalue()


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def to_ndjson(rows: Iterable) -> str:
    return "".join(orjson.dumps(r).decode() + "\n" for r in rows)


def to_json(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n"
