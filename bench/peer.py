"""The reference peer: node ``oidc-provider`` (bench/peer/server.mjs), installed at the
version pinned in bench/peer/package.json, started with one client_secret_basic client,
and the paths of its endpoints."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.runner import BENCH_DIR, Server, basic_credentials, free_port, log, running

PEER_DIR = BENCH_DIR / "peer"
PEER_CLIENT_ID = "bench-peer-client"
PEER_TOKEN_PATH = "/token"  # noqa: S105 (a path, not a secret)
PEER_INTROSPECTION_PATH = "/token/introspection"
PEER_REVOCATION_PATH = "/token/revocation"


def pinned_peer_version() -> str:
    manifest = json.loads((PEER_DIR / "package.json").read_text())
    version: str = manifest["dependencies"]["oidc-provider"]
    return version


def installed_peer_version() -> str | None:
    manifest = PEER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if not manifest.exists():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


def ensure_peer() -> str:
    """Install the pinned ``oidc-provider`` into bench/peer/node_modules (``npm ci``, from
    the committed package-lock.json) unless it is there already; returns its version."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("bench: node and npm are needed for the reference peer")
    if installed_peer_version() != pinned_peer_version():
        log(f"installing oidc-provider {pinned_peer_version()} (npm ci in bench/peer)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)
    version = installed_peer_version()
    if version is None:
        raise SystemExit("bench: npm ci did not install oidc-provider")
    return version


@dataclass(frozen=True, slots=True)
class Peer:
    """The running peer and the ``Authorization: Basic`` credentials of its client."""

    server: Server
    basic: str


@contextlib.contextmanager
def running_peer(work: Path) -> Iterator[Peer]:
    """node oidc-provider with one client_secret_basic client (a fresh secret), running;
    its log goes to ``work``/peer.log."""
    client_secret = secrets.token_urlsafe(32)
    port = free_port()
    server = Server(
        "peer",
        ["node", str(PEER_DIR / "server.mjs"), str(port), PEER_CLIENT_ID, client_secret],
        port,
        "/.well-known/openid-configuration",
        work / "peer.log",
        env={"NODE_ENV": "production"},
    )
    with running(server):
        yield Peer(server, basic_credentials(PEER_CLIENT_ID, client_secret))
