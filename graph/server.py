"""Run the app under uvicorn (one process, or N workers)."""
from __future__ import annotations

import gc
import logging
import os

import uvicorn

from store.db import Store

from .app import SETTINGS_ENV, create_app
from .settings import Settings
from .state import read_model


def run(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # uvicorn builds each access-log line's parts before the logger drops it;
    # below "info" nothing would be printed, so do not build them at all.
    common = dict(host=settings.host, port=settings.port, log_level=settings.log_level,
                  proxy_headers=False, server_header=False,
                  access_log=settings.log_level in ("info", "debug"))
    if settings.workers > 1:
        # Read the store here first: a worker that cannot read it would die
        # and be restarted forever instead of naming the file once.
        read_model(Store(settings.db))
        # That model was only a check; articles and related items form cycles,
        # so free them now rather than hold them in the supervisor for good.
        gc.collect()
        # Workers are separate processes: they rebuild the app from settings.
        os.environ[SETTINGS_ENV] = settings.to_json().decode()
        uvicorn.run("graph.app:app_from_env", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
