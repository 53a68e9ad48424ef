"""Prometheus metrics of a server (``serve --metrics``), at ``/metrics``.

Counters and histograms are counted where requests are answered; what the
data is (its version, age and articles) is read from the served model when
a scrape asks, so it is exact and costs nothing between scrapes. With
``--workers N`` every worker counts into prometheus-client's multiprocess
files (``Settings.metrics_dir``, set up by graph/server.py) and a scrape,
whichever worker takes it, adds up all of them.

Operation names come from clients: only the first ``MAX_OPERATIONS``
distinct ones of a process get a series of their own, the rest count as
``(other)``, so no client can grow the number of series without bound.
"""
from __future__ import annotations

import re
import time
from threading import Lock

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .observe import BATCH

MAX_OPERATIONS = 100
ANONYMOUS, OTHER, NONE = "(anonymous)", "(other)", "(none)"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
# Seconds: a cached answer takes about 0.1 ms, a cold listing tens of ms,
# and the execution limit is 10 s by default.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0)
RELOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

class OperationNames:
    """The label of an operation name: itself while few names are known."""

    def __init__(self, limit: int = MAX_OPERATIONS) -> None:
        self.limit = limit
        self.known: set[str] = set()
        self.lock = Lock()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self.known or name == BATCH:
            return name
        if not _NAME.fullmatch(name):
            return OTHER
        with self.lock:
            if len(self.known) >= self.limit:
                return OTHER
            self.known.add(name)
        return name


class Metrics:
    def __init__(self, served, multiprocess_dir: str | None = None) -> None:
        """``served()`` is the read model being served, or None while loading."""
        self.operations = OperationNames()
        # Our own registry: several apps in one process (the tests) never clash.
        # In multiprocess mode the values live in the files, the scrape reads them.
        self.registry = CollectorRegistry(auto_describe=True)
        own = None if multiprocess_dir else self.registry
        self.requests = Counter("newsgraph_requests", "GraphQL requests answered, by operation "
                                "name and outcome.", ["operation", "outcome"], registry=own)
        self.latency = Histogram("newsgraph_request_duration_seconds", "Time to answer a GraphQL "
                                 "request, by operation name and outcome.", ["operation", "outcome"],
                                 buckets=LATENCY_BUCKETS, registry=own)
        self.errors = Counter("newsgraph_errors", "Errors in answers, by extensions.code.", ["code"],
                              registry=own)
        self.cache = Counter("newsgraph_response_cache", "Requests looked up in the response cache, "
                             "by result (hit, miss).", ["result"], registry=own)
        self.apq = Counter("newsgraph_persisted_queries", "Persisted-query (APQ) lookups, by result "
                           "(hit, miss, registered).", ["result"], registry=own)
        self.rejected = Counter("newsgraph_rejected_requests", "Requests refused by a limit, by "
                                "limit.", ["limit"], registry=own)
        self.reloads = Histogram("newsgraph_reload_duration_seconds", "Time to read, index and swap "
                                 "in a newly published store version.", buckets=RELOAD_BUCKETS,
                                 registry=own)
        if multiprocess_dir:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(self.registry, path=multiprocess_dir)
        self.registry.register(_DataCollector(served))

    def observe(self, operation: str, outcome: str, seconds: float, codes, cache: bool | None,
                limit: str | None, apq: str | None = None) -> None:
        self.requests.labels(operation, outcome).inc()
        self.latency.labels(operation, outcome).observe(seconds)
        for code in codes:
            self.errors.labels(code).inc()
        if cache is not None:
            self.cache.labels("hit" if cache else "miss").inc()
        if limit is not None:
            self.rejected.labels(limit).inc()
        if apq is not None:
            self.apq.labels(apq).inc()

    def scrape(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _DataCollector:
    """What the served version is, read from the model at scrape time."""

    def __init__(self, served) -> None:
        self.served = served

    def describe(self):
        return []  # no fixed description: collected fresh at each scrape

    def collect(self):
        model = self.served()
        if model is None:  # still loading
            return
        info = InfoMetricFamily("newsgraph_data_version", "The data version this process serves.")
        info.add_metric([], {"version": model.data_version})
        yield info
        if model.loaded_at is not None:
            loaded = model.loaded_at.timestamp()
            yield GaugeMetricFamily("newsgraph_data_loaded_timestamp_seconds",
                                    "When the served version was published (Unix time).", value=loaded)
            yield GaugeMetricFamily("newsgraph_data_age_seconds",
                                    "Seconds since the served version was published.",
                                    value=max(0.0, time.time() - loaded))
        articles = GaugeMetricFamily("newsgraph_articles", "Articles in the served version, by "
                                     "audience (public, or preview with the token).",
                                     labels=["audience"])
        articles.add_metric(["public"], len(model.view(False).articles))
        articles.add_metric(["preview"], len(model.view(True).articles))
        yield articles
