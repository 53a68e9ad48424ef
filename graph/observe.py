"""What each request did, for the metrics and the access log.

An ASGI middleware around the whole app, installed only when one of them is
on (``--metrics``, ``--access-log json``), so a server without them pays
nothing. The GraphQL route says what it answered in the request's scope
(``note`` below): the operation's name, the outcome, the error codes, whether
the response cache answered and which limit refused it.

The access log is one JSON object a line on standard output. It holds no
query text, no variables and no header, so neither a preview token nor a
reader's input ever reaches a log.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import time
from dataclasses import dataclass

import orjson

NOTE = "newsgraph.note"
APQ = "newsgraph.apq"  # hit, miss or registered, when the request used a persisted query
access_logger = logging.getLogger("newsgraph.access")
BATCH = "(batch)"  # the operation of a batched request

# Which limit refused a request, from the refusal's message: the messages are
# graph/limits.py's, graph/context.py's and graph/http.py's, and
# tests/test_observe.py triggers each limit and checks its label here.
LIMITS = (
    ("depth", re.compile(r"nested deeper than the limit")),
    ("aliases", re.compile(r"aliases; the limit is")),
    ("tokens", re.compile(r"more than \d+ tokens")),
    ("cost", re.compile(r"may return about [\d,]+ nodes")),
    ("conditions", re.compile(r"where filters have \d+ or more conditions")),
    ("page_size", re.compile(r"^(first|last) must be between 0 and \d+")),
    ("timeout", re.compile(r"execution took longer than")),
    ("body_size", re.compile(r"request body is larger than")),
    ("batch_size", re.compile(r"a batch may hold at most")),
)


def limit_of(message: str) -> str | None:
    """The limit a refusal's message names, or None."""
    for name, pattern in LIMITS:
        if pattern.search(message):
            return name
    return None


@dataclass(frozen=True, slots=True)
class Note:
    """What the GraphQL route answered (the route sets it in the scope)."""

    operation: str | None            # the operation's name, as the client sent it
    outcome: str                     # ok, field_error, refused, bad_request, internal
    codes: tuple[str, ...] = ()      # extensions.code of each error, in order
    cache: bool | None = None        # answered from the response cache (None: not looked up)
    limit: str | None = None         # the limit that refused it (LIMITS)


def executed(body: dict, name: str | None, operations: dict, failed: bool, internal: bool,
             cache: bool | None) -> Note:
    """What an executed request answered: ``operations`` are the document's
    (by name), ``failed`` says it had no data, ``cache`` whether it was
    looked up in the response cache (None: the cache is off)."""
    if name is None and len(operations) == 1:
        operation = next(iter(operations.values()))
        name = operation.name.value if operation.name else None
    errors = body.get("errors")
    if not errors:
        return Note(name, "ok", cache=cache)
    codes = tuple(e.get("extensions", {}).get("code", "") for e in errors)
    outcome = "internal" if internal else ("refused" if failed else "field_error")
    limit = next((found for e in errors if (found := limit_of(e.get("message", "")))), None)
    return Note(name, outcome, codes, cache, limit)


def from_cache(note: Note | None) -> Note:
    if note is None:  # put by a caller that had none: say only that it was a hit
        return Note(None, "ok", cache=True)
    return Note(note.operation, note.outcome, note.codes, True, note.limit)


def refused(scope: dict, exc) -> None:
    """A request refused before GraphQL (graph/errors.HttpError)."""
    scope[NOTE] = Note(None, "bad_request", (exc.code,), limit=limit_of(exc.message))


_OUTCOMES = ("ok", "field_error", "refused", "bad_request", "internal")


def worst(outcomes) -> str:
    return max(outcomes, key=_OUTCOMES.index, default="ok")


def stdout_access_log() -> logging.Logger:
    """The access logger, writing bare lines to standard output."""
    if not any(getattr(h, "newsgraph_access", False) for h in access_logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.newsgraph_access = True
        access_logger.addHandler(handler)
    access_logger.setLevel(logging.INFO)  # whatever --log-level says of the server's own log
    access_logger.propagate = False
    return access_logger


class Observer:
    def __init__(self, app, metrics, access_log: logging.Logger | None) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        sent = {"status": 0, "bytes": 0}

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            # Also when the request was cancelled (a shutdown past its
            # timeout, a client gone): it is logged with status 0.
            self._record(scope, sent["status"], sent["bytes"], time.perf_counter() - began)

    def _record(self, scope: dict, status: int, size: int, seconds: float) -> None:
        found: Note | None = scope.get(NOTE)
        graphql = scope["path"] == "/graphql" and (found is not None or scope["method"] == "POST")
        if found is None and graphql:  # refused before the route could say more
            found = Note(None, "bad_request" if 400 <= status < 500 else
                         ("internal" if status >= 500 or status == 0 else "ok"))
        if found is not None and status == 304:
            found = Note(found.operation, "not_modified", cache=found.cache)
        operation = None
        if found is not None and self.metrics is not None:
            operation = (self.metrics.operations.label(found.operation) if found.operation is not None
                         or found.outcome in ("ok", "field_error", "refused", "not_modified") else "(none)")
            self.metrics.observe(operation, found.outcome, seconds, found.codes, found.cache,
                                 found.limit, scope.get(APQ))
        if self.access_log is not None:
            client = scope.get("client")
            line = {
                "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "bytes": size,
                "client": client[0] if client else None,
            }
            if found is not None:
                line["operation"] = found.operation[:100] if found.operation else None
                line["outcome"] = found.outcome
                line["cache_hit"] = found.cache
                if found.codes:
                    line["codes"] = list(found.codes)
            request_id = scope.get("newsgraph.request_id")
            if request_id:
                line["request_id"] = request_id
            self.access_log.info(orjson.dumps(line).decode())
