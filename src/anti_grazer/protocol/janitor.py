"""The token janitor: deletes expired token records every so often, in small batches (each
its own short transaction) so that issuance and validation are never blocked for long."""

from __future__ import annotations

import asyncio
import logging

from anti_grazer.protocol.ports import Clock, TokenStore

logger = logging.getLogger("anti_grazer.janitor")


async def purge_expired_periodically(
    tokens: TokenStore, clock: Clock, interval_seconds: float, batch_size: int
) -> None:
    """Purge expired tokens every ``interval_seconds`` until cancelled; a failed round is
    logged and retried at the next interval."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            purged = await tokens.purge_expired(clock.now(), batch_size)
        except Exception:
            logger.exception("purging expired tokens failed")
        else:
            if purged:
                logger.info("purged expired tokens", extra={"purged": purged})
