"""The throttle: per-client rate limits and token quotas (``protocol.rate_limits``) and
the client-authentication lockout (``protocol.lockout``), counted in one ``Counters``
port (issue 18 items 1, 2 and 7).

Every request it judges costs one round trip to the counters, whatever it checks: an API
request counts its windows; a client that authenticated has its lockouts read and its
token windows counted together.  Only a refusal, a failed authentication, or a report
naming a reporter its client never named before (one more round trip) costs more.
When the counters cannot be reached, every request is let through (fail open: the
adapter logs and counts it).

The lockout is checked once the credentials were judged, so that a success costs one
round trip, not two: a locked-out attempt is refused whatever its credentials were, so
its answer tells nothing about them."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from anti_grazer.protocol.audit import LOCKOUT_STARTED, SERVER_ACTOR, AuditTrail
from anti_grazer.protocol.errors import ClientLockedOutError
from anti_grazer.protocol.lockout import Attempt, LockoutPolicy
from anti_grazer.protocol.metrics import (
    API_REQUESTS,
    LOCKOUT_ADDRESS,
    LOCKOUT_CLIENT,
    LOGGED,
    NEW_REPORTERS,
    NO_METRICS,
    REFUSED,
    TOKEN_REQUESTS,
)
from anti_grazer.protocol.models import NO_CLIENT_LIMITS, Client
from anti_grazer.protocol.ports import ClientStore, Clock, Counters, Metrics
from anti_grazer.protocol.rate_limits import (
    REPORTER_LIMITS,
    REQUEST_LIMITS,
    TOKEN_LIMITS,
    Limit,
    RateLimitPolicy,
    Usage,
    usage_of,
    window_key,
)

logger = logging.getLogger("anti_grazer.throttle")
# A presented client id is logged up to this length (ours have 28 characters).
LOGGED_ID_LENGTH = 64


class Throttle:
    """Counts clients' use against their limits (``limits``; None: no rate limits) and
    failed client authentications (``lockout``; None: no lockout) in ``counters``.
    ``clients`` gives an API request's client its own limits (a cached store); ``audit``
    records each lockout that starts (None: only the log line does); ``metrics`` counts
    the requests past a limit and the lockouts started."""

    def __init__(
        self,
        counters: Counters,
        clock: Clock,
        clients: ClientStore,
        limits: RateLimitPolicy | None,
        lockout: LockoutPolicy | None,
        metrics: Metrics = NO_METRICS,
        audit: AuditTrail | None = None,
    ) -> None:
        self.counters = counters
        self.audit = audit
        self.clock = clock
        self.clients = clients
        self.limits = limits
        self.lockout = lockout
        self.metrics = metrics

    async def requests(self, client_id: str) -> Usage | None:
        """Count one API request of ``client_id`` against its request limits; its usage
        (None when nothing was counted: no limits, or the counters cannot be reached)."""
        return await self._count(API_REQUESTS, REQUEST_LIMITS, client_id)

    async def new_reporter(self, client_id: str) -> Usage | None:
        """Count one reporter ``client_id`` never named before against its limit on new
        reporters (the ``reports.ports.ReporterQuota`` port); its usage, as ``requests``."""
        return await self._count(NEW_REPORTERS, REPORTER_LIMITS, client_id)

    async def _count(self, kind: str, names: Sequence[str], client_id: str) -> Usage | None:
        if self.limits is None:
            return None
        client = await self.clients.get_client(client_id)
        own = client.limits if client is not None else NO_CLIENT_LIMITS
        limits = self.limits.limits(names, own)
        if not limits:
            return None
        now = self.clock.now().timestamp()
        counted = await self.counters.count([window_key(limit, client_id, now) for limit in limits])
        if counted is None:
            return None
        return self._reported(kind, client_id, usage_of(limits, counted.added, now))

    async def admitted(self, attempt: Attempt, client: Client, *, token: bool) -> Usage | None:
        """After ``client`` authenticated: refuse the attempt if it is locked out
        (``ClientLockedOutError``), and with ``token`` count a token request against its
        quota, in one round trip; the quota's usage (None when nothing was counted)."""
        limits: tuple[Limit, ...] = ()
        if token and self.limits is not None:
            limits = self.limits.limits(TOKEN_LIMITS, client.limits)
        locks = attempt.lock_keys if self.lockout is not None else ()
        if not limits and not locks:
            return None
        now = self.clock.now().timestamp()
        windows = [window_key(limit, client.client_id, now) for limit in limits]
        counted = await self.counters.count(windows, locks)
        if counted is None:
            return None
        if any(counted.read):
            raise await self._locked_out(locks, counted.read)
        if not limits:
            return None
        return self._reported(
            TOKEN_REQUESTS, client.client_id, usage_of(limits, counted.added, now)
        )

    async def failed(self, attempt: Attempt) -> None:
        """A failed authentication: refused with ``ClientLockedOutError`` while the
        attempt is locked out (and not counted), else counted, and a lockout started
        when it is one failure too many."""
        if self.lockout is None:
            return
        locks = attempt.lock_keys
        found = await self.counters.count((), locks)
        if found is None:
            return
        if any(found.read):
            raise await self._locked_out(locks, found.read)
        window = self.lockout.window_seconds
        counted = await self.counters.count([(key, window) for key in attempt.failure_keys])
        if counted is not None:
            await self._lock_if_due(attempt, counted.added)

    def _reported(self, kind: str, client_id: str, usage: Usage) -> Usage:
        """``usage``, counted in the metrics when past a limit (``kind``: api, token or
        reporter), and a log line for each limit this request was the first to pass in
        its window (a log-only limit is reported so, and never refused)."""
        if usage.refused:
            self.metrics.rate_limited(kind, REFUSED)
        elif any(state.exceeded for state in usage.states):
            self.metrics.rate_limited(kind, LOGGED)
        for state in usage.states:
            if state.just_exceeded:
                logger.warning(
                    "rate_limit_exceeded",
                    extra={
                        "client_id": client_id,
                        "limit": state.limit.name,
                        "amount": state.limit.amount,
                        "window_seconds": state.limit.window_seconds,
                        "enforced": state.limit.enforced,
                    },
                )
        return usage

    async def _lock_if_due(self, attempt: Attempt, failures: Sequence[int]) -> None:
        policy = self.lockout
        assert policy is not None
        by_client, by_address = failures
        client_lock, address_lock = attempt.lock_keys
        started: list[tuple[str, int, str | None]] = []
        if by_client >= policy.failures:
            presented = attempt.client_id[:LOGGED_ID_LENGTH]
            started.append((client_lock, policy.lock_for(by_client, policy.failures), presented))
        if by_address >= policy.address_failures:
            seconds = policy.lock_for(by_address, policy.address_failures)
            started.append((address_lock, seconds, None))
        if not started:
            return
        await self.counters.count([(key, seconds) for key, seconds, _ in started])
        for _key, seconds, client_id in started:
            self.metrics.lockout_started(LOCKOUT_ADDRESS if client_id is None else LOCKOUT_CLIENT)
            # The client id as presented (never the secret), or none for the address's.
            logger.warning(
                "lockout_started",
                extra={
                    "client_id": client_id,
                    "address": attempt.address,
                    "failures": by_client if client_id is not None else by_address,
                    "lockout_seconds": seconds,
                },
            )
            if self.audit is not None:
                await self.audit.record(
                    LOCKOUT_STARTED,
                    SERVER_ACTOR,
                    client_id if client_id is not None else attempt.address,
                    client_id=client_id,
                    details={"address": attempt.address, "lockout_seconds": seconds},
                )

    async def _locked_out(self, locks: Sequence[str], found: Sequence[int]) -> ClientLockedOutError:
        """The refusal of a locked-out attempt, with the time its lockouts have left."""
        left = [
            await self.counters.seconds_left(key) for key, n in zip(locks, found, strict=True) if n
        ]
        seconds = max((s for s in left if s is not None), default=1.0)
        return ClientLockedOutError(math.ceil(seconds))
