"""The bounded TTL map behind the in-process caches (store/cache.py ``TtlCache``;
DESIGN.md §4.6): entries live exactly their TTL, the oldest goes when it is full, and a
value read before an invalidation is not stored after it."""

from __future__ import annotations

from anti_grazer.ttl_cache import TtlCache
from tests.store.cache_helpers import FakeMonotonic


def test_entry_is_served_until_its_ttl_runs_out() -> None:
    """An entry lives exactly ``ttl_seconds`` after it was stored, then is gone."""
    clock = FakeMonotonic()
    cache: TtlCache[str] = TtlCache(1.0, 10, monotonic=clock)
    cache.put("k", "v")
    clock.now += 0.999
    assert cache.get("k") == "v"
    clock.now += 0.001
    assert cache.get("k") is None
    assert len(cache) == 0


def test_storing_again_restarts_the_ttl() -> None:
    """Re-storing a key gives it a fresh time-to-live from that moment."""
    clock = FakeMonotonic()
    cache: TtlCache[str] = TtlCache(1.0, 10, monotonic=clock)
    cache.put("k", "old")
    clock.now += 0.5
    cache.put("k", "new")
    clock.now += 0.9
    assert cache.get("k") == "new"
    clock.now += 0.1
    assert cache.get("k") is None


def test_the_oldest_stored_entry_is_evicted_when_full() -> None:
    """The cache is bounded: beyond ``max_entries`` the least recently stored goes."""
    cache: TtlCache[int] = TtlCache(60.0, 3, monotonic=FakeMonotonic())
    for index, key in enumerate("abc"):
        cache.put(key, index)
    cache.put("a", 10)  # re-stored: now the newest
    cache.put("d", 3)
    assert len(cache) == 3
    assert cache.get("b") is None
    assert cache.get("a") == 10
    assert cache.get("c") == 2
    assert cache.get("d") == 3


def test_ttl_zero_stores_nothing() -> None:
    """``cache_ttl_seconds = 0`` turns caching off: nothing is ever stored."""
    cache: TtlCache[str] = TtlCache(0, 10, monotonic=FakeMonotonic())
    cache.put("k", "v")
    assert cache.get("k") is None
    assert len(cache) == 0


def test_discard_and_clear() -> None:
    """``discard`` drops one key (absent keys are fine), ``clear`` drops all."""
    cache: TtlCache[str] = TtlCache(60.0, 10, monotonic=FakeMonotonic())
    cache.put("a", "1")
    cache.put("b", "2")
    cache.discard("a")
    cache.discard("missing")
    assert cache.get("a") is None
    assert cache.get("b") == "2"
    cache.clear()
    assert cache.get("b") is None
    assert len(cache) == 0


def test_contains_is_true_for_unexpired_entries_only() -> None:
    """``key in cache`` is what ``get`` would find."""
    clock = FakeMonotonic()
    cache: TtlCache[bool] = TtlCache(1.0, 10, monotonic=clock)
    cache.put("k", True)
    assert "k" in cache
    assert "other" not in cache
    clock.now += 1.0
    assert "k" not in cache


def test_a_put_from_before_an_invalidation_is_dropped() -> None:
    """A value read before an invalidation may be stale: ``put`` with the generation
    taken before the read stores nothing once ``discard`` or ``clear`` ran since."""
    cache: TtlCache[str] = TtlCache(60.0, 10, monotonic=FakeMonotonic())
    before = cache.generation
    cache.discard("other")
    cache.put("k", "stale", before)
    assert cache.get("k") is None
    current = cache.generation
    cache.put("k", "fresh", current)
    assert cache.get("k") == "fresh"
    cache.clear()
    cache.put("k", "stale", current)
    assert cache.get("k") is None
