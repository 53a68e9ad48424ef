"""The Starlette application: routes, error shapes and the reload watcher."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
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

from .errors import INTERNAL, NOT_FOUND, HttpError
from .executor import Executor
from .http import JSON_TYPE, EXAMPLE_QUERY, Clock, GraphQLHTTP, http_error_response
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


def create_app(settings: Settings, holder: DataHolder | None = None,
               clock: Clock | None = None) -> Starlette:
    if holder is None:
        if not settings.db:
            raise ValueError("settings.db names no store file")
        holder = DataHolder(Store(settings.db))
    explorer, explorer_routes = _explorer_page(settings)
    endpoint = GraphQLHTTP(holder, Executor(schema, settings), settings, explorer, clock)

    async def healthz(request: Request) -> Response:
        model = holder.model
        view = model.public
        body = {"status": "ok", "dataVersion": model.data_version,
                "loadedAt": model.loaded_at.isoformat().replace("+00:00", "Z") if model.loaded_at else None,
                "counts": {"articles": len(view.articles), "providers": len(view.providers),
                           "topics": len(view.topics)}}
        return Response(orjson.dumps(body), media_type=JSON_TYPE, headers={"Cache-Control": "no-store"})

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

    @contextlib.asynccontextmanager
    async def lifespan(app):
        watcher = None
        if settings.reload_interval > 0:
            watcher = asyncio.create_task(holder.watch(settings.reload_interval))
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()

    middleware = []
    if settings.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                     allow_methods=["GET", "POST"],
                                     allow_headers=["content-type", "authorization"],
                                     max_age=600))
    app = Starlette(
        routes=[Route("/graphql", endpoint, methods=["GET", "POST"]),
                Route("/healthz", healthz, methods=["GET"]), *explorer_routes],
        middleware=middleware,
        exception_handlers={HTTPException: not_found, HttpError: on_http_error, Exception: internal},
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.state.endpoint = endpoint
    return app


def app_from_env() -> Starlette:
    """uvicorn's factory for worker processes (``serve --workers N``)."""
    return create_app(Settings.from_json(os.environ[SETTINGS_ENV]))
