"""A resource server that refuses every request with one ``401`` and remembers what it
was sent: a real HTTP server on 127.0.0.1 (the standard library's), for the refusals the
Anti Grazer API itself never sends, and for streamed bodies read whole before the answer
(the Anti Grazer API answers a refused token before reading the body)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class RefusingApi:
    """Where it listens, and the ``Authorization`` header and body of each request."""

    base_url: str
    received: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)


class _Refuse(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: RefusingApi
    challenge: str | None

    def do_GET(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self._refuse()

    def _read_body(self) -> bytes:
        """The body, sent with a ``Content-Length`` or chunked (RFC 9112 §7.1)."""
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):
            body += self.rfile.read(size)
            self.rfile.readline()  # the chunk's CRLF
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return body

    def _refuse(self) -> None:
        self.api.bodies.append(self._read_body())
        self.api.received.append(self.headers.get("Authorization", ""))
        body = b'{"error":"refused"}'
        self.send_response(401)
        if self.challenge is not None:
            self.send_header("WWW-Authenticate", self.challenge)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads ``RefusingApi``."""


@contextmanager
def refusing_api(challenge: str | None) -> Iterator[RefusingApi]:
    """Answer every request ``401`` with ``WWW-Authenticate: <challenge>`` (none if
    ``None``); stopped on exit."""
    api = RefusingApi("")
    handler = type("Refuse", (_Refuse,), {"api": api, "challenge": challenge})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
