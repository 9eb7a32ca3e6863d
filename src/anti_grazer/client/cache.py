"""The token a client reuses, and the locks that make one refresh serve every caller.

A token is reused until shortly before it expires: ``leeway_seconds`` before, but never
before 90 % of its lifetime has passed, so that a short-lived token is still reused and a
long-lived one is replaced with time to spare.  The lifetime counts from the moment the
token was asked for (the server's clock started later), on the monotonic clock.

Single flight: the callers that find no fresh token queue on one lock; the first fetches,
the others find its token when they get the lock.  Threads share a ``threading.Lock``;
the tasks of an event loop share an ``asyncio.Lock`` of that loop (an asyncio lock
belongs to one loop, so each loop gets its own, and a loop that is gone takes its lock
with it)."""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_LEEWAY_SECONDS = 30.0
# A token is always used for at least this share of its lifetime.
MIN_USED_SHARE = 0.9


def reuse_seconds(expires_in: float | None, leeway_seconds: float) -> float:
    """How long a token that lives ``expires_in`` seconds is reused: ``leeway_seconds``
    less, but at least ``MIN_USED_SHARE`` of it; without a lifetime, until refused."""
    if expires_in is None:
        return math.inf
    return max(expires_in - leeway_seconds, expires_in * MIN_USED_SHARE)


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A token and the monotonic time after which it is no longer handed out."""

    value: str = field(repr=False)
    refresh_at: float


class TokenCache:
    """One client's current token, shared by threads and event loops."""

    def __init__(self, leeway_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not leeway_seconds >= 0:
            raise ValueError("leeway_seconds must be a number of seconds, at least 0")
        self.leeway_seconds = leeway_seconds
        self.clock = clock
        self._current: CachedToken | None = None
        self._state = threading.Lock()  # held only for a few lines, never while waiting
        self.thread_lock = threading.Lock()  # held by the one thread fetching
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def fresh(self) -> str | None:
        """The current token if it may still be used, else ``None``."""
        current = self._current  # one read of an immutable record: no lock needed
        if current is None or self.clock() >= current.refresh_at:
            return None
        return current.value

    def store(self, value: str, expires_in: float | None, requested_at: float) -> None:
        """Keep a token asked for at ``requested_at`` (this cache's clock)."""
        refresh_at = requested_at + reuse_seconds(expires_in, self.leeway_seconds)
        with self._state:
            self._current = CachedToken(value, refresh_at)

    def discard(self, value: str) -> None:
        """Forget ``value`` if it is still the current token (a caller that was refused an
        older token does not throw away the one another caller has just fetched)."""
        with self._state:
            if self._current is not None and self._current.value == value:
                self._current = None

    def loop_lock(self) -> asyncio.Lock:
        """The lock of the running event loop's tasks."""
        loop = asyncio.get_running_loop()
        with self._state:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock
