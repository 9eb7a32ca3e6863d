"""The edge every request passes (DESIGN.md §4.11, web/edge.py): one middleware stack for
every route, /v1 authenticated before its body is read, every body bounded in size and
time while it streams, and an access log that records what was actually sent.

Most tests call the ASGI app directly, with a ``receive`` that counts its calls: that is
the only way to see that a body was never read."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anti_grazer.logs import configure_logging
from anti_grazer.web.access_log import AccessLogMiddleware
from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.support import Registered, access_lines, create_app, issue, running, settings_for

API_LIMIT = 65536
OAUTH_LIMIT = 16384
TOO_LARGE = {"error": "invalid_request", "error_description": "The request body is too large"}
TOO_SLOW = {
    "error": "invalid_request",
    "error_description": "The request body did not arrive in time",
}


@dataclass
class Exchange:
    """What one direct ASGI call read and sent."""

    reads: int = 0
    sent: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


def body_chunks(*chunks: bytes) -> Callable[[], Awaitable[Message]]:
    """``receive`` handing out ``chunks``, then a disconnect."""
    queue = list(chunks)

    async def receive() -> Message:
        if not queue:
            return {"type": "http.disconnect"}
        chunk = queue.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    return receive


async def call(
    app: ASGIApp,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    receive: Callable[[], Awaitable[Message]],
) -> Exchange:
    exchange = Exchange()

    async def counting_receive() -> Message:
        exchange.reads += 1
        return await receive()

    async def send(message: Message) -> None:
        exchange.sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
    }
    await app(scope, counting_receive, send)
    return exchange


@pytest.fixture
async def started(app: Edge, http: httpx.AsyncClient) -> Edge:
    """The app with its lifespan running (``http`` runs it)."""
    return app


@pytest.fixture
async def token(http: httpx.AsyncClient, registered: Registered) -> str:
    return await issue(http, registered, "reports:write profiles:read")


REPORT = b'{"platform":"facebook","profile_id":"grazer","reporter_id":"u1"}'


@pytest.mark.parametrize(
    ("method", "path", "content_type", "body"),
    [
        ("GET", "/v1/profiles/facebook/x", "application/x-www-form-urlencoded", b"k=v&" * 4096),
        ("POST", "/v1/reports", "application/json", REPORT),
        ("POST", "/v1/nowhere", "application/json", REPORT),
    ],
)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ag_at_notatoken", "Basic dXNlcjpwYXNz"],
    ids=["none", "bad-token", "basic"],
)
async def test_unauthenticated_api_requests_are_refused_before_the_body_is_read(
    started: Edge,
    method: str,
    path: str,
    content_type: str,
    body: bytes,
    authorization: str | None,
) -> None:
    """RFC 6750 §3.1 and DESIGN.md §4.11: a /v1 request without a valid token gets its
    401 without one byte of its body read (so a server never sends ``100 Continue`` for
    it), whatever the route, even one that does not exist."""
    headers = [("content-type", content_type), ("content-length", str(len(body)))]
    if authorization is not None:
        headers.append(("authorization", authorization))
    exchange = await call(started, method, path, headers, body_chunks(body))
    assert exchange.status == 401
    assert exchange.reads == 0
    assert exchange.headers[b"www-authenticate"].startswith(b'Bearer realm="anti-grazer"')
    assert exchange.headers[b"cache-control"] == b"no-store"


async def test_a_declared_body_over_the_api_limit_is_413_before_reading(
    started: Edge, token: str
) -> None:
    """An authenticated request whose Content-Length exceeds ``MAX_API_BODY_BYTES`` is
    refused without reading it, and the connection is closed (its body is never read)."""
    headers = [
        ("authorization", f"Bearer {token}"),
        ("content-type", "application/json"),
        ("content-length", str(API_LIMIT + 1)),
    ]
    exchange = await call(started, "POST", "/v1/reports", headers, body_chunks(b"{"))
    assert (exchange.status, exchange.reads, exchange.json) == (413, 0, TOO_LARGE)
    assert exchange.headers[b"connection"] == b"close"
    assert exchange.headers[b"content-type"] == b"application/json"
    assert exchange.headers[b"cache-control"] == b"no-store"


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(
    started: Edge, token: str
) -> None:
    """A chunked body (no Content-Length) is counted as it streams: 413 once it passes
    the limit, nothing buffered beyond it, and the rest is never asked for."""
    chunk = b" " * 8192
    headers = [("authorization", f"Bearer {token}"), ("content-type", "application/json")]
    exchange = await call(started, "POST", "/v1/reports", headers, body_chunks(*[chunk] * 1000))
    assert (exchange.status, exchange.json) == (413, TOO_LARGE)
    assert exchange.reads == API_LIMIT // len(chunk) + 1
    assert len(exchange.sent) == 2  # the route's own answer to the disconnect is dropped


async def test_the_oauth_endpoints_keep_their_own_smaller_limit(started: Edge, token: str) -> None:
    """``MAX_BODY_BYTES`` (16 KiB) bounds /oauth/*; a /v1 body above it is still read."""
    form = [("content-type", "application/x-www-form-urlencoded")]
    oauth = await call(
        started,
        "POST",
        "/oauth/token",
        [*form, ("content-length", str(OAUTH_LIMIT + 1))],
        body_chunks(b"x"),
    )
    assert (oauth.status, oauth.reads, oauth.json) == (413, 0, TOO_LARGE)
    big_report = REPORT[:-1] + b',"reason":"' + b"r" * (OAUTH_LIMIT + 1) + b'"}'
    api = await call(
        started,
        "POST",
        "/v1/reports",
        [
            ("authorization", f"Bearer {token}"),
            ("content-type", "application/json"),
            ("content-length", str(len(big_report))),
        ],
        body_chunks(big_report),
    )
    assert api.status == 422  # read and validated: the reason is longer than allowed


@pytest.fixture
def slow_app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(settings_for(database_url, body_timeout_seconds=0.2), clock=clock)


async def test_a_body_that_stalls_is_cut_off_with_408(
    slow_app: Edge, registered: Registered
) -> None:
    """``BODY_TIMEOUT_SECONDS``: the whole body must arrive in time; a stalled one gets
    408 and ``Connection: close``, and the route sees a disconnect."""
    stalled = asyncio.Event()

    async def first_chunk_then_nothing() -> Message:
        if not stalled.is_set():
            stalled.set()
            return {"type": "http.request", "body": b"grant_type=", "more_body": True}
        await asyncio.Event().wait()  # never set: the client sends nothing more
        raise AssertionError("unreachable")

    async with running(slow_app):
        exchange = await asyncio.wait_for(
            call(
                slow_app,
                "POST",
                "/oauth/token",
                [("content-type", "application/x-www-form-urlencoded")],
                first_chunk_then_nothing,
            ),
            timeout=5,
        )
    assert (exchange.status, exchange.json) == (408, TOO_SLOW)
    assert exchange.headers[b"connection"] == b"close"


async def test_cancel_in_flight_cuts_the_requests_still_running(started: Edge) -> None:
    """What a server stopping gracefully does once its shutdown timeout is over
    (``cli/serve.py``): every request in flight is cancelled, none is left counted."""
    first_read = asyncio.Event()

    async def stalls_after_the_first_chunk() -> Message:
        if not first_read.is_set():
            first_read.set()
            return {"type": "http.request", "body": b"grant_type=", "more_body": True}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    form = [("content-type", "application/x-www-form-urlencoded")]
    request = asyncio.ensure_future(
        call(started, "POST", "/oauth/token", form, stalls_after_the_first_chunk)
    )
    await asyncio.wait_for(first_read.wait(), timeout=5)
    assert started.cancel_in_flight() == 1
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(request, timeout=5)
    assert started.cancel_in_flight() == 0


@pytest.mark.parametrize("valid_first", [True, False])
async def test_two_authorization_headers_are_invalid_request(
    http: httpx.AsyncClient, token: str, valid_first: bool
) -> None:
    """RFC 6750 §3.1 ``invalid_request`` (and RFC 9110 §5.3: Authorization is not a
    list): two headers make the request ambiguous, whichever comes first."""
    pair = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer junk")]
    headers = pair if valid_first else pair[::-1]
    response = await http.get("/v1/profiles/facebook/x", headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "A header is included more than once",
    }
    assert response.headers["www-authenticate"] == (
        'Bearer realm="anti-grazer", error="invalid_request", '
        'error_description="A header is included more than once"'
    )


class PathRecorder:
    """A middleware that notes every HTTP path it sees."""

    seen: list[str]

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["path"])
        await self.app(scope, receive, send)


async def test_a_middleware_added_to_the_app_sees_every_route(
    database_url: str, clock: FrozenClock
) -> None:
    """DESIGN.md §4.11: no route bypasses the stack, the OAuth endpoints included."""
    app = create_app(settings_for(database_url), clock=clock)
    seen: list[str] = []
    app.add_middleware(PathRecorder, seen)
    paths = ["/oauth/token", "/oauth/revoke", "/v1/blocklist", "/health", "/docs", "/nowhere"]
    async with running(app) as http:
        for path in paths:
            await http.post(path) if path.startswith("/oauth") else await http.get(path)
    assert seen == paths


async def test_middleware_cannot_be_added_once_serving(
    started: Edge, http: httpx.AsyncClient
) -> None:
    """The stack is built at the first request: a later middleware would miss requests."""
    await http.get("/health")
    with pytest.raises(RuntimeError, match="once the application has started"):
        started.add_middleware(PathRecorder, [])


async def test_a_client_that_leaves_before_any_response_is_logged_as_such(
    started: Edge,
) -> None:
    """The access log records what was sent: a client gone mid-body got nothing, so its
    line has no status (never a 500 that would feed 5xx alerting)."""
    stream = io.StringIO()
    configure_logging("info", stream)
    exchange = await call(
        started,
        "POST",
        "/oauth/token",
        [("content-type", "application/x-www-form-urlencoded")],
        body_chunks(),  # a disconnect at once
    )
    assert exchange.sent == []
    [line] = access_lines(stream)
    assert (line["path"], line["status"], line["outcome"]) == (
        "/oauth/token",
        None,
        "client_disconnected",
    )


async def test_the_access_log_records_the_edges_own_refusals(started: Edge) -> None:
    """A 413 sent by the edge is logged as 413."""
    stream = io.StringIO()
    configure_logging("info", stream)
    await call(
        started,
        "POST",
        "/oauth/token",
        [("content-length", str(OAUTH_LIMIT + 1))],
        body_chunks(b"x"),
    )
    [line] = access_lines(stream)
    assert (line["status"], "outcome" in line) == (413, False)


async def test_an_app_that_fails_before_answering_is_logged_as_500() -> None:
    """When the route fails without a response the server answers 500: so does the log."""

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    stream = io.StringIO()
    configure_logging("info", stream)
    with pytest.raises(RuntimeError):
        await call(AccessLogMiddleware(failing), "GET", "/x", [], body_chunks())
    [line] = access_lines(stream)
    assert line["status"] == 500
