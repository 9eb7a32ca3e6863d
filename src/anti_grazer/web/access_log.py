"""One structured log line per request: method, path (never the query), the status that
was sent (none when the client left before any response), duration and the authenticated
client id (of the OAuth endpoints' client, or of a guarded route's bearer token) and, at
the OAuth endpoints, the public id of the secret it authenticated with; a pure ASGI
middleware so it costs little.  The status and time it measures also go to the request
metrics (``RequestObserver``, ``web/metrics.py``): one middleware watches each request."""

from __future__ import annotations

import time
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anti_grazer.guard.http import PRINCIPAL_STATE_KEY
from anti_grazer.logs import access_log

CLIENT_ID_KEY = "anti_grazer.client_id"
SECRET_ID_KEY = "anti_grazer.secret_id"  # noqa: S105 - a state key


def set_client_id(scope: Scope, client_id: str, secret_id: str | None = None) -> None:
    """Record the authenticated client on the request, and the public id of the secret
    it used (never the secret), for the access log."""
    state = scope.setdefault("state", {})
    state[CLIENT_ID_KEY] = client_id
    if secret_id is not None:
        state[SECRET_ID_KEY] = secret_id


class RequestObserver(Protocol):
    """Told when each request starts and how it ended: its status (None when the
    client left before any response) and its time in seconds."""

    def started(self) -> None: ...

    def finished(self, scope: Scope, status: int | None, seconds: float) -> None: ...


class AccessLogMiddleware:
    """Logs ``request`` events; the query string and headers are never logged.  An
    ``observer`` (the metrics) is told of each request too."""

    def __init__(self, app: ASGIApp, observer: RequestObserver | None = None) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observer = self.observer
        if observer is not None:
            observer.started()
        started = time.perf_counter()
        status: int | None = None
        disconnected = False

        async def receive_watching_disconnect() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive_watching_disconnect, send_with_status)
        finally:
            if status is None and not disconnected:
                status = 500  # the server answers 500 for an app that failed or sent nothing
            seconds = time.perf_counter() - started
            if observer is not None:
                observer.finished(scope, status, seconds)
            access_log().request(
                scope["method"],
                scope["path"],
                status,
                round(seconds * 1000, 3),
                _client_id(scope),
                scope.get("state", {}).get(SECRET_ID_KEY),
            )


def _client_id(scope: Scope) -> str | None:
    state = scope.get("state", {})
    client_id: str | None = state.get(CLIENT_ID_KEY)
    if client_id is None and (principal := state.get(PRINCIPAL_STATE_KEY)) is not None:
        client_id = principal.client_id
    return client_id
