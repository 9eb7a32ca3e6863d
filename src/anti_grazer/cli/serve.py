"""``anti-grazer serve``: run the server with uvicorn (DESIGN.md §4.9: HTTPS, or plain
HTTP on loopback only unless explicitly, loudly allowed)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Final

import click
import uvicorn

from anti_grazer.cli.common import settings_or_exit
from anti_grazer.logs import configure_logging, get_logger
from anti_grazer.settings import Settings
from anti_grazer.web.one_send import OneSendHttpToolsProtocol

UVICORN_OPTIONS: Final[dict[str, Any]] = {
    "loop": "uvloop",
    "http": OneSendHttpToolsProtocol,
    "ws": "none",  # no WebSocket routes
    "log_config": None,  # logging is ours (configure_logging)
    "access_log": False,  # so is the access log
    "server_header": False,
    "proxy_headers": False,
}
"""How ``serve`` runs uvicorn, beyond address, workers and TLS (bench.app serves alike)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(settings: Settings) -> None:
    """Refuse plain HTTP on a non-loopback address unless ``insecure_http`` is set."""
    if settings.tls_enabled or is_loopback(settings.host):
        return
    if not settings.insecure_http:
        raise click.ClickException(
            f"refusing plain HTTP on {settings.host}: give --tls-cert and --tls-key, bind a "
            "loopback address, or pass --insecure-http behind a TLS-terminating proxy"
        )
    get_logger("anti_grazer.serve").warning(
        "insecure_http",
        message="serving plain HTTP on a non-loopback address: credentials "
        "and tokens cross the network unencrypted unless a TLS proxy fronts this server",
        host=settings.host,
    )


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
    # Workers build their own settings from the environment: hand the flags on there.
    for name, value in given.items():
        os.environ[f"ANTI_GRAZER_{name.upper()}"] = str(value)
    uvicorn.run(
        "anti_grazer.web.asgi:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        ssl_certfile=str(settings.tls_cert_file) if settings.tls_cert_file else None,
        ssl_keyfile=str(settings.tls_key_file) if settings.tls_key_file else None,
        **UVICORN_OPTIONS,
    )
