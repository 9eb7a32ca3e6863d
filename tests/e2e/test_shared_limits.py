"""Rate limits and the lockout shared through Redis by a real ``anti-grazer serve``
(issue 18 items 1 and 2): with ``--workers 2`` on one Redis, one client's limit is one
count whichever worker serves each request, and so are its failed authentications; when
Redis stops answering, requests are served uncounted (fail open), the outage logged once,
and counting resumes when it is back."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    serving,
    sqlite_url,
)
from tests.http_helpers import LOCKED_OUT, PROFILE, assert_no_rate_limit_fields, basic
from tests.support import NEEDS_REDIS, flushed_redis_url
from tests.tcp_proxy import proxied

pytestmark = [pytest.mark.slow, NEEDS_REDIS]

BURST = 10
MAX_CONNECTIONS = 60
RECOVERY_SECONDS = 5.0


def worker_pids(server: ServerProcess) -> list[int]:
    """The server's forked workers."""
    pid = server.process.pid
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def holds_connection_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds an established TCP connection on local ``port``
    (one a client opened to the server)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        if local_port == port and state == "01" and inode in inodes:
            return True
    return False


@contextmanager
def connections_to_every_worker(
    server: ServerProcess,
) -> Iterator[list[http.client.HTTPConnection]]:
    """Keep-alive connections to the server, opened until each worker holds one."""
    address = urlsplit(server.base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    deadline = time.monotonic() + 15
    while len(workers := worker_pids(server)) < 2:
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.05)
    opened: list[http.client.HTTPConnection] = []
    try:
        while not all(holds_connection_on(pid, port) for pid in workers):
            assert len(opened) < MAX_CONNECTIONS, "one worker took every connection"
            connection = http.client.HTTPConnection(host, port, timeout=10)
            connection.request("GET", "/health")
            assert connection.getresponse().read() == b'{"status":"ok"}'
            opened.append(connection)
        yield opened
    finally:
        for connection in opened:
            connection.close()


def get(connection: http.client.HTTPConnection, token: str) -> tuple[int, str | None]:
    connection.request("GET", PROFILE, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("x-ratelimit-remaining")


def token_request(connection: http.client.HTTPConnection, client_id: str, secret: str) -> int:
    connection.request(
        "POST",
        "/oauth/token",
        body="grant_type=client_credentials",
        headers={
            "Authorization": basic(client_id, secret),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = connection.getresponse()
    body = response.read()
    if response.status == 429:
        assert json.loads(body)["error_description"] == LOCKED_OUT
    return response.status


def token_of(server: ServerProcess, client: CreatedClient) -> str:
    response = httpx.post(
        f"{server.base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
        timeout=10,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def test_two_workers_on_one_redis_share_each_clients_counts(tmp_path: Path) -> None:
    """Requests spread over connections that both workers hold: exactly ``BURST`` are
    served, each told a different remainder (one count), the rest refused; five failed
    authentications, whichever worker saw them, lock the client id out on both."""
    redis = asyncio.run(flushed_redis_url())
    env = cli_environment(
        sqlite_url(tmp_path / "shared.db"),
        rate_limit_storage=redis,
        rate_limit_burst_per_minute=str(BURST),
        lockout_failures="5",
    )
    client = create_client(env)
    with (
        serving(env, tmp_path / "server.log", ["--workers", "2"]) as server,
        connections_to_every_worker(server) as connections,
    ):
        token = token_of(server, client)
        answers = [get(connections[n % len(connections)], token) for n in range(2 * BURST)]
        served = sorted(int(left or -1) for status, left in answers if status == 200)
        assert served == list(range(BURST))
        assert [status for status, _ in answers].count(429) == BURST
        statuses = [
            token_request(connections[n % len(connections)], client.client_id, "wrong")
            for n in range(6)
        ]
        assert statuses == [401] * 5 + [429]
        for connection in connections[:2]:
            assert token_request(connection, client.client_id, client.client_secret) == 429
    assert "rate_limits_per_worker" not in server.log_text()


async def test_a_redis_outage_serves_requests_uncounted_and_is_logged_once(
    tmp_path: Path,
) -> None:
    redis = await flushed_redis_url()
    async with proxied(redis) as proxy:
        env = cli_environment(
            sqlite_url(tmp_path / "outage.db"), rate_limit_storage=proxy.url_through(redis)
        )
        client = create_client(env)
        with serving(env, tmp_path / "server.log") as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                token = (
                    await http.post(
                        "/oauth/token",
                        data={"grant_type": "client_credentials"},
                        auth=(client.client_id, client.client_secret),
                    )
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                counted = await http.get(PROFILE, headers=headers)
                assert counted.headers["x-ratelimit-remaining"] == "99"

                await proxy.cut()
                for _ in range(5):
                    served = await http.get(PROFILE, headers=headers)
                    assert served.status_code == 200
                    assert_no_rate_limit_fields(served)

                await proxy.restore()
                # The storage is let alone a second after it failed.
                deadline = time.monotonic() + RECOVERY_SECONDS
                while (
                    "x-ratelimit-remaining"
                    not in (again := await http.get(PROFILE, headers=headers)).headers
                ):
                    assert time.monotonic() < deadline, server.log_text()
                    await asyncio.sleep(0.1)
                assert again.headers["x-ratelimit-remaining"] == "98"
        events = [json.loads(line)["event"] for line in server.log_text().splitlines()]
    assert events.count("rate_limit_storage_unavailable") == 1
    assert events.count("rate_limit_storage_recovered") == 1
