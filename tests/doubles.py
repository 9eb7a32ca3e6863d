"""Test doubles of the storage ports (protocol/ports.py), always in front of a real store
(the memory or SQL stores; DESIGN.md §5: no mocks of our own ports): forwarders that
override one call, stores that count their look-ups (and can hold one), and a token
store that records what it stored."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.protocol.models import Client, ClientLimits, ClientSecret, SigningKey, TokenRecord
from anti_grazer.protocol.ports import ClientStore, SigningKeyStore, TokenStore


class ForwardingTokenStore:
    """A ``TokenStore`` handing every call to ``inner``: a test double overrides only
    the call it counts or breaks."""

    def __init__(self, inner: TokenStore) -> None:
        self.inner = inner

    async def add_token(self, record: TokenRecord) -> None:
        await self.inner.add_token(record)

    async def get_token(self, digest: str) -> TokenRecord | None:
        return await self.inner.get_token(digest)

    async def revoke_token(
        self,
        digest: str,
        client_id: str | None,
        now: datetime,
        audit: AuditEvent | None = None,
    ) -> bool:
        return await self.inner.revoke_token(digest, client_id, now, audit)

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int:
        return await self.inner.revoke_client_tokens(client_id, now)

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        return await self.inner.purge_expired(now, batch_size)

    async def last_jwt_expiry(
        self, issued_from: datetime, issued_until: datetime
    ) -> datetime | None:
        return await self.inner.last_jwt_expiry(issued_from, issued_until)


class ForwardingClientStore:
    """A ``ClientStore`` handing every call to ``inner``."""

    def __init__(self, inner: ClientStore) -> None:
        self.inner = inner

    async def get_client(self, client_id: str) -> Client | None:
        return await self.inner.get_client(client_id)

    async def add_client(self, client: Client) -> None:
        await self.inner.add_client(client)

    async def update_client(self, client: Client) -> None:
        await self.inner.update_client(client)

    async def set_limits(self, client_id: str, limits: ClientLimits, now: datetime) -> bool:
        return await self.inner.set_limits(client_id, limits, now)

    async def delete_client(self, client_id: str) -> bool:
        return await self.inner.delete_client(client_id)

    async def list_clients(self) -> Sequence[Client]:
        return await self.inner.list_clients()

    async def add_secret(
        self, client_id: str, secret: ClientSecret, now: datetime, previous_until: datetime
    ) -> bool:
        return await self.inner.add_secret(client_id, secret, now, previous_until)

    async def end_previous_secrets(self, client_id: str, now: datetime) -> int:
        return await self.inner.end_previous_secrets(client_id, now)

    async def record_secret_use(self, client_id: str, secret_id: str, when: datetime) -> None:
        await self.inner.record_secret_use(client_id, secret_id, when)


class CountingTokenStore(ForwardingTokenStore):
    """Counts the token look-ups that reach ``inner`` (what a guard or a cache costs the
    store); a look-up can be held, after it has read the record, until ``release`` is
    set."""

    def __init__(self, inner: TokenStore) -> None:
        super().__init__(inner)
        self.lookups = 0
        self.read_done = asyncio.Event()
        self.release: asyncio.Event | None = None

    async def get_token(self, digest: str) -> TokenRecord | None:
        self.lookups += 1
        record = await self.inner.get_token(digest)
        self.read_done.set()
        if self.release is not None:
            await self.release.wait()
        return record


class CountingClientStore(ForwardingClientStore):
    """Counts the client look-ups that reach ``inner``; a look-up can be held, after it
    has read the client, until ``release`` is set."""

    def __init__(self, inner: ClientStore) -> None:
        super().__init__(inner)
        self.lookups = 0
        self.read_done = asyncio.Event()
        self.release: asyncio.Event | None = None

    async def get_client(self, client_id: str) -> Client | None:
        self.lookups += 1
        client = await self.inner.get_client(client_id)
        self.read_done.set()
        if self.release is not None:
            await self.release.wait()
        return client


class RecordingTokenStore(ForwardingTokenStore):
    """Keeps every record ``inner`` accepted, in order (what a call stored)."""

    def __init__(self, inner: TokenStore) -> None:
        super().__init__(inner)
        self.added: list[TokenRecord] = []

    async def add_token(self, record: TokenRecord) -> None:
        await self.inner.add_token(record)
        self.added.append(record)


class CountingSigningKeyStore:
    """A ``SigningKeyStore`` over ``inner`` that counts its ``list_keys`` reads."""

    def __init__(self, inner: SigningKeyStore) -> None:
        self.inner = inner
        self.reads = 0

    async def add_key(self, key: SigningKey) -> None:
        await self.inner.add_key(key)

    async def list_keys(self) -> Sequence[SigningKey]:
        self.reads += 1
        return await self.inner.list_keys()

    async def activate_key(self, kid: str, now: datetime, retired_until: datetime) -> bool:
        return await self.inner.activate_key(kid, now, retired_until)

    async def retire_key(self, kid: str, now: datetime, published_until: datetime) -> bool:
        return await self.inner.retire_key(kid, now, published_until)

    async def withdraw_key(self, kid: str, now: datetime) -> bool:
        return await self.inner.withdraw_key(kid, now)

    async def delete_key(self, kid: str) -> bool:
        return await self.inner.delete_key(kid)
