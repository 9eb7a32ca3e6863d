"""A coroutine run as a background task for as long as a context is open."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def running_in_background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Start ``work`` as a task; on leaving the context, cancel it and wait for it."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
