"""The Starlette application: routes, error shapes, loading the store, the
reload watcher, readiness and the observers (metrics, access log)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
import uuid

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from store.db import Store
from store.errors import StoreError

from .errors import INTERNAL, NOT_FOUND, HttpError
from .executor import Executor
from .http import JSON_TYPE, EXAMPLE_QUERY, Clock, GraphQLHTTP, http_error_response
from .observe import Observer, stdout_access_log
from .schema import schema
from .settings import Settings
from .state import DataHolder

log = logging.getLogger("newsgraph")

SETTINGS_ENV = "NEWSGRAPH_SETTINGS_JSON"  # how `serve --workers N` hands settings to workers


def _explorer_page(settings: Settings):
    if not settings.graphiql:
        return None, []
    from .assets import local_assets_available
    from .explorer import asset_routes, explorer_html

    def page() -> str:
        return explorer_html(endpoint="/graphql", default_query=EXAMPLE_QUERY,
                             local=local_assets_available())
    return page, asset_routes()


class App(Starlette):
    """Starlette, with ``POST /graphql`` handed straight to the endpoint
    when no middleware wraps the routes: Starlette's two exception
    middlewares and its router cost CPU on every request and do nothing
    for this one. The endpoint answers every error it knows itself
    (graph/http.py); anything else is answered as Starlette's
    ServerErrorMiddleware answers it, by the same handler, and raised
    again for the server to log. Everything else goes through Starlette."""

    endpoint = None  # the GraphQLHTTP answering POST /graphql directly, or None
    on_error = None  # (request, exception) -> the 500 response

    async def __call__(self, scope, receive, send) -> None:
        endpoint = self.endpoint
        if endpoint is None or scope["type"] != "http" or scope["path"] != "/graphql" \
                or scope["method"] != "POST" or scope.get("root_path"):
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        started = False

        async def sending(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await endpoint(scope, receive, sending)
        except Exception as exc:
            if not started:
                response = await self.on_error(Request(scope), exc)
                await response(scope, receive, send)
            raise


class Lifecycle:
    """Whether the server should get traffic: once the store is loaded, and
    no longer once a shutdown began (SIGTERM: uvicorn stops accepting and
    lets requests in flight finish)."""

    def __init__(self) -> None:
        self.loaded = threading.Event()
        self.stopping = False
        self.failure: BaseException | None = None  # why the store could not be loaded
        self.stop = None  # () -> None, set by the server: stop serving
        self.on_loaded = None  # () -> None, set by the server: say it is ready

    @property
    def ready(self) -> bool:
        return self.loaded.is_set() and not self.stopping

    def watch_signals(self) -> None:
        """Note a shutdown as it is asked for, then let uvicorn's handlers
        (installed before the app starts) do theirs. Signals can only be
        handled in the main thread: the test client runs the app in another."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)

            def handler(signum, frame, previous=previous):
                self.stopping = True
                if callable(previous):
                    previous(signum, frame)
            signal.signal(sig, handler)


def create_app(settings: Settings, holder: DataHolder | None = None,
               clock: Clock | None = None) -> App:
    """The app. Without a ``holder`` it reads ``settings.db`` once it runs,
    after the server listens: /healthz answers at once, /readyz and the API
    answer 503 until the store is read."""
    if holder is None and not settings.db:
        raise ValueError("settings.db names no store file")
    lifecycle = Lifecycle()
    explorer, explorer_routes = _explorer_page(settings)
    endpoint = GraphQLHTTP(holder, Executor(schema, settings), settings, explorer, clock)
    metrics = None
    if settings.metrics:
        from .metrics import Metrics

        metrics = Metrics(lambda: endpoint.holder.model if endpoint.holder else None,
                          settings.metrics_dir)

    def loaded(ready: DataHolder) -> None:
        endpoint.holder = ready
        app.state.holder = ready
        lifecycle.loaded.set()
        if lifecycle.on_loaded is not None and not lifecycle.stopping:
            lifecycle.on_loaded()

    async def healthz(request: Request) -> Response:
        if endpoint.holder is None:
            body = {"status": "loading", "dataVersion": None}
            return Response(orjson.dumps(body), media_type=JSON_TYPE, headers={"Cache-Control": "no-store"})
        model = endpoint.holder.model
        view = model.public
        body = {"status": "ok", "dataVersion": model.data_version,
                "loadedAt": model.loaded_at.isoformat().replace("+00:00", "Z") if model.loaded_at else None,
                "counts": {"articles": len(view.articles), "providers": len(view.providers),
                           "topics": len(view.topics)}}
        return Response(orjson.dumps(body), media_type=JSON_TYPE, headers={"Cache-Control": "no-store"})

    async def readyz(request: Request) -> Response:
        status = ("ready" if lifecycle.ready else "stopping" if lifecycle.stopping else
                  "failed" if lifecycle.failure is not None else "loading")
        body = {"status": status,
                "dataVersion": endpoint.holder.model.data_version if endpoint.holder else None}
        return Response(orjson.dumps(body), status_code=200 if lifecycle.ready else 503,
                        media_type=JSON_TYPE, headers={"Cache-Control": "no-store"})

    async def scrape(request: Request) -> Response:
        body, media = metrics.scrape()
        return Response(body, media_type=media, headers={"Cache-Control": "no-store"})

    async def not_found(request: Request, exc: HTTPException) -> Response:
        code = NOT_FOUND if exc.status_code == 404 else "BAD_REQUEST"
        message = "no such route; the API is at /graphql" if exc.status_code == 404 else exc.detail
        return Response(orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}),
                        status_code=exc.status_code, media_type=JSON_TYPE, headers=exc.headers)

    async def internal(request: Request, exc: Exception) -> Response:
        rid = request.scope.get("newsgraph.request_id") or uuid.uuid4().hex[:12]
        log.error("request %s failed", rid, exc_info=exc)
        body = {"errors": [{"message": f"internal error; quote request id {rid} to the operator",
                            "extensions": {"code": INTERNAL, "request_id": rid}}]}
        return Response(orjson.dumps(body), status_code=500, media_type=JSON_TYPE)

    async def on_http_error(request: Request, exc: HttpError) -> Response:
        return http_error_response(exc)

    async def load_and_watch() -> None:
        if endpoint.holder is None:
            try:
                ready = await asyncio.to_thread(DataHolder, Store(settings.db))
            except Exception as exc:  # noqa: BLE001 - whatever it is, the server cannot serve
                lifecycle.failure = exc
                if isinstance(exc, StoreError):
                    log.error("%s", exc)
                else:
                    log.error("the store %s cannot be loaded", settings.db, exc_info=exc)
                if lifecycle.stop is not None:
                    lifecycle.stop()
                return
            if metrics is not None:
                _time_reloads(ready, metrics.reloads)
            loaded(ready)
        else:
            loaded(endpoint.holder)
        if settings.reload_interval > 0:
            await endpoint.holder.watch(settings.reload_interval)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        lifecycle.watch_signals()
        task = asyncio.create_task(load_and_watch())
        try:
            yield
        finally:
            lifecycle.stopping = True
            task.cancel()

    middleware = []
    access_log = stdout_access_log() if settings.access_log == "json" else None
    if metrics is not None or access_log is not None:
        middleware.append(Middleware(Observer, metrics=metrics, access_log=access_log))
    if settings.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                     allow_methods=["GET", "POST"],
                                     allow_headers=["content-type", "authorization"],
                                     max_age=600))
    app = App(
        routes=[Route("/graphql", endpoint, methods=["GET", "POST"]),
                Route("/healthz", healthz, methods=["GET"]),
                Route("/readyz", readyz, methods=["GET"]),
                *([Route("/metrics", scrape, methods=["GET"])] if metrics is not None else []),
                *explorer_routes],
        middleware=middleware,
        exception_handlers={HTTPException: not_found, HttpError: on_http_error, Exception: internal},
        lifespan=lifespan,
    )
    if not middleware:
        app.endpoint, app.on_error = endpoint, internal
    app.state.holder = holder
    app.state.endpoint = endpoint
    app.state.lifecycle = lifecycle
    return app


def _time_reloads(holder: DataHolder, histogram) -> None:
    """Observe how long each reload that swapped in a new version took.
    ``DataHolder.watch`` calls ``reload_if_changed``: wrapping it here keeps
    the metrics out of the store's reload."""
    reload = holder.reload_if_changed

    def timed() -> bool:
        began = time.perf_counter()
        swapped = reload()
        if swapped:
            histogram.observe(time.perf_counter() - began)
        return swapped
    holder.reload_if_changed = timed


def app_from_env() -> App:
    """uvicorn's factory for worker processes (``serve --workers N``)."""
    settings = Settings.from_json(os.environ[SETTINGS_ENV])
    # A worker is a process of its own, started afresh: without this its
    # reloads (patched, or built whole and why) would go unlogged. Lines
    # of several workers interleave, so each names its process.
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    return create_app(settings)
