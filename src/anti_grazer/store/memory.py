"""In-memory reference stores: the same contract as the SQL stores, for tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from anti_grazer.protocol.models import Client, TokenRecord
from anti_grazer.store.errors import DuplicateClientError, UnknownClientError


class MemoryClientStore:
    """Clients in a dict."""

    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}

    async def get_client(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    async def add_client(self, client: Client) -> None:
        if client.client_id in self._clients:
            raise DuplicateClientError(client.client_id)
        self._clients[client.client_id] = client

    async def update_client(self, client: Client) -> None:
        if client.client_id not in self._clients:
            raise UnknownClientError(client.client_id)
        self._clients[client.client_id] = client

    async def delete_client(self, client_id: str) -> bool:
        return self._clients.pop(client_id, None) is not None

    async def list_clients(self) -> Sequence[Client]:
        return sorted(self._clients.values(), key=lambda c: (c.created_at, c.client_id))


class MemoryTokenStore:
    """Token records in a dict keyed by digest."""

    def __init__(self) -> None:
        self._tokens: dict[str, TokenRecord] = {}

    async def add_token(self, record: TokenRecord) -> None:
        self._tokens[record.digest] = record

    async def get_token(self, digest: str) -> TokenRecord | None:
        return self._tokens.get(digest)

    async def revoke_token(self, digest: str, client_id: str | None, now: datetime) -> bool:
        record = self._tokens.get(digest)
        if record is None or (client_id is not None and record.client_id != client_id):
            return False
        if record.revoked_at is None:
            self._tokens[digest] = replace(record, revoked_at=now)
        return True

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int:
        count = 0
        for digest, record in list(self._tokens.items()):
            if record.client_id == client_id and record.revoked_at is None:
                self._tokens[digest] = replace(record, revoked_at=now)
                count += 1
        return count

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        expired = [d for d, r in self._tokens.items() if r.expires_at <= now]
        for digest in expired:
            del self._tokens[digest]
        return len(expired)
