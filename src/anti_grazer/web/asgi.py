"""The ASGI entry point the server's workers import: settings from the environment."""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from anti_grazer.logs import configure_logging
from anti_grazer.settings import load_settings
from anti_grazer.web.app import create_app
from anti_grazer.web.edge import Edge

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def end_with_the_server() -> None:
    """In a worker process, ask Linux to kill it when the server process that started it
    ends, however it ends (SIGKILL included): a worker never serves on alone, holding the
    port and the database.  What it acknowledged is committed already (durability is the
    store's), so nothing acknowledged is lost.  Nothing happens outside a worker or off
    Linux."""
    server = multiprocessing.parent_process()
    if server is None or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server.pid:  # the server ended before the request was made
        os.kill(os.getpid(), signal.SIGKILL)


def freezing_gc_after(lifespan: Lifespan) -> Lifespan:
    """Once the app has started, move everything alive to the garbage collector's
    permanent generation: the full collections that Python runs now and then no longer
    walk the whole framework, which made the token endpoint's worst latencies."""

    @asynccontextmanager
    async def frozen(app: Any) -> AsyncIterator[None]:
        async with lifespan(app):
            gc.collect()
            gc.freeze()
            yield

    return frozen


def app_from_environment() -> Edge:
    """The server's app factory: configure logs and build the app from ``ANTI_GRAZER_*``."""
    end_with_the_server()
    settings = load_settings()
    configure_logging(settings.log_level, access_lines_per_iteration=True)
    app = create_app(settings)
    app.api.router.lifespan_context = freezing_gc_after(app.api.router.lifespan_context)
    return app
