"""GraphQL over HTTP: POST JSON, GET, batches, APQ, ETags and the explorer.

Everything a client can get wrong is answered with a 4xx and a JSON body
carrying ``extensions.code``; the response cache and ETags are keyed by the
data version, so an answer from an older version is never served.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response

from .cache import PersistedQueries, ResponseCache
from .context import Context
from .errors import (PERSISTED_QUERY_NOT_FOUND, QUERY_TOO_COMPLEX, UNAUTHENTICATED, UNAVAILABLE,
                     HttpError)
from .executor import Executor
from .negotiation import GRAPHQL_RESPONSE, JSON, negotiate, request_error_status
from .observe import APQ, BATCH, NOTE, Note, executed, from_cache, refused, worst
from .parts import answer_bytes, parts_of
from .settings import Settings
from .state import DataHolder

JSON_TYPE = JSON
# Every POST answer's headers but its length and type: as bytes for the ASGI
# messages (GraphQLHTTP.__call__), as a dict for Starlette's Response (_handle).
_POST_HEADER_DICT = {"Vary": "Authorization, Accept", "Cache-Control": "no-store"}
_POST_HEADERS = {media: [(b"content-type", media.encode()),
                         *((name.lower().encode(), value.encode())
                           for name, value in _POST_HEADER_DICT.items())]
                 for media in (JSON, GRAPHQL_RESPONSE)}
EXAMPLE_QUERY = """# newsgraph: press the run button (or Ctrl-Enter).
# The Docs panel lists every type and field; the History panel keeps your queries.
query Latest($first: Int = 5) {
  stats { articles providers topics dataVersion }
  articles(first: $first) {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes {
      title
      publishedAt
      url
      provider { name domain }
      topics { slug name }
      image { url width height }
    }
  }
  facets { topics { value label count } }
}
"""


def http_error_response(exc: HttpError, media: str = JSON) -> Response:
    return Response(orjson.dumps(exc.body()), status_code=exc.status, media_type=media,
                    headers=exc.headers)


def _accept(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"accept":
            return value
    return None


class Clock:
    """The time `within` filters count back from; tests freeze it."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class GraphQLHTTP:
    def __init__(self, holder: DataHolder, executor: Executor, settings: Settings,
                 explorer=None, clock: Clock | None = None) -> None:
        self.holder = holder
        self.executor = executor
        self.settings = settings
        self.explorer = explorer  # () -> html, or None when GraphiQL is off
        self.clock = clock or Clock()
        self.cache = ResponseCache(settings.response_cache_bytes)
        self.persisted = PersistedQueries()

    # --- entry ---------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        """The route, as an ASGI app. A POST without a preview token (what
        frontends send) is answered straight from the ASGI messages, without
        making Starlette's request and response objects: a repeated one
        costs a quarter less (92 -> 70 µs of CPU at 1k), one by id a sixth
        less (123-129 -> 106 µs). Everything else goes through ``handle``."""
        if self.holder is None:  # the store is still being read (graph/app.py)
            await _LOADING(scope, receive, send)
            return
        if scope["method"] == "POST" and not any(name == b"authorization"
                                                 for name, _ in scope["headers"]):
            answer = negotiate(_accept(scope["headers"]))
            try:
                raw, media = await self._read_body(scope["headers"], receive)
                status, body = self._post(raw, media, False, self.holder.model, scope, answer)
            except HttpError as exc:
                refused(scope, exc)
                await http_error_response(exc, answer)(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-length", b"%d" % len(body)), *_POST_HEADERS[answer]]})
            await send({"type": "http.response.body", "body": body})
            return
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        answer = negotiate(request.headers.get("accept"))
        try:
            return await self._handle(request, answer)
        except HttpError as exc:
            refused(request.scope, exc)
            return http_error_response(exc, answer)

    async def _handle(self, request: Request, answer: str) -> Response:
        preview = self._preview(request)
        model = self.holder.model  # one data version for the whole request
        if request.method == "POST":
            raw, media = await self._read_body(request.scope["headers"], request.receive)
            status, body = self._post(raw, media, preview, model, request.scope, answer)
            return Response(body, status_code=status, media_type=answer, headers=_POST_HEADER_DICT)
        if request.method != "GET":  # routing allows only GET and POST
            raise HttpError("use GET or POST", status=405)
        params = dict(request.query_params)
        if "query" not in params and "extensions" not in params:
            if self.explorer is not None and "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(self.explorer())
            raise HttpError("send a query: POST JSON {\"query\": ...} or GET ?query=...")
        status, body, key, _ = self._execute(self._from_get(params), model, preview, request.scope)
        headers = {"Vary": "Authorization, Accept"}
        # An empty key is an APQ miss (a 200 for Apollo's sake): never cacheable.
        if status == 200 and key:
            etag = self._etag(model.data_version, preview, key, answer)
            headers["ETag"] = etag
            headers["Cache-Control"] = ("private, no-cache" if preview else
                                        self.settings.cache_control or "no-cache")
            if _etag_matches(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers=headers)
        else:
            headers["Cache-Control"] = "no-store"
        return Response(body, status_code=_negotiated(status, answer), media_type=answer,
                        headers=headers)

    def _post(self, raw: bytes, media: str, preview: bool, model, scope,
              answer: str) -> tuple[int, bytes]:
        """The (status, body) of a POST: one operation or a batch."""
        # A repeated request is answered before JSON parsing: the body's
        # bytes are the key (with the audience and, in the cache, the data
        # version), so it costs about a dictionary lookup.
        raw_key = ("raw", preview, media, raw)
        hit = self.cache.get(model.data_version, raw_key)
        if hit is not None:
            scope[NOTE] = from_cache(hit[2])
            return _negotiated(hit[0], answer), hit[1]
        payload = self._decode_body(raw, media)
        if not isinstance(payload, list):
            status, body, _, cacheable = self._execute(payload, model, preview, scope)
            if cacheable:
                self.cache.put(model.data_version, raw_key, status, body, scope.get(NOTE))
            return _negotiated(status, answer), body
        if not payload:
            raise HttpError("the batch is empty")
        if len(payload) > self.settings.limits.max_batch:
            raise HttpError(f"a batch may hold at most {self.settings.limits.max_batch} operations, "
                            f"got {len(payload)}", code=QUERY_TOO_COMPLEX)
        notes: list[Note] = []
        bodies = [self._batched(op, model, preview, scope, notes) for op in payload]
        scope[NOTE] = Note(BATCH, worst(n.outcome for n in notes),
                           tuple(c for n in notes for c in n.codes),
                           limit=next((n.limit for n in notes if n.limit), None))
        return 200, b"[" + b",".join(bodies) + b"]"

    def _batched(self, op: dict, model, preview: bool, scope, notes: list) -> bytes:
        """One operation's answer in a batch: a malformed one fails alone."""
        try:
            body = self._execute(op, model, preview, scope)[1]
        except HttpError as exc:
            refused(scope, exc)
            body = orjson.dumps(exc.body())
        notes.append(scope[NOTE])
        return body

    # --- request parts --------------------------------------------------------

    def _preview(self, request: Request) -> bool:
        header = request.headers.get("authorization")
        if header is None:
            return False
        scheme, _, token = header.partition(" ")
        expected = self.settings.preview_token
        # Compared in constant time; a wrong token is refused, never anonymous.
        if (scheme.lower() == "bearer" and expected
                and hmac.compare_digest(token.strip().encode(), expected.encode())):
            return True
        raise HttpError("invalid preview token", status=401, code=UNAUTHENTICATED,
                        headers={"WWW-Authenticate": 'Bearer realm="newsgraph"'})

    async def _read_body(self, headers: list[tuple[bytes, bytes]], receive) -> tuple[bytes, str]:
        """The body's bytes and media type, from the ASGI headers and messages."""
        limit = self.settings.limits.max_body_bytes
        declared = media = None
        for name, value in headers:  # the first of each, as Starlette's Headers.get
            if name == b"content-length" and declared is None:
                declared = value
            elif name == b"content-type" and media is None:
                media = value
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HttpError(f"request body is larger than the {limit:,}-byte limit", status=413)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise HttpError(f"request body is larger than the {limit:,}-byte limit", status=413)
            chunks.append(chunk)
            more = message.get("more_body", False)
        media = (media or b"").decode("latin-1").split(";")[0].strip().lower()
        return b"".join(chunks), media

    def _decode_body(self, raw: bytes, media: str):
        if media == "application/graphql":
            try:
                return {"query": raw.decode("utf-8")}
            except UnicodeDecodeError:
                raise HttpError("the body is not UTF-8") from None
        if media != JSON_TYPE and not media.endswith("+json"):
            raise HttpError(f"unsupported content type {media or '(none)'!r}: send application/json",
                            status=415)
        if not raw.strip():
            raise HttpError("the request body is empty: send {\"query\": ...}")
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise HttpError(f"the body is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if isinstance(payload, list):
            if not all(isinstance(item, dict) for item in payload):
                raise HttpError("a batch must be a list of objects")
        elif not isinstance(payload, dict):
            raise HttpError("the body must be a JSON object (or a list of them for a batch)")
        return payload

    def _from_get(self, params: dict) -> dict:
        op: dict = {"query": params.get("query"), "operationName": params.get("operationName")}
        for key in ("variables", "extensions"):
            if params.get(key):
                try:
                    op[key] = orjson.loads(params[key])
                except orjson.JSONDecodeError:
                    raise HttpError(f"the {key} parameter is not valid JSON") from None
        op["_get"] = True
        return op

    # --- execution ------------------------------------------------------------

    def _resolve_query(self, op: dict, scope: dict) -> str | None:
        """The document text, or None on an APQ miss. A request that is not
        a well-formed GraphQL-over-HTTP request raises HttpError: a 400
        whatever the client accepts."""
        query = op.get("query")
        if query is not None and not isinstance(query, str):
            raise HttpError("query must be a string")
        extensions = op.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise HttpError("extensions must be a JSON object")
        persisted = extensions.get("persistedQuery") if extensions else None
        if isinstance(persisted, dict):
            digest = persisted.get("sha256Hash")
            if not isinstance(digest, str) or persisted.get("version", 1) != 1:
                raise HttpError("persistedQuery needs version 1 and a sha256Hash")
            if query is None:
                query = self.persisted.get(digest)
                scope[APQ] = "miss" if query is None else "hit"
                return query
            if hashlib.sha256(query.encode()).hexdigest() != digest.lower():
                raise HttpError("provided sha256Hash does not match the query")
            self.persisted.put(digest.lower(), query)
            scope[APQ] = "registered"
        if query is None:
            raise HttpError("the request has no query")
        return query

    def _execute(self, op: dict, model, preview: bool, scope: dict) -> tuple[int, bytes, tuple, bool]:
        """(status, body, cache key, whether the answer may be cached). The
        status is graphql-response+json's (400 for a request that failed
        before execution); ``_negotiated`` makes it JSON's where needed."""
        query = self._resolve_query(op, scope)
        if query is None:
            # Apollo's APQ link expects a miss as a 200 it can retry: a 400
            # would turn persisted queries off in that client for good.
            scope[NOTE] = _APQ_MISS_NOTE
            return 200, _APQ_MISS, (), False
        variables = op.get("variables")
        name = op.get("operationName")
        if variables is not None and not isinstance(variables, dict):
            raise HttpError("variables must be a JSON object")
        if name is not None and not isinstance(name, str):
            raise HttpError("operationName must be a string")
        try:
            var_bytes = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
        except TypeError:  # orjson writes at most 254 levels; it reads up to 1024
            raise HttpError("variables are nested too deeply") from None
        key = (preview, query, var_bytes, name or "")
        hit = self.cache.get(model.data_version, key)
        if hit is not None:
            scope[NOTE] = from_cache(hit[2])
            return hit[0], hit[1], key, True
        prepared = self.executor.prepare(query)
        if op.get("_get") and not prepared.errors:
            operation = prepared.operations.get(name) if name else (
                next(iter(prepared.operations.values())) if len(prepared.operations) == 1 else None)
            if operation is not None and operation.operation.value != "query":
                raise HttpError("GET requests may only run queries; POST a mutation", status=405,
                                headers={"Allow": "POST"})
        context = Context(model=model, preview=preview, settings=self.settings,
                          now=self.clock.now(), request_id=_request_id(scope), fragments=True)
        body, failed = self.executor.run(prepared, variables, name, context)
        # orjson.Fragment parts: only orjson reads them
        raw = answer_bytes(body, parts_of(context.view, self.settings.answer_parts_bytes))
        internal = any(e.get("extensions", {}).get("code") in ("INTERNAL",)
                       for e in body.get("errors", ()))
        # No data because of our own fault is a server error, not a bad request.
        status = (500 if internal else 400) if failed else 200
        clock = prepared.uses_clock or b"within" in var_bytes
        cacheable = not internal and not clock and not context.timed_out
        scope[NOTE] = note = executed(body, name, prepared.operations, failed, internal,
                                   False if self.cache.max_bytes else None)
        if cacheable:
            self.cache.put(model.data_version, key, status, raw, note)
        return status, raw, key, cacheable

    def _etag(self, version: str, preview: bool, key: tuple, answer: str) -> str:
        # The media type is part of the representation: a cache holding the
        # JSON answer must not revalidate the graphql-response+json one.
        digest = hashlib.sha256(repr((preview, answer) + key[1:]).encode()).hexdigest()[:20]
        return f'"{version}-{digest}"'


def _negotiated(status: int, answer: str) -> int:
    """A request that failed before execution is a 400 under
    graphql-response+json and a 200 under JSON (GraphQL over HTTP)."""
    return request_error_status(answer) if status == 400 else status


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return etag in tags


_LOADING = Response(orjson.dumps({"errors": [{"message": "the server is still loading its data; "
                                                         "try again shortly",
                                              "extensions": {"code": UNAVAILABLE}}]}),
                    status_code=503, media_type=JSON, headers={"Retry-After": "1"})
_APQ_MISS_NOTE = Note(None, "refused", (PERSISTED_QUERY_NOT_FOUND,))
_APQ_MISS = orjson.dumps({"errors": [{"message": "PersistedQueryNotFound",
                                       "extensions": {"code": PERSISTED_QUERY_NOT_FOUND}}]})


def _request_id(scope: dict) -> str:
    # 12 random hex digits, as uuid4().hex[:12] gave, at a fifth of its cost.
    return scope.setdefault("newsgraph.request_id", os.urandom(6).hex())
