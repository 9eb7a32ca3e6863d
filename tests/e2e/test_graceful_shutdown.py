"""Graceful shutdown of a real ``anti-grazer serve`` under load: on SIGTERM it stops
accepting connections, finishes the requests in flight (bounded by
``SHUTDOWN_TIMEOUT_SECONDS``), closes its stores and exits 0.

Requests known to be in flight at the signal are token requests whose body is sent in
two parts, the second after SIGTERM: the server has read their head, so each must get its
answer.  Around them, workers keep asking for tokens over keep-alive connections: every
token answered 200 must be stored afterwards, no answer may be a 5xx, and a request the
server did not take is refused at the connection (HTTP/1.1 §9.6: a client retries a
request on a connection the server closed), never answered half-way."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from anti_grazer.settings import load_settings
from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    read_tokens,
    run_cli,
    serving,
    sqlite_url,
)

pytestmark = pytest.mark.slow

LOAD_WORKERS = 16
IN_FLIGHT = 4
SIGNAL_AFTER_SECONDS = 1.0
SECOND_PART_AFTER_SIGNAL_SECONDS = 0.5
REQUEST_TIMEOUT_SECONDS = 5.0
EXIT_TIMEOUT_SECONDS = 15.0
FORM = "application/x-www-form-urlencoded"


@dataclass
class Outcomes:
    issued: list[str] = field(default_factory=list)  # tokens answered 200
    in_flight: list[int | str] = field(default_factory=list)  # status, or the error
    refused: list[str] = field(default_factory=list)  # requests the server did not take
    unexpected: list[str] = field(default_factory=list)


async def two_part_body(signalled: asyncio.Event) -> AsyncIterator[bytes]:
    """A token request body whose second part leaves only after the signal."""
    yield b"grant_type=client_"
    await signalled.wait()
    await asyncio.sleep(SECOND_PART_AFTER_SIGNAL_SECONDS)
    yield b"credentials"


async def load_and_terminate(server: ServerProcess, client: CreatedClient) -> Outcomes:
    outcomes = Outcomes()
    auth = (client.client_id, client.client_secret)
    signalled = asyncio.Event()

    async def load(http: httpx.AsyncClient) -> None:
        while True:
            try:
                response = await http.post(
                    "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth
                )
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as error:
                # Refused, or closed before it was read (the server stopped reading an
                # idle keep-alive connection): only after the signal.
                if not signalled.is_set():
                    outcomes.unexpected.append(f"before the signal: {error!r}")
                outcomes.refused.append(type(error).__name__)
                return
            if response.status_code != 200:
                outcomes.unexpected.append(f"{response.status_code} {response.text}")
                return
            outcomes.issued.append(response.json()["access_token"])

    async def in_flight(http: httpx.AsyncClient) -> None:
        try:
            response = await http.post(
                "/oauth/token",
                content=two_part_body(signalled),
                headers={"content-type": FORM},
                auth=auth,
            )
        except httpx.TransportError as error:
            outcomes.in_flight.append(repr(error))
            return
        outcomes.in_flight.append(response.status_code)
        if response.status_code == 200:
            outcomes.issued.append(response.json()["access_token"])

    async def terminate() -> None:
        await asyncio.sleep(SIGNAL_AFTER_SECONDS)
        os.kill(server.process.pid, signal.SIGTERM)
        signalled.set()

    limits = httpx.Limits(max_connections=LOAD_WORKERS + IN_FLIGHT)
    async with (
        httpx.AsyncClient(
            base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
        ) as http,
        asyncio.timeout(REQUEST_TIMEOUT_SECONDS * 3),
    ):
        await asyncio.gather(
            *(load(http) for _ in range(LOAD_WORKERS)),
            *(in_flight(http) for _ in range(IN_FLIGHT)),
            terminate(),
        )
    return outcomes


def prepared(database_url: str) -> tuple[dict[str, str], CreatedClient]:
    # Load from one client: no rate limits (tests/e2e/test_shared_limits.py has them).
    env = cli_environment(database_url, rate_limits_enabled="false")
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    return env, create_client(env, name="shutdown")


def test_sigterm_under_load_answers_what_was_in_flight_and_exits_0(
    server_database_url: str, tmp_path: Path
) -> None:
    env, client = prepared(server_database_url)
    with serving(env, tmp_path / "server.log") as server:
        outcomes = asyncio.run(load_and_terminate(server, client))
        started = time.monotonic()
        returncode = server.process.wait(timeout=EXIT_TIMEOUT_SECONDS)
        log = server.log_text()
    assert returncode == 0, log
    assert time.monotonic() - started < EXIT_TIMEOUT_SECONDS
    assert outcomes.unexpected == []
    assert outcomes.in_flight == [200] * IN_FLIGHT, "a request in flight was not answered"
    assert len(outcomes.issued) > LOAD_WORKERS, "too little load reached the server"
    assert len(outcomes.refused) == LOAD_WORKERS, "every load worker ends refused"

    records = asyncio.run(read_tokens(server_database_url, outcomes.issued))
    lost = [token[:12] for token, record in records.items() if record is None]
    assert lost == [], f"{len(lost)} of {len(records)} acknowledged tokens are not stored"
    assert '"event":"server_stopping"' in log
    assert '"event":"application_stopping"' in log
    assert '"status":5' not in log
    assert "client_disconnected" not in log
    assert "Traceback" not in log


def test_requests_outlasting_the_shutdown_timeout_are_cut_and_the_server_exits(
    tmp_path: Path,
) -> None:
    """``SHUTDOWN_TIMEOUT_SECONDS`` bounds the wait: a request whose body stalls (well
    within its own 10 s body timeout) is cancelled when it ends, and the server exits."""
    database_url = sqlite_url(tmp_path / "timeout.db")
    env, client = prepared(database_url)
    env["ANTI_GRAZER_SHUTDOWN_TIMEOUT_SECONDS"] = "0.5"

    async def stalled_request(server: ServerProcess) -> float:
        """Send a request whose body stalls, SIGTERM the server: the seconds it takes
        to exit."""

        async def stalled_body() -> AsyncIterator[bytes]:
            yield b"grant_type="
            await asyncio.sleep(EXIT_TIMEOUT_SECONDS)

        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS
        ) as http:
            sent = asyncio.create_task(
                http.post(
                    "/oauth/token",
                    content=stalled_body(),
                    headers={"content-type": FORM},
                    auth=(client.client_id, client.client_secret),
                )
            )
            await asyncio.sleep(0.5)
            os.kill(server.process.pid, signal.SIGTERM)
            signalled = time.monotonic()
            while server.process.poll() is None:
                assert time.monotonic() - signalled < EXIT_TIMEOUT_SECONDS
                await asyncio.sleep(0.05)
            stopped_after = time.monotonic() - signalled
            sent.cancel()
            return stopped_after

    with serving(env, tmp_path / "server.log") as server:
        stopped_after = asyncio.run(stalled_request(server))
        log = server.log_text()
    assert server.process.returncode == 0, log
    assert 0.5 <= stopped_after < 3.0, f"stopped {stopped_after:.2f} s after SIGTERM"
    assert '"event":"shutdown_timeout"' in log
    assert '"cancelled":1' in log
    assert '"event":"application_stopping"' in log


def test_the_shutdown_timeout_is_a_setting_with_a_safe_default() -> None:
    assert load_settings().shutdown_timeout_seconds == 25.0
    with pytest.raises(ValueError, match="shutdown_timeout_seconds"):
        load_settings(shutdown_timeout_seconds=0)
