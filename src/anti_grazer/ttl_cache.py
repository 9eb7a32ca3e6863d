"""A bounded in-memory cache whose entries expire after a time-to-live, with one shared
load per key: the store's caches (``store/cache.py``) and the guard's introspection cache
(``guard/introspection.py``) are both made of it."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """A bounded mapping whose entries expire ``ttl_seconds`` after they were stored;
    the least recently stored entry goes first when full.

    ``generation`` counts invalidations (``discard``, ``clear``).  A reader that takes it
    before a slow lookup and hands it to ``put`` stores nothing if an invalidation came in
    between: otherwise a lookup that read a record just before a revocation could put the
    stale record back just after the revocation dropped it, and serve it for a whole TTL."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._generation = 0
        self._loading: dict[str, asyncio.Task[V | None]] = {}

    @property
    def generation(self) -> int:
        """How many invalidations there have been (see the class docstring)."""
        return self._generation

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._monotonic():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: str, value: V, generation: int | None = None) -> None:
        """Store ``value``, unless the TTL is 0 or ``generation`` (taken before the value
        was read) is no longer current."""
        if self.ttl_seconds <= 0:
            return
        if generation is not None and generation != self._generation:
            return
        self._entries[key] = (self._monotonic() + self.ttl_seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, or ``load()``'s, stored unless None.  Concurrent misses of one
        key share a single load: when an entry expires under load, one look-up goes to the
        database, not one per waiting request (those were the guard's p99 spikes)."""
        value = self.get(key)
        if value is not None:
            return value
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, load))
            self._loading[key] = loading
        return await asyncio.shield(loading)

    async def _load(self, key: str, load: Callable[[], Awaitable[V | None]]) -> V | None:
        generation = self._generation
        try:
            value = await load()
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]
        if value is not None:
            self.put(key, value, generation)
        return value

    def discard(self, key: str) -> None:
        """Forget ``key``; a load of it in flight is not shared with later readers."""
        self._generation += 1
        self._entries.pop(key, None)
        self._loading.pop(key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._loading.clear()

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self._entries)
