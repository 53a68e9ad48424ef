"""Every option of the server in one frozen object.

The CLI builds it from flags and ``NEWSGRAPH_*`` environment variables; from
there it flows one way into constructors. Nothing else reads the environment.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 50_000          # nodes, multiplying page sizes down nested lists
    max_page: int = 100             # first/last
    max_conditions: int = 100       # in a query's `where` filters (each a pass over articles)
    max_body_bytes: int = 256 * 1024
    max_batch: int = 10             # operations in one batched request
    timeout_seconds: float = 10.0   # execution time for one request


@dataclass(frozen=True)
class Settings:
    db: str | None = None           # the store file served
    host: str = "127.0.0.1"         # secure default: loopback unless told otherwise
    port: int = 8000
    workers: int = 1
    preview_token: str | None = None
    introspection: bool = True
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()
    cache_control: str | None = None          # e.g. "public, max-age=60" on GET answers
    response_cache_bytes: int = 64 * 1024 * 1024
    answer_parts_bytes: int = 32 * 1024 * 1024  # per view: graph/parts.py
    reload_interval: float = 1.0              # seconds between checks of the store file
    log_level: str = "info"
    access_log: str = "text"                  # text (uvicorn's lines), json (graph/observe.py) or off
    metrics: bool = False                     # /metrics in Prometheus' format
    metrics_dir: str | None = None            # with workers: prometheus-client's multiprocess files
    shutdown_timeout: float = 30.0            # seconds requests in flight get after SIGTERM
    limits: Limits = dataclasses.field(default_factory=Limits)

    def to_json(self) -> bytes:
        """Settings cross into uvicorn worker processes as JSON."""
        return orjson.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Settings":
        data = orjson.loads(raw)
        data["limits"] = Limits(**data.get("limits", {}))
        data["cors_origins"] = tuple(data.get("cors_origins") or ())
        return cls(**data)
