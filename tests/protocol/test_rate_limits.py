"""Which limits hold for a client and what its use of them is (``protocol.rate_limits``;
issue 18 item 1): the server's defaults and a client's own amounts and modes, windows
aligned to the clock, and what a refused request is told."""

from __future__ import annotations

from anti_grazer.protocol.models import ClientLimits
from anti_grazer.protocol.rate_limits import (
    REQUEST_LIMITS,
    TOKEN_LIMITS,
    Limit,
    RateLimitPolicy,
    usage_of,
    window_key,
)

POLICY = RateLimitPolicy()
BURST = Limit("burst_per_minute", 100, 60, enforced=True)
HOURLY = Limit("requests_per_hour", 1000, 3600, enforced=True)
# 2026-06-01T12:00:00Z plus 17 s: a minute and an hour began 17 s ago.
NOW = 1780315217.0


def test_the_defaults_of_the_issue() -> None:
    """1,000 API requests an hour with bursts of 100 a minute; tokens 100 an hour and
    1,000 a day; every limit enforced."""
    assert POLICY.limits(REQUEST_LIMITS, ClientLimits()) == (BURST, HOURLY)
    assert POLICY.limits(TOKEN_LIMITS, ClientLimits()) == (
        Limit("tokens_per_hour", 100, 3600, enforced=True),
        Limit("tokens_per_day", 1000, 86400, enforced=True),
    )


def test_a_clients_own_amount_wins_and_zero_is_no_limit() -> None:
    own = ClientLimits(burst_per_minute=10, requests_per_hour=0)
    assert POLICY.limits(REQUEST_LIMITS, own) == (Limit("burst_per_minute", 10, 60, True),)
    off = RateLimitPolicy(burst_per_minute=0)
    assert off.limits(REQUEST_LIMITS, ClientLimits()) == (HOURLY,)
    assert off.limits(REQUEST_LIMITS, ClientLimits(burst_per_minute=5))[0].amount == 5


def test_modes_a_clients_own_then_the_servers() -> None:
    """Log-only by the server's default unless the client enforces it; a client may make
    any limit log-only for itself."""
    server = RateLimitPolicy(log_only=frozenset({"burst_per_minute"}))
    default = server.limits(REQUEST_LIMITS, ClientLimits())
    assert [limit.enforced for limit in default] == [False, True]
    enforced = server.limits(REQUEST_LIMITS, ClientLimits(enforced=frozenset({"burst_per_minute"})))
    assert [limit.enforced for limit in enforced] == [True, True]
    trial = POLICY.limits(REQUEST_LIMITS, ClientLimits(log_only=frozenset({"requests_per_hour"})))
    assert [limit.enforced for limit in trial] == [True, False]


def test_windows_are_aligned_to_the_clock() -> None:
    """The window's number is in the key (a new window, a new counter) and it ends on
    the next multiple of its length."""
    assert window_key(BURST, "c", NOW) == ("burst_per_minute:c:29671920", 60)
    assert window_key(BURST, "c", NOW + 43) == ("burst_per_minute:c:29671921", 60)
    usage = usage_of((BURST, HOURLY), (42, 42), NOW)
    assert [state.reset_at for state in usage.states] == [1780315260, 1780318800]
    assert [usage.seconds_left(state) for state in usage.states] == [43, 3583]


def test_a_request_within_every_limit() -> None:
    usage = usage_of((BURST, HOURLY), (100, 400), NOW)
    assert not usage.refused
    assert [state.remaining for state in usage.states] == [0, 600]
    assert usage.tightest == usage.states[0]


def test_a_refused_request_retries_when_every_window_it_passed_has_ended() -> None:
    """Past both: retry when the hour ends (RateLimit draft §6: Retry-After no earlier
    than the reset), and the hour is the most constraining limit."""
    burst_only = usage_of((BURST, HOURLY), (101, 400), NOW)
    assert burst_only.refused
    assert burst_only.retry_after_seconds == 43
    both = usage_of((BURST, HOURLY), (150, 1001), NOW)
    assert both.retry_after_seconds == 3583
    assert both.tightest == both.states[1]
    assert [state.just_exceeded for state in both.states] == [False, True]


def test_a_log_only_limit_refuses_nothing_and_is_never_told() -> None:
    trial = Limit("burst_per_minute", 100, 60, enforced=False)
    usage = usage_of((trial, HOURLY), (500, 10), NOW)
    assert not usage.refused
    assert usage.enforced == usage.states[1:]
    assert usage.states[0].exceeded
