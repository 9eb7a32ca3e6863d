"""The ``Counters`` port (``protocol.ports``) over the limits library's storages: its
``MemoryStorage`` in the server process (``MemoryCounters``), or its async
``RedisStorage`` on redis-py's asyncio client, which every worker and instance shares
(``RedisCounters``); ``open_counters`` opens the one the settings name.

In process, the library's synchronous ``MemoryStorage`` is called inline: its async twin
looks for expired keys among all of them after each call that finds its last look over,
which under load is once per event-loop iteration (1.5 ms a request with 10,000 keys on
the bench machine); the synchronous one looks from a timer thread, at most every 10 ms.

A Redis that cannot be reached does not stop the server: each call answers None, so the
request is let through uncounted (fail open); the outage is logged once when it starts
and once when it ends, and counted in ``CounterStorageFailures`` and the metrics
(``Metrics.counter_storage_failed``).  After a failure the
storage is left alone for ``RETRY_SECONDS``: a Redis that does not answer at all would
otherwise cost every request its timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from limits.aio.storage import RedisStorage
from limits.storage import MemoryStorage

from anti_grazer.logs import get_logger
from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.ports import Counted, Metrics

logger = get_logger("anti_grazer.counters")

MEMORY = "memory"  # the name of the in-process storage in log lines
# How long a failed storage is let alone before it is tried again.
RETRY_SECONDS = 1.0
# Every key in Redis starts with this (the limits library adds a colon).
REDIS_KEY_PREFIX = "anti_grazer"


@dataclass
class CounterStorageFailures:
    """How the counters' storage failed since the process started, for the metrics
    (issue 18 item 4: "Redis errors"): ``errors`` calls to it that failed,
    ``unchecked`` requests let through uncounted (those failed calls and the ones made
    while it was let alone), ``outages`` times it stopped answering."""

    errors: int = 0
    unchecked: int = 0
    outages: int = 0


class MemoryCounters:
    """``Counters`` in this process: nothing to reach, nothing that fails."""

    name = MEMORY

    def __init__(self) -> None:
        self.storage = MemoryStorage()
        self.failures = CounterStorageFailures()

    async def count(
        self, add: Sequence[tuple[str, int]], read: Sequence[str] = ()
    ) -> Counted | None:
        storage = self.storage
        added = tuple([storage.incr(key, expiry) for key, expiry in add])
        return Counted(added, tuple([storage.get(key) for key in read]))

    async def seconds_left(self, key: str) -> float | None:
        return max(0.0, self.storage.get_expiry(key) - time.time())


class RedisCounters:
    """``Counters`` in Redis (``storage``); ``name`` says which in log lines (never a
    password).  A call's keys are sent at once: one round trip's wait."""

    def __init__(
        self,
        storage: RedisStorage,
        name: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.storage = storage
        self.name = name
        self.failures = CounterStorageFailures()
        self.metrics = metrics
        self._monotonic = monotonic
        self._retry_at: float | None = None  # set while the storage is failing

    def _let_alone(self) -> bool:
        """The storage failed less than ``RETRY_SECONDS`` ago."""
        return self._retry_at is not None and self._monotonic() < self._retry_at

    async def count(
        self, add: Sequence[tuple[str, int]], read: Sequence[str] = ()
    ) -> Counted | None:
        if self._let_alone():
            self.failures.unchecked += 1
            return None
        storage = self.storage
        try:
            values = await asyncio.gather(
                *(storage.incr(key, expiry) for key, expiry in add),
                *(storage.get(key) for key in read),
            )
            added, found = values[: len(add)], values[len(add) :]
        except Exception as error:  # fail open, whatever the storage raised
            self._failed(error)
            return None
        if self._retry_at is not None:
            self._recovered()
        return Counted(tuple(added), tuple(found))

    async def seconds_left(self, key: str) -> float | None:
        if self._let_alone():
            return None
        try:
            expires_at = await self.storage.get_expiry(key)
        except Exception as error:
            self._failed(error)
            return None
        return max(0.0, expires_at - time.time())

    def _failed(self, error: Exception) -> None:
        self.metrics.counter_storage_failed()
        self.failures.errors += 1
        self.failures.unchecked += 1
        if self._retry_at is None:
            self.failures.outages += 1
            logger.warning(
                "rate_limit_storage_unavailable",
                storage=self.name,
                error=type(error).__name__,
                message="rate limits, token quotas and the lockout are not applied "
                "until the storage answers again",
            )
        self._retry_at = self._monotonic() + RETRY_SECONDS

    def _recovered(self) -> None:
        self._retry_at = None
        logger.info(
            "rate_limit_storage_recovered",
            storage=self.name,
            unchecked=self.failures.unchecked,
        )


# Either adapter (both also have ``name`` and ``failures``).
OpenedCounters = MemoryCounters | RedisCounters


def storage_name(url: str) -> str:
    """``url`` without its user, password, query and fragment, for log lines."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@asynccontextmanager
async def open_counters(
    redis_url: str | None, timeout_seconds: float, metrics: Metrics = NO_METRICS
) -> AsyncIterator[OpenedCounters]:
    """Counters in this process, or in the Redis at ``redis_url``
    (``redis://[:password@]host:port/db``, ``rediss://`` for TLS, ``unix://``), whose
    every command is bounded by ``timeout_seconds``; closed on exit.  ``metrics`` counts
    the Redis calls that failed."""
    if redis_url is None:
        yield MemoryCounters()
        return
    url = redis_url
    # Imported here: a server counting in process never loads redis-py.
    from redis.asyncio import ConnectionPool  # noqa: PLC0415
    from redis.asyncio.retry import Retry  # noqa: PLC0415
    from redis.backoff import NoBackoff  # noqa: PLC0415
    from redis.exceptions import ConnectionError as RedisConnectionError  # noqa: PLC0415

    pool = ConnectionPool.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        # A pooled connection that an outage broke fails once, and is replaced: the
        # command is sent again at once on a new one (a timeout is not retried).
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    # The pool is ours, so that it is closed with the app; limits documents the option.
    options: dict[str, Any] = {"connection_pool": pool}
    storage = RedisStorage(
        "async+redis://",
        wrap_exceptions=True,
        implementation="redispy",
        key_prefix=REDIS_KEY_PREFIX,
        **options,
    )
    try:
        yield RedisCounters(storage, storage_name(url), metrics=metrics)
    finally:
        await pool.aclose()
