"""Run the app under uvicorn: one process, or N workers on one socket.

The socket is bound here, before anything is read, so a busy port is named
at once, and the app reads the store while the server already answers
/healthz (and /readyz says 503). The start-up line is printed only when
/readyz first says 200. SIGTERM (or Ctrl-C) stops accepting connections,
gives requests in flight ``shutdown_timeout`` seconds, and ``run`` returns.
"""
from __future__ import annotations

import dataclasses
import gc
import http.client
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading

import uvicorn

from store.db import Store

from .app import SETTINGS_ENV, create_app
from .protocol import OneWriteHttpToolsProtocol
from .settings import Settings
from .state import read_model

log = logging.getLogger("newsgraph")


class ListenError(Exception):
    """The server cannot listen where it was asked to."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(host, port, exc.strerror or str(exc)) from None
    sock.set_inheritable(True)  # the workers serve it
    return sock


def local_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a server bound to ``host``."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def run(settings: Settings, on_ready=None) -> None:
    """Serve until SIGTERM or Ctrl-C. ``on_ready(url)`` is called once, when
    the server first answers /readyz with 200. Raises ListenError, or the
    StoreError that kept the store from being read."""
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sock = bind(settings.host, settings.port)
    url = local_url(settings.host, sock.getsockname()[1])
    log.info("listening on %s; reading the store %s", url, settings.db)
    scratch = None
    if settings.metrics and settings.workers > 1:
        # prometheus-client's multiprocess mode: each worker writes its
        # counts to files here, and a scrape adds them up. The variable is
        # how the library is told, and it must be set before the workers
        # import it.
        scratch = tempfile.mkdtemp(prefix="newsgraph-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = scratch
        settings = dataclasses.replace(settings, metrics_dir=scratch)
    # uvicorn builds each access-log line's parts before the logger drops it;
    # below "info" nothing would be printed, so do not build them at all.
    common = dict(http=OneWriteHttpToolsProtocol, log_level=settings.log_level,
                  proxy_headers=False, server_header=False,
                  access_log=settings.access_log == "text" and settings.log_level in ("info", "debug"),
                  timeout_graceful_shutdown=settings.shutdown_timeout)
    announced = threading.Event()
    # uvicorn raises the signal it stopped on again once it is done, for the
    # handler it found: make that one return, so a requested stop exits 0.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if settings.workers > 1:
            threading.Thread(target=_announce, args=(url, on_ready, announced), name="announce",
                             daemon=True).start()
            _run_workers(settings, sock, common)
        else:
            app = create_app(settings)
            server = uvicorn.Server(uvicorn.Config(app, **common))
            lifecycle = app.state.lifecycle
            lifecycle.stop = lambda: setattr(server, "should_exit", True)
            lifecycle.on_loaded = (lambda: on_ready(url)) if on_ready else None
            server.run(sockets=[sock])
            if app.state.lifecycle.failure is not None:
                raise app.state.lifecycle.failure
    finally:
        announced.set()  # stop waiting for readiness
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run_workers(settings: Settings, sock: socket.socket, common: dict) -> None:
    from uvicorn.supervisors import Multiprocess

    # Read the store here first: a worker that cannot read it would die and
    # be restarted forever instead of naming the file once.
    read_model(Store(settings.db))
    # That model was only a check; articles and related items form cycles,
    # so free them now rather than hold them in the supervisor for good.
    gc.collect()
    # Workers are separate processes: they rebuild the app from settings.
    os.environ[SETTINGS_ENV] = settings.to_json().decode()
    config = uvicorn.Config("graph.app:app_from_env", factory=True, workers=settings.workers,
                            **common)
    Multiprocess(config, sockets=[sock]).run()


def _stopped(signum, frame) -> None:
    pass


def _announce(url: str, on_ready, done: threading.Event) -> None:
    """Wait for the first 200 from /readyz, then call ``on_ready(url)``: the
    workers are other processes. Each try is a line of the access log, so
    the tries grow apart up to a second."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    pause = 0.05
    while not done.wait(pause):
        pause = min(1.0, pause * 1.5)
        try:
            conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=2)
            conn.request("GET", "/readyz")
            ready = conn.getresponse().status == 200
            conn.close()
        except OSError:
            continue
        if ready:
            if on_ready is not None:
                on_ready(url)
            return
