"""What runs beside the requests while the app serves: the janitor, which every so often
deletes what has expired: token records in small batches (each its own short
transaction, so that issuance and validation are never blocked for long), the used
client assertions whose assertion has expired, audit events past their retention
period."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from anti_grazer.protocol.ports import AssertionReplayStore, AuditStore, Clock, TokenStore
from anti_grazer.settings import Settings
from anti_grazer.tasks import running_in_background

janitor_logger = logging.getLogger("anti_grazer.janitor")

# Deletes what has expired at the given time; returns how much went.
Purge = Callable[[datetime], Awaitable[int]]


def token_purge(tokens: TokenStore, batch_size: int) -> Purge:
    """Expired tokens, ``batch_size`` per transaction."""
    return lambda now: tokens.purge_expired(now, batch_size)


def assertion_purge(replays: AssertionReplayStore, batch_size: int) -> Purge:
    """Used client assertions that have expired, ``batch_size`` per transaction."""
    return lambda now: replays.purge_expired(now, batch_size)


def audit_purge(audit: AuditStore, retention: timedelta) -> Purge:
    """Audit events older than ``retention``."""
    return lambda now: audit.purge_before(now - retention)


async def purge_expired_periodically(
    purges: Mapping[str, Purge], clock: Clock, interval_seconds: float
) -> None:
    """Run every purge (by what it deletes: ``"expired tokens"``) every
    ``interval_seconds`` until cancelled; a failed one is logged and retried at the next
    interval, the others run all the same."""
    while True:
        await asyncio.sleep(interval_seconds)
        now = clock.now()
        for name, purge in purges.items():
            try:
                purged = await purge(now)
            except Exception:
                janitor_logger.exception(f"purging {name} failed")
            else:
                if purged:
                    janitor_logger.info(f"purged {name}", extra={"purged": purged})


@asynccontextmanager
async def janitor(
    purges: Mapping[str, Purge], clock: Clock, settings: Settings
) -> AsyncIterator[None]:
    """Run the janitor's ``purges`` in the background while the app serves."""
    if settings.purge_interval_seconds <= 0:
        yield
        return
    async with running_in_background(
        purge_expired_periodically(purges, clock, settings.purge_interval_seconds)
    ):
        yield
