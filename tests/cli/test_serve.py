"""``anti-grazer serve`` (cli/serve.py): its transport guard (DESIGN.md §4.9: TLS, or plain
HTTP on loopback only unless ``--insecure-http`` is given, loudly) and the address and
certificate it hands the HTTP server.

Nothing here binds or sends traffic off loopback: the command runs with its HTTP server
replaced by a recorder, or ``check_transport`` is called directly.  The real server over
HTTPS is tested in tests/e2e/test_tls.py."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import click
import pytest
from structlog.testing import capture_logs

from anti_grazer.cli.serve import check_transport, warn_if_counted_per_process
from anti_grazer.settings import load_settings
from tests.e2e.process import CLI_TIMEOUT_SECONDS, cli_environment, sqlite_url

REFUSAL = (
    "refusing plain HTTP on {host}: give --tls-cert and --tls-key, bind a loopback address, "
    "or pass --insecure-http behind a TLS-terminating proxy"
)
INSECURE_MESSAGE = (
    "serving plain HTTP on a non-loopback address: credentials and tokens cross the network "
    "unencrypted unless a TLS proxy fronts this server"
)

# ``anti-grazer`` with the HTTP server replaced by a recorder: the whole ``serve`` command
# runs (settings, logging, transport check) but no socket is ever bound.
SERVE_WITHOUT_BINDING = """
import json, sys
from anti_grazer.cli import serve

class _Recorder:
    def __init__(self, target, settings):
        self.chosen = {
            "host": settings.host,
            "port": settings.port,
            "tls_cert_file": str(settings.tls_cert_file) if settings.tls_cert_file else None,
            "tls_key_file": str(settings.tls_key_file) if settings.tls_key_file else None,
        }

    def serve(self):
        print(json.dumps({"serve": self.chosen}), flush=True)

serve.http_server = _Recorder
from anti_grazer.cli.main import cli
cli(sys.argv[1:], prog_name="anti-grazer")
"""


def serve_without_binding(args: Sequence[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_BINDING, "serve", *args],
        env=cli_environment(sqlite_url(tmp_path / "never-opened.db")),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_serve_refuses_plain_http_off_loopback(host: str, tmp_path: Path) -> None:
    """No TLS and no --insecure-http on a non-loopback address: one error line, exit 1,
    and the server is never started."""
    completed = serve_without_binding(["--host", host, "--port", "8000"], tmp_path)
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr == f"Error: {REFUSAL.format(host=host)}\n"
    assert not (tmp_path / "never-opened.db").exists()


@pytest.mark.slow
def test_serve_with_insecure_http_starts_and_warns(tmp_path: Path) -> None:
    """--insecure-http lets the server start off loopback, with one warning log line."""
    completed = serve_without_binding(
        ["--host", "192.0.2.10", "--port", "8000", "--insecure-http"], tmp_path
    )
    assert completed.returncode == 0
    assert json.loads(completed.stdout) == {
        "serve": {
            "host": "192.0.2.10",
            "port": 8000,
            "tls_cert_file": None,
            "tls_key_file": None,
        }
    }
    lines = completed.stderr.splitlines()
    assert len(lines) == 1
    warning = json.loads(lines[0])
    del warning["timestamp"]
    assert warning == {
        "logger_name": "anti_grazer.serve",
        "event": "insecure_http",
        "level": "warning",
        "message": INSECURE_MESSAGE,
        "host": "192.0.2.10",
    }


@pytest.mark.slow
def test_serve_with_tls_may_listen_off_loopback(tmp_path: Path) -> None:
    """With a certificate the transport is safe on any address: no refusal, no warning."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not parsed before the server runs")
    key.write_text("not parsed before the server runs")
    completed = serve_without_binding(
        ["--host", "192.0.2.10", "--port", "8443", "--tls-cert", str(cert), "--tls-key", str(key)],
        tmp_path,
    )
    assert completed.returncode == 0
    assert json.loads(completed.stdout) == {
        "serve": {
            "host": "192.0.2.10",
            "port": 8443,
            "tls_cert_file": str(cert),
            "tls_key_file": str(key),
        }
    }
    assert completed.stderr == ""


@pytest.mark.slow
def test_serve_refuses_a_certificate_without_its_key(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("unused")
    completed = serve_without_binding(["--tls-cert", str(cert)], tmp_path)
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr == (
        "Error: invalid settings: settings: Value error, "
        "tls_cert_file and tls_key_file go together\n"
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_check_transport_allows_plain_http_on_loopback(host: str) -> None:
    with capture_logs() as logs:
        check_transport(load_settings(host=host))
    assert logs == []


@pytest.mark.parametrize("host", ["192.0.2.10", "0.0.0.0", "::", "example.com"])
def test_check_transport_refuses_plain_http_off_loopback(host: str) -> None:
    with pytest.raises(click.ClickException) as raised:
        check_transport(load_settings(host=host))
    assert raised.value.message == REFUSAL.format(host=host)
    assert raised.value.exit_code == 1


def test_check_transport_insecure_http_warns() -> None:
    with capture_logs() as logs:
        check_transport(load_settings(host="192.0.2.10", insecure_http=True))
    assert logs == [
        {
            "logger_name": "anti_grazer.serve",
            "event": "insecure_http",
            "log_level": "warning",
            "message": INSECURE_MESSAGE,
            "host": "192.0.2.10",
        }
    ]


def test_check_transport_allows_tls_anywhere(tmp_path: Path) -> None:
    with capture_logs() as logs:
        check_transport(
            load_settings(
                host="192.0.2.10",
                tls_cert_file=tmp_path / "cert.pem",
                tls_key_file=tmp_path / "key.pem",
            )
        )
    assert logs == []


def test_several_workers_counting_in_memory_are_warned_about() -> None:
    """Each worker would count rate limits and lockouts on its own (README, "Rate
    limits"): ``serve`` says so once; not with one worker, with Redis, or with nothing
    counted."""
    with capture_logs() as logs:
        warn_if_counted_per_process(load_settings(workers=2))
    assert [(log["event"], log["workers"]) for log in logs] == [("rate_limits_per_worker", 2)]
    quiet = [
        load_settings(workers=1),
        load_settings(workers=2, rate_limit_storage="redis://127.0.0.1:6379/0"),
        load_settings(workers=2, rate_limits_enabled=False, lockout_failures=0),
    ]
    with capture_logs() as logs:
        for settings in quiet:
            warn_if_counted_per_process(settings)
    assert logs == []
