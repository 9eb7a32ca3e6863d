"""A resource server that refuses every request with one ``401`` and remembers the
``Authorization`` headers it was sent: a real HTTP server on 127.0.0.1 (the standard
library's), for the refusals the Anti Grazer API itself never sends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class RefusingApi:
    base_url: str
    received: list[str] = field(default_factory=list)


@contextmanager
def refusing_api(challenge: str | None) -> Iterator[RefusingApi]:
    """Answer every request ``401`` with ``WWW-Authenticate: <challenge>`` (none if
    ``None``); stopped on exit."""
    api = RefusingApi("")

    class Refuse(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            api.received.append(self.headers.get("Authorization", ""))
            body = b'{"error":"refused"}'
            self.send_response(401)
            if challenge is not None:
                self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads ``received``."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
