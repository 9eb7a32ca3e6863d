"""How long a token is reused, and the locks behind single flight, on a settable clock;
the ``Secret`` that keeps the client secret out of every ``repr``."""

from __future__ import annotations

import asyncio
import math

import pytest

from anti_grazer.client.cache import TokenCache, reuse_seconds
from anti_grazer.client.secret import Secret


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("expires_in", "leeway", "reused"),
    [
        (3600, 30, 3570),  # the leeway before expiry
        (60, 30, 54),  # but at least 90 % of the lifetime
        (2, 30, 1.8),
        (3600, 0, 3600),
        (0, 30, 0),
        (None, 30, math.inf),  # no expires_in (RFC 6749 §5.1): until the API refuses it
    ],
)
def test_reuse_seconds(expires_in: float | None, leeway: float, reused: float) -> None:
    assert reuse_seconds(expires_in, leeway) == pytest.approx(reused)


def test_a_token_is_fresh_until_its_refresh_time() -> None:
    clock = Clock()
    cache = TokenCache(30.0, clock)
    assert cache.fresh() is None
    cache.store("ag_at_a", 3600, requested_at=clock.now)
    clock.now += 3569.9
    assert cache.fresh() == "ag_at_a"
    clock.now += 0.1
    assert cache.fresh() is None


def test_the_lifetime_counts_from_the_request() -> None:
    clock = Clock()
    cache = TokenCache(0.0, clock)
    cache.store("ag_at_a", 10, requested_at=clock.now - 4)
    clock.now += 5.9
    assert cache.fresh() == "ag_at_a"
    clock.now += 0.1
    assert cache.fresh() is None


def test_discard_forgets_only_the_token_it_names() -> None:
    """A caller refused an older token does not drop the one another caller fetched."""
    cache = TokenCache(30.0, Clock())
    cache.store("ag_at_new", 3600, requested_at=100.0)
    cache.discard("ag_at_old")
    assert cache.fresh() == "ag_at_new"
    cache.discard("ag_at_new")
    assert cache.fresh() is None


@pytest.mark.parametrize("leeway", [-1.0, math.nan])
def test_a_negative_leeway_is_refused(leeway: float) -> None:
    with pytest.raises(ValueError, match="leeway"):
        TokenCache(leeway)


def test_each_event_loop_has_its_own_lock() -> None:
    """An asyncio lock belongs to one loop: the tasks of a loop share one, and a second
    loop (a later ``asyncio.run``) gets another."""
    cache = TokenCache(30.0)

    async def locks() -> tuple[asyncio.Lock, asyncio.Lock]:
        return cache.loop_lock(), cache.loop_lock()

    first, again = asyncio.run(locks())
    assert first is again
    second, _ = asyncio.run(locks())
    assert second is not first


def test_a_secret_never_shows() -> None:
    secret = Secret("ag_cs_s3cr3t")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>20}"):
        assert "s3cr3t" not in shown
    assert secret.reveal() == "ag_cs_s3cr3t"
    with pytest.raises(ValueError, match="empty"):
        Secret("")
