"""Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY.

A change to a client or a token publishes a notification in the same transaction (it is
delivered only if that transaction commits; ``store.postgres.stores``); every server
instance listens and drops the affected cache entries.  SQLite has no such channel: there
the caches' time-to-live is the bound."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from anti_grazer.store.changes import OnChange, OnGap
from anti_grazer.tasks import running_in_background

CHANNEL = "anti_grazer_invalidate"
RECONNECT_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0

logger = logging.getLogger("anti_grazer.notify")

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


async def publish(connection: AsyncConnection, kind: str, key: str) -> None:
    """Announce, when the transaction commits, that ``kind:key`` changed."""
    await connection.execute(_NOTIFY, {"channel": CHANNEL, "payload": f"{kind}:{key}"})


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _listen_once(url: str, on_change: OnChange, on_gap: OnGap) -> None:
    """Listen on one connection until it is lost."""
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def deliver(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        kind, _, key = payload.partition(":")
        on_change(kind, key)

    def terminated(_conn: object) -> None:
        if not lost.done():
            lost.set_result(None)

    # Imported here: only PostgreSQL deployments listen, and on SQLite the driver would
    # take each worker's memory for nothing (SQLAlchemy imports it lazily too).
    import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415

    connection = await asyncpg.connect(_dsn(url))
    try:
        connection.add_termination_listener(terminated)
        await connection.add_listener(CHANNEL, deliver)
        on_gap()  # whatever changed before we listened
        while not lost.done():
            # A connection that died silently (no FIN) would never report it: probe it.
            await asyncio.wait([lost], timeout=HEARTBEAT_SECONDS)
            if not lost.done():
                await asyncio.wait_for(connection.fetchval("SELECT 1"), HEARTBEAT_SECONDS)
    finally:
        if not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close()


async def _listen_forever(url: str, on_change: OnChange, on_gap: OnGap) -> None:
    while True:
        try:
            await _listen_once(url, on_change, on_gap)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.warning("invalidation listener lost its connection: %s", type(error).__name__)
        on_gap()
        await asyncio.sleep(RECONNECT_SECONDS)


@asynccontextmanager
async def listening(url: str, on_change: OnChange, on_gap: OnGap) -> AsyncIterator[None]:
    """Deliver every notification to ``on_change(kind, key)`` while the context is open;
    ``on_gap()`` runs whenever notifications may have been missed (connect, reconnect)."""
    async with running_in_background(_listen_forever(url, on_change, on_gap)):
        yield
