"""The rate-limit fields of a response (issue 18 item 1): the IETF ``RateLimit-Policy``
and ``RateLimit`` fields of draft-ietf-httpapi-ratelimit-headers-10 (§3, §4; the -11
editor's copy keeps their syntax), Structured Field Lists (RFC 9651) with one item per
enforced limit, named after it:

    RateLimit-Policy: "burst_per_minute";q=100;w=60, "requests_per_hour";q=1000;w=3600
    RateLimit: "burst_per_minute";r=42;t=17, "requests_per_hour";r=958;t=1817

(``q`` the quota, ``w`` the window, ``r`` what remains, ``t`` the seconds until the
window ends), and the ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (Unix seconds) the Anti Grazer documents name, of the most
constraining limit.  A log-only limit is left out: it refuses nothing."""

from __future__ import annotations

import functools
import math

from anti_grazer.protocol.rate_limits import Limit, Usage
from anti_grazer.web.responses import RawHeaders


def rate_limit_headers(usage: Usage) -> RawHeaders:
    """The fields of ``usage``'s enforced limits (none when there are none)."""
    tightest = usage.tightest
    if tightest is None:
        return []
    enforced, now = usage.enforced, usage.now
    service_limits = ", ".join(
        [
            f'"{state.limit.name}";r={state.remaining};t={max(0, math.ceil(state.reset_at - now))}'
            for state in enforced
        ]
    )
    return [
        (b"ratelimit-policy", _policy(tuple([state.limit for state in enforced]))),
        (b"ratelimit", service_limits.encode("ascii")),
        (b"x-ratelimit-limit", str(tightest.limit.amount).encode("ascii")),
        (b"x-ratelimit-remaining", str(tightest.remaining).encode("ascii")),
        (b"x-ratelimit-reset", str(tightest.reset_at).encode("ascii")),
    ]


def retry_after(seconds: int) -> tuple[bytes, bytes]:
    """``Retry-After`` as delay-seconds (RFC 9110 §10.2.3)."""
    return b"retry-after", str(seconds).encode("ascii")


@functools.lru_cache(maxsize=1024)
def _policy(limits: tuple[Limit, ...]) -> bytes:
    # The same for every answer to a client until its limits change: rendered once.
    return ", ".join(
        f'"{limit.name}";q={limit.amount};w={limit.window_seconds}' for limit in limits
    ).encode("ascii")
