"""What runs beside the requests while the app serves: the expired-token janitor, which
deletes expired token records (and the used client assertions that expired) every so
often in small batches (each its own short transaction), so that issuance and
validation are never blocked for long."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anti_grazer.protocol.ports import AssertionReplayStore, Clock, TokenStore
from anti_grazer.settings import Settings
from anti_grazer.tasks import running_in_background

janitor_logger = logging.getLogger("anti_grazer.janitor")


async def purge_expired_periodically(
    tokens: TokenStore,
    clock: Clock,
    interval_seconds: float,
    batch_size: int,
    assertion_replays: AssertionReplayStore | None = None,
) -> None:
    """Purge expired tokens (and expired used assertions) every ``interval_seconds``
    until cancelled; a failed round is logged and retried at the next interval."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            purged = await tokens.purge_expired(clock.now(), batch_size)
        except Exception:
            janitor_logger.exception("purging expired tokens failed")
        else:
            if purged:
                janitor_logger.info("purged expired tokens", extra={"purged": purged})
        if assertion_replays is not None:
            await _purge_assertions(assertion_replays, clock, batch_size)


async def _purge_assertions(replays: AssertionReplayStore, clock: Clock, batch_size: int) -> None:
    try:
        purged = await replays.purge_expired(clock.now(), batch_size)
    except Exception:
        janitor_logger.exception("purging expired client assertions failed")
    else:
        if purged:
            janitor_logger.info("purged expired client assertions", extra={"purged": purged})


@asynccontextmanager
async def janitor(
    tokens: TokenStore,
    clock: Clock,
    settings: Settings,
    assertion_replays: AssertionReplayStore | None = None,
) -> AsyncIterator[None]:
    """Run the expired-token janitor in the background while the app serves."""
    if settings.purge_interval_seconds <= 0:
        yield
        return
    async with running_in_background(
        purge_expired_periodically(
            tokens,
            clock,
            settings.purge_interval_seconds,
            settings.purge_batch_size,
            assertion_replays,
        )
    ):
        yield
