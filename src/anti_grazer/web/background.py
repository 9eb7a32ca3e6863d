"""What runs beside the requests while the app serves: the expired-token janitor, which
deletes expired token records every so often in small batches (each its own short
transaction), so that issuance and validation are never blocked for long, and with them
the keys of used assertions whose assertion has expired."""

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
    replay: AssertionReplayStore | None = None,
) -> None:
    """Purge expired tokens (and expired assertions' keys from ``replay``) every
    ``interval_seconds`` until cancelled; a failed round is logged and retried at the
    next interval."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            purged = await tokens.purge_expired(clock.now(), batch_size)
            forgotten = await replay.purge_expired(clock.now()) if replay is not None else 0
        except Exception:
            janitor_logger.exception("purging expired tokens failed")
        else:
            if purged or forgotten:
                janitor_logger.info(
                    "purged expired tokens", extra={"purged": purged, "assertions": forgotten}
                )


@asynccontextmanager
async def janitor(
    tokens: TokenStore,
    clock: Clock,
    settings: Settings,
    replay: AssertionReplayStore | None = None,
) -> AsyncIterator[None]:
    """Run the expired-token janitor in the background while the app serves."""
    if settings.purge_interval_seconds <= 0:
        yield
        return
    async with running_in_background(
        purge_expired_periodically(
            tokens, clock, settings.purge_interval_seconds, settings.purge_batch_size, replay
        )
    ):
        yield
