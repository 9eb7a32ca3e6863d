"""Helpers of the cache tests (store/cache.py): a monotonic clock moved by hand, and
caching stores over counting wrappers of one pair of memory stores."""

from __future__ import annotations

from anti_grazer.store.cache import CachingClientStore, CachingTokenStore
from anti_grazer.store.memory import memory_stores
from anti_grazer.ttl_cache import TtlCache
from tests.doubles import CountingClientStore, CountingTokenStore


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Setup:
    """Caching stores over counting wrappers of one pair of memory stores."""

    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 100) -> None:
        memory = memory_stores()
        self.memory = memory
        self.counting_clients = CountingClientStore(memory.clients)
        self.counting_tokens = CountingTokenStore(memory.tokens)
        self.clients = CachingClientStore(
            self.counting_clients,
            TtlCache(ttl_seconds, max_entries),
            TtlCache(ttl_seconds, max_entries),
        )
        self.tokens = CachingTokenStore(self.counting_tokens, TtlCache(ttl_seconds, max_entries))
