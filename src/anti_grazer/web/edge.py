"""The application as served: one stack of pure-ASGI middleware that every request
passes, in front of every route (DESIGN.md §4.11).

Behind the stack, the OAuth endpoints are plain ASGI apps found by their exact path, and
every other path goes to the FastAPI application (the reports API, the docs, health).
The OAuth endpoints skip FastAPI's own per-request machinery, not the stack: DESIGN.md §3."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


class Edge:
    """An ASGI application: ``add_middleware`` wraps every route (the last added is the
    outermost, as in Starlette); ``api`` is the FastAPI application behind it.

    It knows the requests in flight, so that a server stopping gracefully can cut the
    ones that outlast its shutdown timeout (``cancel_in_flight``)."""

    def __init__(self, api: FastAPI, endpoints: Mapping[str, ASGIApp]) -> None:
        self.api = api
        self._endpoints = dict(endpoints)
        self._middleware: list[tuple[type[Any], tuple[Any, ...], dict[str, Any]]] = []
        self._stack: ASGIApp | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()

    def add_middleware(self, cls: type[Any], *args: Any, **kwargs: Any) -> None:
        """Put ``cls(app, *args, **kwargs)`` around everything added before."""
        if self._stack is not None:
            raise RuntimeError(
                "middleware cannot be added once the application has started serving"
            )
        self._middleware.append((cls, args, kwargs))

    @property
    def endpoint_paths(self) -> frozenset[str]:
        """The paths of the endpoints behind the stack but outside FastAPI."""
        return frozenset(self._endpoints)

    def lifespan(self) -> AbstractAsyncContextManager[Any]:
        """The application's lifespan, to run it without a server (tests, tools)."""
        return self.api.router.lifespan_context(self.api)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoints.get(scope["path"]) if scope["type"] == "http" else None
        await (endpoint or self.api)(scope, receive, send)

    def _build(self) -> ASGIApp:
        app: ASGIApp = self._route
        for cls, args, kwargs in self._middleware:
            app = cls(app, *args, **kwargs)
        return app

    def cancel_in_flight(self) -> int:
        """Cancel every request in flight (the server's shutdown timeout is over);
        returns how many there were."""
        cancelled = list(self._in_flight)
        for task in cancelled:
            task.cancel()
        return len(cancelled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._stack is None:
            self._stack = self._build()
        task = asyncio.current_task()
        if task is None or scope["type"] != "http":
            await self._stack(scope, receive, send)
            return
        self._in_flight.add(task)
        try:
            await self._stack(scope, receive, send)
        finally:
            self._in_flight.discard(task)
