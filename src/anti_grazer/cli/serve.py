"""``anti-grazer serve``: run the server with granian (DESIGN.md §4.9: HTTPS, or plain
HTTP on loopback only unless explicitly, loudly allowed; §4.11: the connection itself has
limits)."""

from __future__ import annotations

import asyncio
import importlib
import math
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import click
import uvloop
from granian.constants import HTTPModes, Interfaces, Loops, SSLProtocols
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server.embed import Server as InProcessServer
from granian.server.mp import MPServer

from anti_grazer.cli.common import check_database_url, run, settings_or_exit
from anti_grazer.cli.db import upgrade_database
from anti_grazer.issuer import is_loopback
from anti_grazer.logs import configure_logging, get_logger
from anti_grazer.settings import Settings
from anti_grazer.store.sql.engine import is_sqlite

APP_FACTORY = "anti_grazer.web.asgi:app_from_environment"
# Where prometheus-client's multiprocess mode keeps each worker's values; it reads the
# variable once, when it is imported.
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
logger = get_logger("anti_grazer.serve")

# granian's own log lines go to the root logger, which configure_logging formats as JSON.
_GRANIAN_LOGGING = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False},
    }
}


def check_address_free(host: str, port: int) -> None:
    """Refuse a listen address another process already listens on.  granian binds with
    ``SO_REUSEPORT``, so a second server on a served port would not fail: the kernel
    would share the connections between the two, old and new."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a port left in TIME_WAIT by a stopped server is free; one with a
        # listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {error.strerror or error}"
            ) from None


def check_transport(settings: Settings) -> None:
    """Refuse plain HTTP on a non-loopback address unless ``insecure_http`` is set."""
    if settings.tls_enabled or is_loopback(settings.host):
        return
    if not settings.insecure_http:
        raise click.ClickException(
            f"refusing plain HTTP on {settings.host}: give --tls-cert and --tls-key, bind a "
            "loopback address, or pass --insecure-http behind a TLS-terminating proxy"
        )
    logger.warning(
        "insecure_http",
        message="serving plain HTTP on a non-loopback address: credentials "
        "and tokens cross the network unencrypted unless a TLS proxy fronts this server",
        host=settings.host,
    )


class HTTPServer(Protocol):
    """What ``http_server`` gives: ``serve()`` runs until SIGINT or SIGTERM."""

    def serve(self) -> None: ...


def warn_if_counted_per_process(settings: Settings) -> None:
    """Rate limits and lockouts counted in process memory are each worker's own: with
    several workers a client gets that many times its limits."""
    counting = settings.rate_limit_policy is not None or settings.lockout_policy is not None
    if settings.workers > 1 and counting and settings.rate_limit_storage_url is None:
        logger.warning(
            "rate_limits_per_worker",
            workers=settings.workers,
            message="each worker counts rate limits, quotas and lockouts on its own: set "
            "ANTI_GRAZER_RATE_LIMIT_STORAGE=redis://... to share them",
        )


def _connection_options(settings: Settings) -> dict[str, Any]:
    """granian's options for the connection limits and transport of ``settings``."""
    return {
        "address": settings.host,
        "port": settings.port,
        "interface": Interfaces.ASGI,
        "http": HTTPModes.http1,
        "websockets": False,
        "backpressure": settings.max_connections,
        "http1_settings": HTTP1Settings(
            header_read_timeout=round(settings.head_timeout_seconds * 1000),
            max_buffer_size=settings.max_header_bytes,
        ),
        "log_level": LogLevels(settings.log_level),
        "log_dictconfig": _GRANIAN_LOGGING,
        "ssl_cert": settings.tls_cert_file,
        "ssl_key": settings.tls_key_file,
        "ssl_protocol_min": SSLProtocols.tls12,
    }


@runtime_checkable
class CancellableRequests(Protocol):
    """An app that can cut its requests in flight (``web.edge.Edge``)."""

    def cancel_in_flight(self) -> int: ...


class OneProcessServer:
    """granian's embedded server: the app served by this very process, on uvloop.

    One worker needs no supervisor: with ``MPServer`` the server process stays beside
    its only worker, holding a second copy of the interpreter and the imports (bench/run:
    the two together took about 50 MiB more than this one process).  The connection
    handling is the same Rust worker as in ``MPServer``.

    SIGINT and SIGTERM stop it gracefully: granian stops accepting, closes idle
    connections and lets the requests in flight finish; after ``shutdown_timeout``
    seconds those still running are cancelled.  Then the lifespan's shutdown closes the
    stores (every write was committed before it was answered) and ``serve`` returns."""

    def __init__(
        self, app_factory: Callable[[], Any], options: dict[str, Any], shutdown_timeout: float
    ) -> None:
        self._apps: list[Any] = []
        self._server = InProcessServer(self._keeping(app_factory), factory=True, **options)
        self._shutdown_timeout = shutdown_timeout
        self._stopping = False

    def _keeping(self, app_factory: Callable[[], Any]) -> Callable[[], Any]:
        def build() -> Any:
            app = app_factory()
            self._apps.append(app)
            return app

        return build

    def serve(self) -> None:
        uvloop.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, self._stop, loop)
        await self._server.serve()

    def _stop(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._stopping:
            return
        self._stopping = True
        logger.info("server_stopping", shutdown_timeout_seconds=self._shutdown_timeout)
        interrupt: Callable[[], None] = self._server.signal_handler_interrupt  # untyped
        interrupt()
        loop.call_later(self._shutdown_timeout, self._cut_requests)

    def _cut_requests(self) -> None:
        cut = sum(
            app.cancel_in_flight() for app in self._apps if isinstance(app, CancellableRequests)
        )
        if cut:
            logger.warning(
                "shutdown_timeout",
                message="requests still in flight when the shutdown timeout ended were cancelled",
                cancelled=cut,
                shutdown_timeout_seconds=self._shutdown_timeout,
            )


def _imported(target: str) -> Callable[[], Any]:
    """The object named by ``"module:attribute"``."""
    module, _, attribute = target.partition(":")
    found: Callable[[], Any] = getattr(importlib.import_module(module), attribute)
    return found


def http_server(target: str, settings: Settings) -> HTTPServer:
    """granian serving the ASGI app factory ``target`` (``"module:function"``) with the
    connection limits of ``settings``: in this process for one worker
    (``OneProcessServer``), else with ``settings.workers`` forked worker processes.

    HTTP/1.1 only (its limits are the ones set here); a connection must deliver each
    request head within ``head_timeout_seconds`` (counted from its opening or from its
    previous response, so this is also the keep-alive idle timeout), a head larger than
    ``max_header_bytes`` is answered ``431`` and closed, and each worker serves at most
    ``max_connections`` connections at once (more wait in the listen backlog).  granian's
    own access log is off: the application writes its own."""
    check_address_free(settings.host, settings.port)
    options = _connection_options(settings)
    if settings.workers == 1:
        return OneProcessServer(_imported(target), options, settings.shutdown_timeout_seconds)
    # Each worker stops as ``OneProcessServer`` does, but granian's supervisor can only
    # kill a worker that outlasts the timeout (what it had answered is committed).
    return MPServer(
        target,
        workers=settings.workers,
        loop=Loops.uvloop,
        factory=True,
        workers_kill_timeout=math.ceil(settings.shutdown_timeout_seconds),
        **options,
    )


@contextmanager
def serving_metrics(settings: Settings) -> Iterator[None]:
    """Serve the Prometheus metrics on ``METRICS_HOST:METRICS_PORT`` from this process
    while the server runs (nothing when ``METRICS_PORT`` is 0).  With several workers,
    each writes its values to files in a private temporary directory made here, before
    they are forked (prometheus-client's multiprocess mode), and the scrape adds them up;
    the directory is removed when the server stops.  One worker runs in this process:
    its metrics are read straight from memory."""
    if not settings.metrics_enabled:
        yield
        return
    directory = None
    if settings.workers > 1:
        directory = tempfile.mkdtemp(prefix="anti-grazer-metrics-")
        os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    else:
        os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
    try:
        # Imported once the variable is set: prometheus-client reads it on import.
        from anti_grazer.web.metrics import start_metrics_server  # noqa: PLC0415

        host, port = settings.metrics_host, settings.metrics_port
        try:
            server = start_metrics_server(host, port)
        except OSError as error:
            raise click.ClickException(
                f"cannot listen for metrics on {host}:{port}: {error.strerror or error}"
            ) from None
        logger.info("metrics_listening", host=host, port=port, multiprocess_directory=directory)
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()
    finally:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


@click.command()
@click.option("--host", default=None, help="Listen address (default 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Listen port (default 8000)."
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@click.option(
    "--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None
)
@click.option(
    "--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None
)
@click.option(
    "--insecure-http", is_flag=True, default=None, help="UNSAFE: plain HTTP off loopback."
)
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    insecure_http: bool | None,
) -> None:
    """Run the Anti Grazer API server."""
    flags = {
        "host": host,
        "port": port,
        "workers": workers,
        "tls_cert_file": tls_cert,
        "tls_key_file": tls_key,
        "insecure_http": insecure_http,
    }
    given = {name: value for name, value in flags.items() if value is not None}
    settings = settings_or_exit(**given)
    configure_logging(settings.log_level)
    check_transport(settings)
    warn_if_counted_per_process(settings)
    if is_sqlite(settings.database_url):
        # Once, here, before the workers start: each would otherwise migrate a new file
        # at the same moment as the others.
        check_database_url(settings.database_url)
        run(upgrade_database(settings.database_url))
    # Workers build their own settings from the environment: hand the flags on there.
    for name, value in given.items():
        os.environ[f"ANTI_GRAZER_{name.upper()}"] = str(value)
    server = http_server(APP_FACTORY, settings)  # the public address checked first
    with serving_metrics(settings):
        server.serve()
