"""The ceiling of the benchmarks (DESIGN.md §6): a raw ASGI app answering every request
with one fixed JSON body, served like the real server (``http_server`` from
``cli/serve.py``, one worker).  No framework, no routing, no parsing: what the HTTP server
itself costs per request on this machine.  ``python -m bench.ceiling --port N``."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from anti_grazer.cli.serve import http_server
from anti_grazer.settings import load_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY = b'{"status":"ok"}'
START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode("ascii")),
    ],
}
FINISH: Message = {"type": "http.response.body", "body": BODY}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer HTTP requests with ``BODY``; accept the lifespan protocol."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(START)
    await send(FINISH)


def application() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The app factory ``http_server`` serves (it serves factories, like the product's)."""
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    settings = load_settings(host="127.0.0.1", port=port, workers=1, log_level="warning")
    http_server("bench.ceiling:application", settings).serve()


if __name__ == "__main__":
    main()
