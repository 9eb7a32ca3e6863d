"""A token endpoint that redirects: the client never takes the token of the place it was
sent to (RFC 6749 §3.2: the client talks to the token endpoint it was given), even
through an httpx client that follows redirects.  A real HTTP server on 127.0.0.1 (the
standard library's) plays the endpoint and the place it redirects to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from anti_grazer.client import ClientCredentialsAuth, TokenEndpointError


class _Redirecting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.served.append(self.path)
        if self.path == "/token":
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"access_token":"not-ours","token_type":"Bearer","expires_in":3600}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.served.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads ``served``."""


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[str]]]:
    served: list[str] = []
    handler = type("Handler", (_Redirecting,), {"served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_redirected_token_answer_is_refused(redirecting: tuple[str, list[str]]) -> None:
    base, served = redirecting
    auth = ClientCredentialsAuth(base + "/token", "cid", "the-secret")
    with (
        httpx.Client(base_url=base, follow_redirects=True, timeout=5) as client,
        pytest.raises(TokenEndpointError) as refused,
    ):
        client.get("/api", auth=auth)
    assert refused.value.status_code == 200  # from /elsewhere
    assert "the-secret" not in str(refused.value)
    assert served == ["/token", "/elsewhere"]  # followed by httpx, its token not taken


async def test_a_redirected_token_answer_is_refused_async(
    redirecting: tuple[str, list[str]],
) -> None:
    base, served = redirecting
    auth = ClientCredentialsAuth(base + "/token", "cid", "the-secret")
    async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=5) as client:
        with pytest.raises(TokenEndpointError):
            await client.get("/api", auth=auth)
    assert "/api" not in served
