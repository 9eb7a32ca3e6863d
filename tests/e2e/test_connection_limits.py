"""The connection's own limits, against a real ``anti-grazer serve`` with raw sockets
(DESIGN.md §4.11): a head must arrive in time (idle keep-alive connections too), a head
has a maximum size, a stalled body is cut off, each worker serves a bounded number of
connections, and nothing unauthenticated gets a ``100 Continue`` or has its body read."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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

pytestmark = pytest.mark.slow

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 4
WAIT = 10.0  # the longest any socket read here waits


@dataclass(frozen=True)
class LimitedServer:
    server: ServerProcess
    client: CreatedClient

    @property
    def port(self) -> int:
        return int(self.server.base_url.rsplit(":", 1)[1])

    def connect(self) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        connection.settimeout(WAIT)
        return connection


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LimitedServer]:
    folder = tmp_path_factory.mktemp("e2e-limits")
    env = cli_environment(
        sqlite_url(folder / "anti-grazer.db"),
        head_timeout_seconds=str(HEAD_TIMEOUT),
        body_timeout_seconds=str(BODY_TIMEOUT),
        max_connections=str(MAX_CONNECTIONS),
    )
    client = create_client(env)
    with serving(env, folder / "server.log") as server:
        yield LimitedServer(server, client)


def read_until_closed(connection: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    received = b""
    with connection:
        while chunk := connection.recv(65536):
            received += chunk
    return received, time.monotonic() - started


def read_response(connection: socket.socket) -> bytes:
    """One response's head and its Content-Length body."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return received


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(
    limited: LimitedServer,
) -> None:
    received, elapsed = read_until_closed(limited.connect())
    assert received == b""
    assert HEAD_TIMEOUT * 0.5 <= elapsed < HEAD_TIMEOUT + 3


def test_half_a_head_is_closed_after_the_head_timeout(limited: LimitedServer) -> None:
    """A slow-loris head (never finished) holds the connection no longer than the timeout."""
    connection = limited.connect()
    connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    received, elapsed = read_until_closed(connection)
    assert b"200" not in received
    assert elapsed < HEAD_TIMEOUT + 3


def test_an_idle_keep_alive_connection_is_closed_after_the_head_timeout(
    limited: LimitedServer,
) -> None:
    connection = limited.connect()
    connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_of(read_response(connection)) == 200
    received, elapsed = read_until_closed(connection)
    assert received == b""
    assert HEAD_TIMEOUT * 0.5 <= elapsed < HEAD_TIMEOUT + 3


def test_a_head_over_the_maximum_size_is_431_and_closed(limited: LimitedServer) -> None:
    """``MAX_HEADER_BYTES`` (16 KiB): a 32 KiB header is refused, not buffered."""
    connection = limited.connect()
    connection.sendall(
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 32768 + b"\r\n\r\n"
    )
    received, _elapsed = read_until_closed(connection)
    assert status_of(received) == 431


def test_a_head_under_the_maximum_size_is_served(limited: LimitedServer) -> None:
    connection = limited.connect()
    connection.sendall(
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n"
    )
    with connection:
        assert status_of(read_response(connection)) == 200


def test_a_stalled_body_gets_408_and_the_connection_is_closed(limited: LimitedServer) -> None:
    connection = limited.connect()
    connection.sendall(
        b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
        b"grant_type="
    )
    received, elapsed = read_until_closed(connection)
    assert status_of(received) == 408
    assert received.endswith(
        b'{"error":"invalid_request","error_description":"The request body did not arrive in time"}'
    )
    assert elapsed < BODY_TIMEOUT + 3


@pytest.mark.parametrize("path", ["/v1/reports", "/v1/profiles/facebook/x"])
def test_no_100_continue_and_no_body_read_without_a_token(
    limited: LimitedServer, path: str
) -> None:
    """A 50 MB body announced with ``Expect: 100-continue`` and no token: the answer is
    the 401 itself, at once, and nothing of the body is ever asked for."""
    connection = limited.connect()
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 50000000\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    with connection:
        response = read_response(connection)
    assert status_of(response) == 401
    assert b"100 Continue" not in response


def test_an_unauthenticated_body_is_not_read_while_it_streams(limited: LimitedServer) -> None:
    """30 MB of form pairs sent without a token get their 401 long before they are sent;
    the server stays responsive meanwhile."""
    connection = limited.connect()
    connection.sendall(
        b"GET /v1/profiles/facebook/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 30000000\r\n\r\n"
        + b"k=v&"
        * 1024
    )
    started = time.monotonic()
    with connection:
        assert status_of(read_response(connection)) == 401
    assert time.monotonic() - started < 2
    health = limited.connect()
    health.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    with health:
        assert status_of(read_response(health)) == 200


def test_a_refused_streamed_body_gets_its_401_not_a_reset(limited: LimitedServer) -> None:
    """A client streaming a chunked body with a bad token gets the 401 every time: the
    guard reads and drops what it sends (up to 64 KiB) before the connection closes, where
    closing with the body unread made the kernel reset about a third of them before the
    answer was read."""

    def chunks() -> Iterator[bytes]:
        yield b'{"platform": "facebook",'
        for _ in range(8):
            yield b" " * 2048

    outcomes: list[int | str] = []
    with httpx.Client(base_url=limited.server.base_url, timeout=WAIT) as client:
        for _ in range(60):
            try:
                response = client.post(
                    "/v1/reports",
                    content=chunks(),
                    headers={"Authorization": "Bearer nope", "Content-Type": "application/json"},
                )
                outcomes.append(response.status_code)
            except httpx.TransportError as error:
                outcomes.append(type(error).__name__)
    assert outcomes == [401] * 60


def test_an_oversized_body_is_413_before_it_is_sent(limited: LimitedServer) -> None:
    connection = limited.connect()
    connection.sendall(
        b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20000000\r\n"
        b"Expect: 100-continue\r\n\r\n"
    )
    received, _elapsed = read_until_closed(connection)
    assert status_of(received) == 413
    assert b"100 Continue" not in received


def test_each_worker_serves_at_most_max_connections(limited: LimitedServer) -> None:
    """``MAX_CONNECTIONS``: with that many connections open, one more is not served
    until a slot frees (here, when the silent ones reach the head timeout); it waits in
    the listen backlog, using no memory of the server's."""
    silent = [limited.connect() for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.2)  # let the server accept them all
    started = time.monotonic()
    extra = limited.connect()
    extra.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    with extra:
        assert status_of(read_response(extra)) == 200
    waited = time.monotonic() - started
    for connection in silent:
        connection.close()
    assert HEAD_TIMEOUT * 0.5 <= waited < HEAD_TIMEOUT + 3


def test_what_the_server_itself_refused_is_never_logged_as_500(
    limited: LimitedServer, tmp_path: Path
) -> None:
    """A request line the HTTP parser refuses is answered 400 by the server; the access
    log holds no 500 for it (nor for any request above)."""
    connection = limited.connect()
    connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    received, _elapsed = read_until_closed(connection)
    assert status_of(received) == 400
    statuses = [
        json.loads(line).get("status")
        for line in limited.server.log_text().splitlines()
        if '"logger_name":"anti_grazer.access"' in line
    ]
    assert statuses
    assert 500 not in statuses
