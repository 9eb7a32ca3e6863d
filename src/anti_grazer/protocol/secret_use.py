"""When each client secret was last used (``clients show``), without a database write
on every token request.

The recorder sits in ``AuthorizationServer`` (``protocol.server``), where a secret has
just authenticated: it writes a secret's ``last_used_at`` at most once per ``interval``
per process (a minute by default: a figure an operator reads to see whether the old secret
is still in use before retiring it needs no finer grain, and a busy client would otherwise
cost a write per token request).  The write runs in a task of its own, after the
response: a slow or failing database never delays or fails the request; a failure is
logged (without any secret) and retried at the next use after ``interval``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from anti_grazer.protocol.ports import ClientStore

logger = logging.getLogger("anti_grazer.protocol")

DEFAULT_INTERVAL = timedelta(minutes=1)
# Bounds the memory of the per-secret times; past it they are forgotten all at once (at
# worst one more write per secret).
MAX_REMEMBERED_SECRETS = 10_000


class SecretUseRecorder:
    """Records the use of a client secret, at most once per secret per ``interval``."""

    def __init__(self, clients: ClientStore, interval: timedelta = DEFAULT_INTERVAL) -> None:
        self.clients = clients
        self.interval = interval
        self._recorded: dict[str, datetime] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def used(self, client_id: str, secret_id: str, now: datetime) -> None:
        """``secret_id`` of ``client_id`` authenticated at ``now``: schedule the write
        unless this process wrote it less than ``interval`` ago."""
        last = self._recorded.get(secret_id)
        if last is not None and now - last < self.interval:
            return
        if len(self._recorded) >= MAX_REMEMBERED_SECRETS:
            self._recorded.clear()
        self._recorded[secret_id] = now
        task = asyncio.get_running_loop().create_task(self._write(client_id, secret_id, now))
        self._pending.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._pending.discard)

    async def _write(self, client_id: str, secret_id: str, now: datetime) -> None:
        try:
            await self.clients.record_secret_use(client_id, secret_id, now)
        except Exception as error:  # never the request's failure
            self._recorded.pop(secret_id, None)
            logger.warning(
                "could not record a client secret's last use: %s (secret id %s)",
                type(error).__name__,
                secret_id,
            )

    async def flush(self) -> None:
        """Wait for the writes scheduled so far (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
