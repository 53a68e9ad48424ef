"""Run the app under uvicorn (one process, or N workers)."""
from __future__ import annotations

import logging
import os

import uvicorn

from .app import SETTINGS_ENV, create_app
from .settings import Settings


def run(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    common = dict(host=settings.host, port=settings.port, log_level=settings.log_level,
                  proxy_headers=False, server_header=False)
    if settings.workers > 1:
        # Workers are separate processes: they rebuild the app from settings.
        os.environ[SETTINGS_ENV] = settings.to_json().decode()
        uvicorn.run("graph.app:app_from_env", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
