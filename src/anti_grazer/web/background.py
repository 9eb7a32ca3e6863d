"""What runs beside the requests while the app serves: the in-process caches in front of
the stores, their invalidation across instances (PostgreSQL LISTEN/NOTIFY), and the
expired-token janitor, which deletes expired token records every so often in small
batches (each its own short transaction), so that issuance and validation are never
blocked for long."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from anti_grazer.protocol.ports import ClientStore, Clock, TokenStore
from anti_grazer.settings import Settings
from anti_grazer.store.cache import CachingClientStore, CachingTokenStore, TtlCache
from anti_grazer.store.postgres import notify
from anti_grazer.store.sql.engine import is_sqlite
from anti_grazer.tasks import running_in_background


@dataclass(frozen=True, slots=True)
class Caches:
    """The client and token stores behind in-process caches."""

    clients: CachingClientStore
    tokens: CachingTokenStore

    def on_change(self, kind: str, key: str) -> None:
        """Drop what another instance says changed (``notify`` payload kinds)."""
        if kind == notify.TOKEN:
            self.tokens.invalidate(key)
        elif kind == notify.CLIENT:
            self.clients.invalidate(key)
        else:
            self.tokens.invalidate_all()

    def on_gap(self) -> None:
        """Changes may have been missed: drop everything."""
        self.clients.invalidate_all()
        self.tokens.invalidate_all()


def cached(clients: ClientStore, tokens: TokenStore, settings: Settings) -> Caches | None:
    """The client and token stores behind in-process caches, unless turned off."""
    ttl, bound = settings.cache_ttl_seconds, settings.cache_max_entries
    if ttl <= 0:
        return None
    return Caches(
        CachingClientStore(clients, TtlCache(ttl, bound), TtlCache(ttl, bound)),
        CachingTokenStore(tokens, TtlCache(ttl, bound)),
    )


@asynccontextmanager
async def invalidations(caches: Caches | None, settings: Settings) -> AsyncIterator[None]:
    """On PostgreSQL, keep the caches in step with other instances (LISTEN/NOTIFY)."""
    if caches is None or is_sqlite(settings.database_url):
        yield
        return
    async with notify.listening(settings.database_url, caches.on_change, caches.on_gap):
        yield


janitor_logger = logging.getLogger("anti_grazer.janitor")


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
            janitor_logger.exception("purging expired tokens failed")
        else:
            if purged:
                janitor_logger.info("purged expired tokens", extra={"purged": purged})


@asynccontextmanager
async def janitor(tokens: TokenStore, clock: Clock, settings: Settings) -> AsyncIterator[None]:
    """Run the expired-token janitor in the background while the app serves."""
    if settings.purge_interval_seconds <= 0:
        yield
        return
    async with running_in_background(
        purge_expired_periodically(
            tokens, clock, settings.purge_interval_seconds, settings.purge_batch_size
        )
    ):
        yield
