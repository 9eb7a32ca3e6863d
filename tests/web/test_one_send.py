"""Each response leaves in one send (web/one_send.py): the held-writes transport on its
own, then uvicorn serving through ``OneSendHttpToolsProtocol`` on a real socket, with the
sends of its connections counted where asyncio makes them."""

from __future__ import annotations

import asyncio
import socket
from asyncio import selector_events
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from anti_grazer.web.one_send import HeldWritesTransport, OneSendHttpToolsProtocol


class RecordingTransport(asyncio.Transport):
    """asyncio's transport interface, recording what it is asked to do."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.calls: list[str] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))
        self.calls.append("write")

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.calls.append("close")
        self.closing = True

    def abort(self) -> None:
        self.calls.append("abort")
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append("write_eof")

    def get_write_buffer_size(self) -> int:
        return 7


async def next_loop_iteration() -> None:
    """Let the callbacks scheduled so far run."""
    await asyncio.sleep(0)


@pytest.fixture
def recorded() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def held(recorded: RecordingTransport) -> HeldWritesTransport:
    return HeldWritesTransport(recorded, asyncio.get_running_loop())


async def test_writes_of_one_callback_leave_together_once_it_ends(
    held: HeldWritesTransport, recorded: RecordingTransport
) -> None:
    held.write(b"HTTP/1.1 200 OK\r\n\r\n")
    held.writelines([bytearray(b"{"), memoryview(b"}")])
    assert recorded.writes == []
    await next_loop_iteration()
    assert recorded.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]


async def test_writes_of_later_callbacks_leave_in_sends_of_their_own(
    held: HeldWritesTransport, recorded: RecordingTransport
) -> None:
    held.write(b"first")
    await next_loop_iteration()
    held.write(b"second")
    await next_loop_iteration()
    await next_loop_iteration()
    assert recorded.writes == [b"first", b"second"]


async def test_close_and_write_eof_send_what_is_held_first(
    held: HeldWritesTransport, recorded: RecordingTransport
) -> None:
    held.write(b"last response")
    held.write_eof()
    held.write(b"")
    held.close()
    await next_loop_iteration()
    assert recorded.calls == ["write", "write_eof", "close"]
    assert recorded.writes == [b"last response"]


async def test_abort_drops_what_is_held(
    held: HeldWritesTransport, recorded: RecordingTransport
) -> None:
    held.write(b"never sent")
    held.abort()
    await next_loop_iteration()
    assert recorded.calls == ["abort"]


async def test_nothing_is_sent_on_a_transport_already_closing(
    held: HeldWritesTransport, recorded: RecordingTransport
) -> None:
    held.write(b"too late")
    recorded.closing = True
    await next_loop_iteration()
    assert recorded.writes == []
    assert held.is_closing()


async def test_the_write_buffer_size_counts_the_held_bytes(
    held: HeldWritesTransport, recorded: RecordingTransport
) -> None:
    held.write(b"12345")
    assert held.get_write_buffer_size() == 7 + 5
    await next_loop_iteration()
    assert held.get_write_buffer_size() == 7


# --- uvicorn serving through the protocol, on a real socket ----------------------------

SOCKET_TRANSPORT: Any = selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
"""asyncio's transport of TCP sockets (private: the one place its sends can be counted)."""
BIG_BODY = b"x" * (4 * 1024 * 1024)  # far above asyncio's write buffer high-water mark


async def small_app(scope: Scope, receive: Receive, send: Send) -> None:
    """``/json``: one fixed JSON body; ``/stream``: three chunks, the task yielding
    between them; ``/big``: a body the socket cannot take at once."""
    path = scope["path"]
    body_chunks = {
        "/json": [b'{"status":"ok"}'],
        "/stream": [b"one,", b"two,", b"three"],
        "/big": [BIG_BODY],
    }[path]
    headers = [(b"content-type", b"application/json")]
    if path != "/stream":
        headers.append((b"content-length", str(len(body_chunks[0])).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for index, chunk in enumerate(body_chunks):
        more = index < len(body_chunks) - 1
        await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if more:
            await next_loop_iteration()


@dataclass(frozen=True)
class SmallServer:
    """uvicorn serving ``small_app``, and every send made on its connections."""

    base_url: str
    sends: list[bytes]


@pytest.fixture
async def small_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SmallServer]:
    """uvicorn (asyncio loop, the one-send protocol) on a loopback port of its own, with
    each ``write`` of asyncio's socket transport on that port recorded."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    sends: list[bytes] = []
    original_write = SOCKET_TRANSPORT.write

    def recording_write(transport: Any, data: bytes) -> None:
        if transport.get_extra_info("sockname")[1] == port:
            sends.append(bytes(data))
        original_write(transport, data)

    monkeypatch.setattr(SOCKET_TRANSPORT, "write", recording_write)
    config = uvicorn.Config(
        small_app, http=OneSendHttpToolsProtocol, loop="none", lifespan="off", log_level="error"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    for _ in range(500):  # up to 5 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    try:
        yield SmallServer(f"http://127.0.0.1:{port}", sends)
    finally:
        server.should_exit = True
        await task
        listener.close()


async def test_each_response_is_one_send_on_a_kept_alive_connection(
    small_server: SmallServer,
) -> None:
    async with httpx.AsyncClient(base_url=small_server.base_url) as client:
        bodies = [(await client.get("/json")).content for _ in range(3)]
    assert bodies == [b'{"status":"ok"}'] * 3
    assert len(small_server.sends) == 3
    assert all(send.startswith(b"HTTP/1.1 200 OK\r\n") for send in small_server.sends)
    assert all(send.endswith(b'\r\n\r\n{"status":"ok"}') for send in small_server.sends)


async def test_a_streamed_body_leaves_as_the_app_yields(small_server: SmallServer) -> None:
    """Chunks sent between two yields of the app leave together; the response is whole."""
    async with httpx.AsyncClient(base_url=small_server.base_url) as client:
        response = await client.get("/stream")
    assert response.content == b"one,two,three"
    assert response.headers["transfer-encoding"] == "chunked"
    assert len(small_server.sends) == 3


async def test_a_body_above_the_write_buffer_limit_arrives_whole(
    small_server: SmallServer,
) -> None:
    """Flow control still works: the transport behind the held writes pauses the
    protocol, and the responses arrive complete."""
    async with httpx.AsyncClient(base_url=small_server.base_url) as client:
        responses = [await client.get("/big") for _ in range(2)]
    assert [response.content == BIG_BODY for response in responses] == [True, True]
    assert len(small_server.sends) == 2
