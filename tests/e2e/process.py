"""Running the real ``anti-grazer`` executable: CLI calls and server processes, on
127.0.0.1 only, with bounded waits, stopped by their own PID."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import open_stores

START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0
CLI_TIMEOUT_SECONDS = 30.0


def anti_grazer_executable() -> str:
    """The console script installed beside the running interpreter (the venv's)."""
    beside = Path(sys.executable).with_name("anti-grazer")
    if beside.exists():
        return str(beside)
    found = shutil.which("anti-grazer")
    if found is None:
        raise RuntimeError("the anti-grazer console script is not installed")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def cli_environment(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without any ``ANTI_GRAZER_*`` variable, plus the
    database URL and the given settings (``log_level="info"`` → ``ANTI_GRAZER_LOG_LEVEL``).
    The metrics listener is off unless a test sets ``metrics_port``: servers started at
    once would all want its default port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTI_GRAZER_")}
    env["ANTI_GRAZER_DATABASE_URL"] = database_url
    env["ANTI_GRAZER_METRICS_PORT"] = "0"
    for name, value in settings.items():
        env[f"ANTI_GRAZER_{name.upper()}"] = value
    return env


def run_cli(
    args: Sequence[str], env: dict[str, str], *, umask: int = -1
) -> subprocess.CompletedProcess[str]:
    """Run ``anti-grazer ARGS`` to completion and capture its output (with ``umask``, or
    this process's when -1)."""
    return subprocess.run(
        [anti_grazer_executable(), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
        umask=umask,
    )


@dataclass(frozen=True)
class CreatedClient:
    """A client registered through ``anti-grazer clients create --json``."""

    client_id: str
    client_secret: str


def create_client(
    env: dict[str, str],
    name: str = "e2e client",
    scope: str = "reports:write profiles:read",
    default_scope: str = "profiles:read",
    *,
    introspect: bool = False,
    token_ttl: int | None = None,
    token_format: str | None = None,
    audiences: Sequence[str] = (),
) -> CreatedClient:
    """``clients create`` (``--introspect``: a resource server; ``--token-ttl``,
    ``--token-format`` and each ``--audience`` when given)."""
    ttl = [] if token_ttl is None else ["--token-ttl", str(token_ttl)]
    token_format_option = [] if token_format is None else ["--token-format", token_format]
    completed = run_cli(
        [
            *("clients", "create", name, "--scope", scope, "--default-scope", default_scope),
            *(["--introspect"] if introspect else []),
            *ttl,
            *token_format_option,
            *(option for audience in audiences for option in ("--audience", audience)),
            "--json",
        ],
        env,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"clients create failed: {completed.stderr.strip()}")
    created = json.loads(completed.stdout)
    return CreatedClient(created["client_id"], created["client_secret"])


@dataclass(frozen=True)
class ServerProcess:
    """A running ``anti-grazer serve``."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` by its PID (SIGTERM), killing it if it does not stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)


def wait_until_healthy(
    process: subprocess.Popen[bytes],
    base_url: str,
    log_path: Path,
    verify: ssl.SSLContext | bool = True,
) -> None:
    """Poll ``GET /health`` until it answers 200; fail at once if the process exits."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx.Client(base_url=base_url, verify=verify, timeout=1.0) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with status {process.returncode}:\n"
                    + log_path.read_text(errors="replace")
                )
            try:
                if client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not answer /health within {START_TIMEOUT_SECONDS} s:\n"
                    + log_path.read_text(errors="replace")
                )
            time.sleep(0.05)


@contextmanager
def serving(
    env: dict[str, str],
    log_path: Path,
    extra_args: Sequence[str] = (),
    *,
    scheme: str = "http",
    verify: ssl.SSLContext | bool = True,
    umask: int = -1,
) -> Iterator[ServerProcess]:
    """Start ``anti-grazer serve`` on 127.0.0.1 and a free port (with ``umask``, or this
    process's when -1); stop it on exit."""
    port = free_port()
    base_url = f"{scheme}://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                anti_grazer_executable(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *extra_args,
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            umask=umask,
        )
        try:
            wait_until_healthy(process, base_url, log_path, verify)
            yield ServerProcess(process, base_url, log_path)
        finally:
            stop_process(process)


async def read_tokens(database_url: str, tokens: Sequence[str]) -> dict[str, TokenRecord | None]:
    """The stored record of each token, read through the SQL token store."""
    async with open_stores(database_url, migrate_sqlite=False) as stores:
        return {
            token: await stores.tokens.get_token(access_token_digest(token)) for token in tokens
        }


def read_token(database_path: Path, token: str) -> TokenRecord | None:
    """The stored record of ``token`` in the SQLite file ``database_path``."""
    return asyncio.run(read_tokens(sqlite_url(database_path), [token]))[token]
