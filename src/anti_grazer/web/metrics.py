"""Prometheus metrics (issue 18 item 4), with prometheus-client: the ``Metrics`` port
(``protocol.ports``) that the authorization server, the throttle and the stores call,
and the HTTP requests that the access log middleware observes (``HttpMetrics``).

One set of metrics per process (``prometheus_metrics``), in prometheus-client's default
registry.  With several workers, ``anti-grazer serve`` sets ``PROMETHEUS_MULTIPROC_DIR``
before any worker starts: each worker then writes its values to files of its own there,
and the server process's scrape adds them up (``metrics_registry``,
``MultiProcessCollector``).  The scrape is served on a listen address of its own
(``METRICS_HOST``/``METRICS_PORT``, ``start_metrics_server``), never on the public port.

Label values are fixed names, a route's template (never the raw path, ``UNMATCHED`` for
a path no route knows), a status code, or a client id that authenticated: their number
is bounded by the routes and the registered clients, and no token or secret is one."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from wsgiref.simple_server import WSGIServer

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.routing import compile_path
from starlette.types import Scope

PREFIX = "anti_grazer"
# The route label of a request no route matched (a scan of random paths stays one series).
UNMATCHED = "unmatched"
# The status label of a request whose client left before any response was sent.
DISCONNECTED = "disconnected"
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Seconds: the token endpoint answers in about a millisecond, a slow storage in seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)
# Writes per group commit (PostgreSQL's inserter takes at most 256 rows a batch).
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class PrometheusMetrics:
    """The ``Metrics`` port over prometheus-client, and the HTTP request metrics.
    Labelled children are kept in plain dicts: a request pays a lookup, not
    prometheus-client's lock around ``labels``."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
            return Counter(f"{PREFIX}_{name}", documentation, labels, registry=registry)

        def histogram(
            name: str, documentation: str, labels: Sequence[str], buckets: Sequence[float]
        ) -> Histogram:
            return Histogram(
                f"{PREFIX}_{name}", documentation, labels, registry=registry, buckets=buckets
            )

        self.http_requests = counter(
            "http_requests",
            "HTTP requests answered, by route template and status.",
            ("route", "status"),
        )
        self.http_duration = histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to its last byte sent, by route template.",
            ("route",),
            LATENCY_BUCKETS,
        )
        # livesum: the requests in flight of the workers alive now, added up.
        self.in_flight = Gauge(
            f"{PREFIX}_http_requests_in_flight",
            "HTTP requests being served now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.tokens_issued = counter(
            "tokens_issued", "Access tokens issued, by client.", ("client_id",)
        )
        self.tokens_revoked = counter(
            "tokens_revoked",
            "Access tokens revoked at the revocation endpoint, by client.",
            ("client_id",),
        )
        self.auth_failures = counter(
            "client_auth_failures",
            "Client authentications refused, by reason: invalid_client (unknown id or "
            "wrong secret), assertion_refused, locked_out.",
            ("reason",),
        )
        self.lockouts = counter(
            "lockouts_started",
            "Lockouts started, of a client id (from one address) or of an address.",
            ("kind",),
        )
        self.limited_requests = counter(
            "rate_limited_requests",
            "Requests past a rate limit or token quota (kind: api, token, or reporter: a "
            "report naming a new reporter), refused or only logged (log-only limits).",
            ("kind", "outcome"),
        )
        self.redis_errors = counter(
            "redis_errors",
            "Calls to the rate limits' Redis that failed (requests served uncounted).",
        )
        self.batch_size = histogram(
            "storage_batch_size",
            "Writes committed together in one group commit, by backend.",
            ("backend",),
            BATCH_BUCKETS,
        )
        self.commit_duration = histogram(
            "storage_commit_duration_seconds",
            "Time of one group commit's transaction, by backend.",
            ("backend",),
            COMMIT_BUCKETS,
        )
        self.cache_hits = counter(
            "cache_hits", "Reads served from an in-process cache.", ("cache",)
        )
        self.cache_misses = counter(
            "cache_misses", "Reads an in-process cache sent to the store.", ("cache",)
        )
        self.worker_starts = counter(
            "worker_starts",
            "Worker processes that started serving (with --workers N, N each start).",
        )
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def worker_started(self) -> None:
        self.worker_starts.inc()

    def request_started(self) -> None:
        self.in_flight.inc()

    def request_finished(self, route: str, status: int | None, seconds: float) -> None:
        self.in_flight.dec()
        code = DISCONNECTED if status is None else str(status)
        self._child(self.http_requests, route, code).inc()
        self._child(self.http_duration, route).observe(seconds)

    def token_issued(self, client_id: str) -> None:
        self._child(self.tokens_issued, client_id).inc()

    def token_revoked(self, client_id: str) -> None:
        self._child(self.tokens_revoked, client_id).inc()

    def client_auth_failed(self, reason: str) -> None:
        self._child(self.auth_failures, reason).inc()

    def lockout_started(self, kind: str) -> None:
        self._child(self.lockouts, kind).inc()

    def rate_limited(self, kind: str, outcome: str) -> None:
        self._child(self.limited_requests, kind, outcome).inc()

    def counter_storage_failed(self) -> None:
        self.redis_errors.inc()

    def batch_committed(self, backend: str, size: int, seconds: float) -> None:
        self._child(self.batch_size, backend).observe(size)
        self._child(self.commit_duration, backend).observe(seconds)

    def cache_looked_up(self, cache: str, hit: bool) -> None:
        self._child(self.cache_hits if hit else self.cache_misses, cache).inc()


@functools.cache
def prometheus_metrics() -> PrometheusMetrics:
    """This process's metrics, made on first use (in a worker, after the fork: its
    values go to its own files in multiprocess mode)."""
    return PrometheusMetrics()


class HttpMetrics:
    """Counts each request by its route's template: the one the FastAPI router matched
    (``scope["route"]``), an OAuth endpoint's path, or, for a request answered before
    routing (the guard's 401, a 429, a 413), the first template of ``api`` (its routes'
    and its OpenAPI document's paths) that matches its path."""

    def __init__(self, metrics: PrometheusMetrics, api: FastAPI, endpoints: Iterable[str]) -> None:
        self._metrics = metrics
        self._api = api
        self._endpoints = frozenset(endpoints)
        self._templates: list[tuple[re.Pattern[str], str]] | None = None
        self.started: Callable[[], None] = metrics.request_started

    def finished(self, scope: Scope, status: int | None, seconds: float) -> None:
        self._metrics.request_finished(self.route_of(scope), status, seconds)

    def route_of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None:  # its template without converters, as OpenAPI names it
            return str(getattr(route, "path_format", route.path))
        path: str = scope["path"]
        if path in self._endpoints:
            return path
        for pattern, template in self._templates or self._compile():
            if pattern.match(path):
                return template
        return UNMATCHED

    def _compile(self) -> list[tuple[re.Pattern[str], str]]:
        """The templates, read once the app is complete (at the first request that needs
        them): FastAPI keeps an included router's routes out of ``api.routes``."""
        paths = [
            path
            for route in self._api.routes
            if isinstance(path := getattr(route, "path", None), str)
        ]
        paths += list(self._api.openapi().get("paths", {}))
        compiled = [compile_path(path) for path in dict.fromkeys(paths)]
        self._templates = [(pattern, template) for pattern, template, _ in compiled]
        return self._templates


def metrics_registry() -> CollectorRegistry:
    """What a scrape reads: every worker's files in multiprocess mode, else this process's
    registry."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def start_metrics_server(host: str, port: int) -> WSGIServer:
    """prometheus-client's HTTP server for ``metrics_registry`` on ``host:port``, in a
    daemon thread of this process; ``shutdown()`` stops it.  Raises ``OSError`` when the
    address cannot be bound."""
    server, _thread = start_http_server(port, host, metrics_registry())
    return server
