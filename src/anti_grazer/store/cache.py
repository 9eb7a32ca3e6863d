"""In-process read caches in front of the client and token stores (DESIGN.md §4, issue
"scale and speed"): bounded, with a time-to-live that bounds staleness, and invalidated at
once by every change made through them.  Changes made elsewhere (another worker or
instance, the CLI) reach a cache through ``invalidate`` (PostgreSQL LISTEN/NOTIFY) or, at
the latest, when the entry's time-to-live runs out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.models import Client, ClientLimits, ClientSecret, TokenRecord
from anti_grazer.protocol.ports import ClientStore, Metrics, TokenStore
from anti_grazer.store import changes
from anti_grazer.ttl_cache import TtlCache

Publish = Callable[[str, str], None]

# The caches, by name in the metrics (``Metrics.cache_looked_up``).
CLIENTS = "clients"
TOKENS = "tokens"


# The width of the clients table's ``client_id`` column (the registry's ids have 28
# characters; PostgreSQL refuses longer ones).
MAX_CACHED_CLIENT_ID_LENGTH = 64


class CachingClientStore:
    """A ``ClientStore`` that serves repeated look-ups of a client id from memory, whether
    the id is known or not.

    DESIGN.md §4.1: an unknown client id costs the same work as a wrong secret, so an
    unknown id must not go to the database more often than a known one: it is remembered
    as unknown for the same TTL, in ``unknown``, a cache of its own with its own bound, so
    that a flood of random ids pushes out other unknown ids, never a known client.  An id
    longer than any stored id is remembered on neither side (its memory would not be
    bounded by the entry count): it costs a look-up, known or not.  Creating, changing or
    deleting a client, here or elsewhere (``invalidate``), forgets its id on both sides."""

    def __init__(
        self,
        inner: ClientStore,
        cache: TtlCache[Client],
        unknown: TtlCache[bool],
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.unknown = unknown
        self.metrics = metrics

    async def get_client(self, client_id: str) -> Client | None:
        if len(client_id) > MAX_CACHED_CLIENT_ID_LENGTH:
            return await self.inner.get_client(client_id)
        if client_id in self.unknown:
            self.metrics.cache_looked_up(CLIENTS, True)
            return None
        known = self.cache.get(client_id)
        self.metrics.cache_looked_up(CLIENTS, known is not None)
        if known is not None:
            return known
        generation = self.unknown.generation
        client = await self.cache.get_or_load(client_id, lambda: self.inner.get_client(client_id))
        if client is None:
            self.unknown.put(client_id, True, generation)
        return client

    async def add_client(self, client: Client) -> None:
        await self.inner.add_client(client)
        self.invalidate(client.client_id)

    async def update_client(self, client: Client) -> None:
        self.invalidate(client.client_id)
        await self.inner.update_client(client)
        self.invalidate(client.client_id)

    async def set_limits(self, client_id: str, limits: ClientLimits, now: datetime) -> bool:
        self.invalidate(client_id)
        changed = await self.inner.set_limits(client_id, limits, now)
        self.invalidate(client_id)
        return changed

    async def add_secret(
        self, client_id: str, secret: ClientSecret, now: datetime, previous_until: datetime
    ) -> bool:
        # A rotation is a change of the client: forgotten before (no load in flight
        # keeps the old secrets) and after, as for update_client.
        self.invalidate(client_id)
        added = await self.inner.add_secret(client_id, secret, now, previous_until)
        self.invalidate(client_id)
        return added

    async def end_previous_secrets(self, client_id: str, now: datetime) -> int:
        self.invalidate(client_id)
        ended = await self.inner.end_previous_secrets(client_id, now)
        self.invalidate(client_id)
        return ended

    async def record_secret_use(self, client_id: str, secret_id: str, when: datetime) -> None:
        # Not a change that matters to authentication: the cached client keeps serving
        # (its last_used_at may lag by the TTL; ``clients show`` reads the store).
        await self.inner.record_secret_use(client_id, secret_id, when)

    async def delete_client(self, client_id: str) -> bool:
        self.invalidate(client_id)
        deleted = await self.inner.delete_client(client_id)
        self.invalidate(client_id)
        return deleted

    async def list_clients(self) -> Sequence[Client]:
        return await self.inner.list_clients()

    def invalidate(self, client_id: str) -> None:
        """Forget ``client_id``, known or unknown (it was created or changed elsewhere)."""
        self.cache.discard(client_id)
        self.unknown.discard(client_id)

    def invalidate_all(self) -> None:
        """Forget every client id (notifications may have been missed)."""
        self.cache.clear()
        self.unknown.clear()


class CachingTokenStore:
    """A ``TokenStore`` that serves repeated look-ups of a token record from memory.
    Unknown digests are never cached; a revocation through this store is seen by the very
    next look-up."""

    def __init__(
        self, inner: TokenStore, cache: TtlCache[TokenRecord], metrics: Metrics = NO_METRICS
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.metrics = metrics

    async def add_token(self, record: TokenRecord) -> None:
        await self.inner.add_token(record)

    async def get_token(self, digest: str) -> TokenRecord | None:
        record = self.cache.get(digest)
        self.metrics.cache_looked_up(TOKENS, record is not None)
        if record is not None:
            return record
        return await self.cache.get_or_load(digest, lambda: self.inner.get_token(digest))

    async def revoke_token(
        self,
        digest: str,
        client_id: str | None,
        now: datetime,
        audit: AuditEvent | None = None,
    ) -> bool:
        self.cache.discard(digest)
        revoked = await self.inner.revoke_token(digest, client_id, now, audit)
        self.cache.discard(digest)
        return revoked

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int:
        count = await self.inner.revoke_client_tokens(client_id, now)
        self.cache.clear()
        return count

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        return await self.inner.purge_expired(now, batch_size)

    async def last_jwt_expiry(
        self, issued_from: datetime, issued_until: datetime
    ) -> datetime | None:
        return await self.inner.last_jwt_expiry(issued_from, issued_until)

    def invalidate(self, digest: str) -> None:
        """Forget ``digest`` (it was revoked elsewhere)."""
        self.cache.discard(digest)

    def invalidate_all(self) -> None:
        """Forget every token (e.g. all of a client's were revoked elsewhere)."""
        self.cache.clear()


@dataclass(frozen=True, slots=True)
class Caches:
    """The client and token stores behind in-process caches."""

    clients: CachingClientStore
    tokens: CachingTokenStore

    def on_change(self, kind: str, key: str) -> None:
        """Drop what another process says changed (``store.changes`` kinds)."""
        if kind == changes.TOKEN:
            self.tokens.invalidate(key)
        elif kind == changes.CLIENT:
            self.clients.invalidate(key)
        else:
            self.tokens.invalidate_all()

    def on_gap(self) -> None:
        """Changes may have been missed: drop everything."""
        self.clients.invalidate_all()
        self.tokens.invalidate_all()


def cached(
    clients: ClientStore,
    tokens: TokenStore,
    ttl_seconds: float,
    max_entries: int,
    metrics: Metrics = NO_METRICS,
) -> Caches | None:
    """The client and token stores behind in-process caches (``ttl_seconds`` and
    ``max_entries`` each), or None when ``ttl_seconds`` turns them off; ``metrics``
    counts each look-up as a hit or a miss."""
    if ttl_seconds <= 0:
        return None
    return Caches(
        CachingClientStore(
            clients,
            TtlCache(ttl_seconds, max_entries),
            TtlCache(ttl_seconds, max_entries),
            metrics,
        ),
        CachingTokenStore(tokens, TtlCache(ttl_seconds, max_entries), metrics),
    )
