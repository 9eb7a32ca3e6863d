"""The server processes under benchmark and how the orchestrator reaches them.

Where things are, which CPU runs what, a server process pinned to its CPU (started, ready,
stopped), the commands that start each server of ours (``anti-grazer serve``,
``bench.app``, the ceiling), the benchmark client registered with the CLI, the few HTTP
calls the orchestrator makes itself (readiness, probes, a token), and the servers'
production install (``bench/.venv-serve``).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# The servers run from a production install of the project (``pip install .``, no dev
# extras), as deployed: the dev venv also holds the test and lint tools, and some of
# them change what the server imports (import-linter brings rich, which structlog then
# loads).
SERVE_VENV = BENCH_DIR / ".venv-serve"
SERVE_BIN = SERVE_VENV / "bin"

SERVER_CPU = 0
LOAD_CPU = 1
BENCH_CPUS = (SERVER_CPU, LOAD_CPU)
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0

# The client both authorization servers know, and the scope every token request names
# (ours would grant its default scope anyway; the peer needs it spelled out).
CLIENT_SCOPE = "reports:write profiles:read"
TOKEN_SCOPE = "profiles:read"  # noqa: S105 (a scope, not a secret)
TOKEN_BODY = f"grant_type=client_credentials&scope={TOKEN_SCOPE}"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a secret)
REVOKE_PATH = "/oauth/revoke"
INTROSPECT_PATH = "/oauth/introspect"

ServerName = Literal["ceiling", "ours", "peer"]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def debian_tool(command: str, package: str) -> str:
    """The path of ``command``, installing the Debian ``package`` if it is missing."""
    found = shutil.which(command)
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise SystemExit(f"bench: {command} is missing and there is no apt-get")
    log(f"installing {package} (apt-get install -y {package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which(command)
    if not found:
        raise SystemExit(f"bench: {command} is still missing after apt-get install")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# --- HTTP from the orchestrator --------------------------------------------------------


def basic_credentials(client_id: str, client_secret: str) -> str:
    """base64(id:secret) for ``Authorization: Basic`` (RFC 6749 §2.3.1 form-encodes both
    first; the ids and secrets used here are URL-safe already)."""
    return base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


def form_headers(basic: str) -> dict[str, str]:
    """The headers of a form POST authenticated with client_secret_basic."""
    return {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: bytes

    def json(self) -> dict[str, object]:
        loaded = json.loads(self.body)
        if not isinstance(loaded, dict):
            raise ValueError(f"expected a JSON object, got {self.body[:200]!r}")
        return loaded


def http_call(
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    timeout: float = 5.0,
) -> HttpAnswer:
    """One HTTP/1.1 request to ``127.0.0.1:port``, on a connection of its own."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return HttpAnswer(response.status, response.read())
    finally:
        connection.close()


def issue_token(port: int, path: str, basic: str) -> str:
    """A fresh access token by client_credentials from the server on ``port``."""
    answer = http_call(port, "POST", path, form_headers(basic), TOKEN_BODY)
    if answer.status != 200:
        raise RuntimeError(f"token request answered {answer.status}: {answer.body[:300]!r}")
    token = answer.json().get("access_token")
    if not isinstance(token, str):
        raise RuntimeError(f"no access_token in {answer.body[:300]!r}")
    return token


# --- server processes ------------------------------------------------------------------


@dataclass
class Server:
    """A server process pinned to ``SERVER_CPU``, with its workers; ``pid`` is the server
    itself (taskset execs it); CPU time and RSS are counted over it and its workers."""

    name: ServerName
    argv: list[str]
    port: int
    ready_path: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: TextIO | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def start(self) -> None:
        """Start the process and wait until ``ready_path`` answers 200."""
        command = ["taskset", "-c", str(SERVER_CPU), *self.argv]
        log(f"starting {self.name}: {shlex.join(command)}")
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_DIR,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_call(self.port, "GET", self.ready_path, timeout=1.0).status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {READY_TIMEOUT_SECONDS}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        if self._log is not None:
            self._log.close()
            self._log = None

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"{self.name} died:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


def ceiling_server(port: int, log_path: Path) -> Server:
    """The raw-ASGI ceiling served like ``anti-grazer serve`` serves the product
    (bench/ceiling.py)."""
    argv = [str(SERVE_BIN / "python"), "-m", "bench.ceiling", "--port", str(port)]
    return Server("ceiling", argv, port, "/", log_path)


def ours_server(
    port: int, env: Mapping[str, str], log_path: Path, bin_dir: Path = SERVE_BIN
) -> Server:
    """``anti-grazer serve`` (the product, exactly as shipped) from ``bin_dir``, its
    Prometheus metrics on (the default) on a port of its own: the token rounds run
    several servers at once."""
    argv = [str(bin_dir / "anti-grazer"), "serve", "--port", str(port)]
    metrics = {"ANTI_GRAZER_METRICS_PORT": str(free_port())}
    return Server("ours", argv, port, "/health", log_path, env={**metrics, **env})


def bench_app_server(port: int, env: Mapping[str, str], log_path: Path) -> Server:
    """``bench.app:app`` (product app + the benchmark-only routes) served like ``serve``."""
    argv = [str(SERVE_BIN / "python"), "-m", "bench.app", "--port", str(port)]
    return Server("ours", argv, port, "/health", log_path, env=dict(env))


def database_env(database: Path) -> dict[str, str]:
    """The environment that points our servers and CLI at the SQLite file ``database``."""
    return {"ANTI_GRAZER_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}


def run_cli(env: Mapping[str, str], args: Sequence[str], bin_dir: Path = SERVE_BIN) -> str:
    """``anti-grazer ARGS`` from ``bin_dir`` (as an operator would) with ``env``; its
    standard output, or RuntimeError with the end of its standard error."""
    completed = subprocess.run(
        [str(bin_dir / "anti-grazer"), *args],
        cwd=REPO_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {completed.stderr[-2000:]}")
    return completed.stdout


def create_client(
    env: Mapping[str, str],
    name: str = "bench",
    bin_dir: Path = SERVE_BIN,
    options: Sequence[str] = (),
) -> tuple[str, str]:
    """Register a client with the CLI, with the extra ``options`` (``--token-format
    jwt``, ``--introspect``); its id and secret.  It may ask for ``CLIENT_SCOPE`` and gets
    ``TOKEN_SCOPE`` by default."""
    args = ["clients", "create", name, "--scope", CLIENT_SCOPE, "--default-scope", TOKEN_SCOPE]
    stdout = run_cli(env, [*args, *options, "--json"], bin_dir)
    created = json.loads(stdout.strip().splitlines()[-1])
    return str(created["client_id"]), str(created["client_secret"])


def upgrade_database(env: Mapping[str, str], bin_dir: Path = SERVE_BIN) -> None:
    """``anti-grazer db upgrade``: the schema, and the first signing key (the key-encryption
    key being in ``env``)."""
    run_cli(env, ["db", "upgrade"], bin_dir)


def verifier_app_server(port: int, env: Mapping[str, str], log_path: Path) -> Server:
    """``bench.verifier_app:app`` (a resource server of its own with the remote
    verifiers) served like ``serve``."""
    argv = [str(SERVE_BIN / "python"), "-m", "bench.verifier_app", "--port", str(port)]
    return Server("ours", argv, port, "/health", log_path, env=dict(env))


def ensure_serving_venv() -> None:
    """Create bench/.venv-serve if missing, then install the working tree into it (a
    regular, not editable, install of the project and its runtime dependencies only)."""
    if not (SERVE_BIN / "python").exists():
        log(f"creating {SERVE_VENV.relative_to(REPO_DIR)} (the servers' production install)")
        subprocess.run([sys.executable, "-m", "venv", str(SERVE_VENV)], check=True)
    log(f"installing the working tree into {SERVE_VENV.relative_to(REPO_DIR)}")
    # setuptools builds in build/ and never removes what it copied there before: a module
    # deleted from src/ would still be installed.
    shutil.rmtree(REPO_DIR / "build", ignore_errors=True)
    subprocess.run(
        [
            str(SERVE_BIN / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(REPO_DIR),
        ],
        check=True,
    )
