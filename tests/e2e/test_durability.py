"""Durability: nothing acknowledged is lost when the server dies.

A real ``anti-grazer serve`` process (on a SQLite file, and on PostgreSQL when
``ANTI_GRAZER_TEST_POSTGRES_URL`` is set) takes a burst of concurrent token requests
(RFC 6749 §4.4) interleaved with revocations (RFC 7009 §2) and is killed with SIGKILL in
the middle of it.  Restarted on the same database, it must hold every token it answered
200 for, active, except those whose revocation it acknowledged with 200: those stand
revoked (RFC 7009 §2.2: after a successful revocation the token is no longer usable)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import (
    CreatedClient,
    anti_grazer_executable,
    cli_environment,
    create_client,
    free_port,
    read_tokens,
    run_cli,
    stop_process,
    wait_until_healthy,
)

pytestmark = pytest.mark.slow

CONCURRENCY = 16
LOAD_SECONDS = 2.0
KILL_AFTER_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 5.0
EXIT_TIMEOUT_SECONDS = 10.0
REVOKE_EVERY = 3  # each worker revokes every third token it receives


@dataclass
class Server:
    """One ``anti-grazer serve`` process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    base_url: str


@contextmanager
def server_processes() -> Iterator[list[Server]]:
    """Yield a list the test appends started servers to; every one still running at the
    end is stopped by its PID."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in started:
            stop_process(server.process)


def start_server(env: dict[str, str], log_path: Path, started: list[Server]) -> Server:
    """Start ``anti-grazer serve`` on a free port and wait (bounded) for ``/health``."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [anti_grazer_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}")
    started.append(server)
    wait_until_healthy(process, server.base_url, log_path)
    return server


@dataclass
class LoadResult:
    """What the server acknowledged before it died."""

    issued: list[str] = field(default_factory=list)  # tokens answered 200
    revoked: set[str] = field(default_factory=set)  # revocations answered 200
    revoke_sent: set[str] = field(default_factory=set)  # revocations sent, maybe unanswered
    unexpected: list[str] = field(default_factory=list)  # any answer but 200


async def load_then_kill(server: Server, client: CreatedClient) -> LoadResult:
    """Run CONCURRENCY workers issuing tokens and revoking every REVOKE_EVERY-th one for
    at most LOAD_SECONDS; SIGKILL the server after KILL_AFTER_SECONDS.  A worker stops at
    its first transport error (the server is gone)."""
    result = LoadResult()
    auth = (client.client_id, client.client_secret)
    deadline = time.monotonic() + LOAD_SECONDS

    async def worker(http: httpx.AsyncClient) -> None:
        received = 0
        while time.monotonic() < deadline:
            try:
                response = await http.post(
                    "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth
                )
                if response.status_code != 200:
                    result.unexpected.append(f"token {response.status_code} {response.text}")
                    continue
                token: str = response.json()["access_token"]
                result.issued.append(token)
                received += 1
                if received % REVOKE_EVERY:
                    continue
                result.revoke_sent.add(token)
                response = await http.post("/oauth/revoke", data={"token": token}, auth=auth)
                if response.status_code != 200:
                    result.unexpected.append(f"revoke {response.status_code} {response.text}")
                    continue
                result.revoked.add(token)
            except httpx.TransportError:
                return

    def kill() -> None:
        os.kill(server.process.pid, signal.SIGKILL)

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
    ) as http:
        killer = asyncio.get_running_loop().call_later(KILL_AFTER_SECONDS, kill)
        try:
            await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))
        finally:
            killer.cancel()
    return result


def test_acknowledged_tokens_and_revocations_survive_sigkill(
    server_database_url: str, tmp_path: Path
) -> None:
    """Every token answered 200 is stored and active after a SIGKILL and a restart; every
    revocation answered 200 stands; the restarted server issues tokens again."""
    # Load from one client: no rate limits (tests/e2e/test_shared_limits.py has them).
    env = cli_environment(server_database_url, rate_limits_enabled="false")
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    client = create_client(env, name="durability")

    with server_processes() as started:
        first = start_server(env, tmp_path / "first.log", started)
        result = asyncio.run(load_then_kill(first, client))
        first.process.wait(timeout=EXIT_TIMEOUT_SECONDS)
        assert first.process.returncode == -signal.SIGKILL, "the server died before the kill"

        assert result.unexpected == []
        assert len(result.issued) >= CONCURRENCY, "too little load reached the server"
        assert result.revoked, "no revocation was acknowledged before the kill"
        assert len(set(result.issued)) == len(result.issued)

        second = start_server(env, tmp_path / "second.log", started)
        records = asyncio.run(read_tokens(server_database_url, result.issued))
        now = datetime.now(UTC)
        lost = [token[:12] for token, record in records.items() if record is None]
        assert lost == [], f"{len(lost)} of {len(records)} acknowledged tokens were lost"
        for token, record in records.items():
            assert record is not None
            assert record.client_id == client.client_id
            assert record.expires_at > now
            if token in result.revoked:
                assert record.revoked_at is not None, "an acknowledged revocation was lost"
            elif token not in result.revoke_sent:
                assert record.revoked_at is None, "a token nobody revoked stands revoked"

        with httpx.Client(base_url=second.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
            response = http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            )
        assert response.status_code == 200, response.text
