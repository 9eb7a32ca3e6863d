"""Per-client rate limits and token quotas (issue 18 items 1 and 7): which limits hold for
a client, and what its use of them is once a request (or a new reporter) was counted.

Requests are counted in fixed windows aligned to the clock (a minute, an hour, a day:
``window_key``), so the end of a window, which the RateLimit fields and
``X-RateLimit-Reset`` report, is known without asking the storage, and one round trip
counts every window of a request (``protocol.ports.Counters``).  The price of fixed
windows: a client may spend a whole window's amount at the end of one window and again at
the start of the next.

A limit is enforced (a request past its amount is refused, 429) or log-only (counted,
reported once per window when passed, never refused: how a new limit is rolled out)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from anti_grazer.protocol.models import (
    BURST_PER_MINUTE,
    NEW_REPORTERS_PER_DAY,
    REQUESTS_PER_HOUR,
    TOKENS_PER_DAY,
    TOKENS_PER_HOUR,
    ClientLimits,
)

WINDOW_SECONDS = {
    TOKENS_PER_HOUR: 3600,
    TOKENS_PER_DAY: 86400,
    REQUESTS_PER_HOUR: 3600,
    BURST_PER_MINUTE: 60,
    NEW_REPORTERS_PER_DAY: 86400,
}
# What a token request is counted against, what an API request is, and what a report
# naming a reporter its client never named before is.
TOKEN_LIMITS = (TOKENS_PER_HOUR, TOKENS_PER_DAY)
REQUEST_LIMITS = (BURST_PER_MINUTE, REQUESTS_PER_HOUR)
REPORTER_LIMITS = (NEW_REPORTERS_PER_DAY,)


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit as it holds for a client: ``amount`` per ``window_seconds``."""

    name: str
    amount: int
    window_seconds: int
    enforced: bool


@dataclass(frozen=True, slots=True)
class LimitState:
    """A limit once a request was counted: ``used`` in the current window (that request
    included), ``remaining`` of its amount, the window ending at ``reset_at`` (Unix
    seconds)."""

    limit: Limit
    used: int
    remaining: int
    reset_at: int

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit.amount

    @property
    def just_exceeded(self) -> bool:
        """This request is the first of its window past the amount."""
        return self.used == self.limit.amount + 1


@dataclass(frozen=True, slots=True)
class Usage:
    """A client's limits after one request was counted, at ``now`` (Unix seconds);
    ``enforced`` are the enforced ones, those a client is told about (a log-only limit
    is the operator's trial, and a client that slowed down for it would spoil it)."""

    states: tuple[LimitState, ...]
    now: float
    enforced: tuple[LimitState, ...]

    @property
    def refused(self) -> bool:
        """The request went past an enforced limit."""
        return any(state.used > state.limit.amount for state in self.enforced)

    def seconds_left(self, state: LimitState) -> int:
        """Whole seconds until ``state``'s window ends (a delay-seconds, RFC 9110
        §10.2.3), rounded up."""
        return max(0, math.ceil(state.reset_at - self.now))

    @property
    def retry_after_seconds(self) -> int:
        """When a refused request may be sent again: the latest end of the windows it
        went past (at least 1 s)."""
        ends = [self.seconds_left(state) for state in self.enforced if state.exceeded]
        return max(1, *ends) if ends else 1

    @property
    def tightest(self) -> LimitState | None:
        """The most constraining enforced limit (``X-RateLimit-*`` name one): the fewest
        remaining, and of those the one that ends last."""
        tightest = None
        for state in self.enforced:
            if (
                tightest is None
                or state.remaining < tightest.remaining
                or (state.remaining == tightest.remaining and state.reset_at > tightest.reset_at)
            ):
                tightest = state
        return tightest


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """The server's default amount of each limit (0: no limit) and the limits that are
    log-only unless a client's own setting enforces them."""

    tokens_per_hour: int = 100
    tokens_per_day: int = 1000
    requests_per_hour: int = 1000
    burst_per_minute: int = 100
    new_reporters_per_day: int = 1000
    log_only: frozenset[str] = frozenset()

    def limits(self, names: Sequence[str], own: ClientLimits) -> tuple[Limit, ...]:
        """The limits ``names`` as they hold for a client with ``own`` settings: its own
        amount or the default, its own mode or the default; a limit of 0 is left out."""
        return _limits(self, tuple(names), own)


@functools.lru_cache(maxsize=4096)
def _limits(
    policy: RateLimitPolicy, names: tuple[str, ...], own: ClientLimits
) -> tuple[Limit, ...]:
    # Cached: every API request asks, and clients share a handful of settings.
    found: list[Limit] = []
    for name in names:
        amount = own.amount(name)
        if amount is None:
            amount = int(getattr(policy, name))
        if amount <= 0:
            continue
        log_only = name in own.log_only or (name in policy.log_only and name not in own.enforced)
        found.append(Limit(name, amount, WINDOW_SECONDS[name], not log_only))
    return tuple(found)


def window_key(limit: Limit, subject: str, now: float) -> tuple[str, int]:
    """The counter of ``subject``'s current window of ``limit`` at ``now``, and how long
    it must live: the window's number is part of the key, so a new window starts a new
    counter and the old one expires on its own."""
    index = int(now // limit.window_seconds)
    return f"{limit.name}:{subject}:{index}", limit.window_seconds


def usage_of(limits: Sequence[Limit], counts: Sequence[int], now: float) -> Usage:
    """The ``Usage`` once ``counts`` (one per limit, from ``window_key``'s counters) were
    counted at ``now``."""
    states: list[LimitState] = []
    enforced: list[LimitState] = []
    for limit, used in zip(limits, counts, strict=True):
        window = limit.window_seconds
        state = LimitState(
            limit, used, max(0, limit.amount - used), (int(now // window) + 1) * window
        )
        states.append(state)
        if limit.enforced:
            enforced.append(state)
    return Usage(tuple(states), now, tuple(enforced))
