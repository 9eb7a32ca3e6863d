"""In-memory reference stores: the same contract as the SQL stores, for tests.

Build them together with ``memory_stores()``: like the SQL tables, the token store refuses
tokens of unknown clients and a deleted client takes its tokens with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.protocol.models import (
    Client,
    ClientLimits,
    ClientSecret,
    FederationBinding,
    SigningKey,
    TokenRecord,
    TrustedIssuer,
    rotated_secrets,
)
from anti_grazer.protocol.ports import (
    InactiveClientError,
    IssuerInUseError,
    MissingBindingTargetError,
)
from anti_grazer.store.errors import (
    DuplicateClientError,
    DuplicateSigningKeyError,
    UnknownClientError,
)


class _Tables:
    """The shared state: clients by id, token records by digest, trusted issuers by
    issuer, federation bindings by client id and issuer, audit events oldest first."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.issuers: dict[str, TrustedIssuer] = {}
        self.bindings: dict[tuple[str, str], FederationBinding] = {}
        self.audit_events: list[AuditEvent] = []


class MemoryClientStore:
    """Clients in a dict."""

    def __init__(self, tables: _Tables | None = None) -> None:
        self._tables = tables or _Tables()

    async def get_client(self, client_id: str) -> Client | None:
        return self._tables.clients.get(client_id)

    async def add_client(self, client: Client) -> None:
        if client.client_id in self._tables.clients:
            raise DuplicateClientError(client.client_id)
        self._tables.clients[client.client_id] = client

    async def update_client(self, client: Client) -> None:
        existing = self._tables.clients.get(client.client_id)
        if existing is None:
            raise UnknownClientError(client.client_id)
        # As in SQL: the creation time is set once, by add_client; secrets and limits
        # change only through their own methods.
        self._tables.clients[client.client_id] = replace(
            client,
            created_at=existing.created_at,
            secrets=existing.secrets,
            limits=existing.limits,
        )

    async def set_limits(self, client_id: str, limits: ClientLimits, now: datetime) -> bool:
        client = self._tables.clients.get(client_id)
        if client is None:
            return False
        self._tables.clients[client_id] = replace(client, limits=limits, updated_at=now)
        return True

    async def add_secret(
        self, client_id: str, secret: ClientSecret, now: datetime, previous_until: datetime
    ) -> bool:
        client = self._tables.clients.get(client_id)
        if client is None:
            return False
        kept = rotated_secrets(client.secrets, now, previous_until)
        self._tables.clients[client_id] = replace(client, secrets=(*kept, secret))
        return True

    async def end_previous_secrets(self, client_id: str, now: datetime) -> int:
        client = self._tables.clients.get(client_id)
        if client is None:
            return 0
        live = client.live_secrets(now)
        self._tables.clients[client_id] = replace(client, secrets=live[-1:])
        return max(0, len(live) - 1)

    async def record_secret_use(self, client_id: str, secret_id: str, when: datetime) -> None:
        client = self._tables.clients.get(client_id)
        if client is None:
            return
        secrets = tuple(
            replace(s, last_used_at=when) if s.secret_id == secret_id else s for s in client.secrets
        )
        self._tables.clients[client_id] = replace(client, secrets=secrets)

    async def delete_client(self, client_id: str) -> bool:
        if self._tables.clients.pop(client_id, None) is None:
            return False
        tokens = self._tables.tokens
        for digest in [d for d, r in tokens.items() if r.client_id == client_id]:
            del tokens[digest]
        bindings = self._tables.bindings
        for pair in [pair for pair in bindings if pair[0] == client_id]:
            del bindings[pair]
        return True

    async def list_clients(self) -> Sequence[Client]:
        return sorted(self._tables.clients.values(), key=lambda c: (c.created_at, c.client_id))


class MemoryTokenStore:
    """Token records in a dict keyed by digest."""

    def __init__(self, tables: _Tables | None = None) -> None:
        self._tables = tables or _Tables()

    async def add_token(self, record: TokenRecord) -> None:
        client = self._tables.clients.get(record.client_id)
        if client is None or not client.enabled:
            raise InactiveClientError(record.client_id)
        if record.digest in self._tables.tokens:
            raise ValueError("a token with this digest is already stored")
        self._tables.tokens[record.digest] = record

    async def get_token(self, digest: str) -> TokenRecord | None:
        return self._tables.tokens.get(digest)

    async def revoke_token(
        self,
        digest: str,
        client_id: str | None,
        now: datetime,
        audit: AuditEvent | None = None,
    ) -> bool:
        record = self._tables.tokens.get(digest)
        if record is None or (client_id is not None and record.client_id != client_id):
            return False
        if record.revoked_at is None:
            self._tables.tokens[digest] = replace(record, revoked_at=now)
            if audit is not None:
                self._tables.audit_events.append(audit)
        return True

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int:
        tokens = self._tables.tokens
        count = 0
        for digest, record in list(tokens.items()):
            if record.client_id == client_id and record.revoked_at is None:
                tokens[digest] = replace(record, revoked_at=now)
                count += 1
        return count

    async def last_jwt_expiry(
        self, issued_from: datetime, issued_until: datetime
    ) -> datetime | None:
        expiries = [
            record.expires_at
            for record in self._tables.tokens.values()
            if record.jti is not None and issued_from <= record.issued_at <= issued_until
        ]
        return max(expiries, default=None)

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        tokens = self._tables.tokens
        total = 0
        while True:
            batch = [d for d, r in tokens.items() if r.expires_at <= now][:batch_size]
            for digest in batch:
                del tokens[digest]
            total += len(batch)
            if len(batch) < batch_size:
                return total


class MemorySigningKeyStore:
    """Signing keys in a dict keyed by kid."""

    def __init__(self) -> None:
        self._keys: dict[str, SigningKey] = {}

    async def add_key(self, key: SigningKey) -> None:
        if key.kid in self._keys:
            raise DuplicateSigningKeyError(key.kid)
        self._keys[key.kid] = key

    async def list_keys(self) -> Sequence[SigningKey]:
        return sorted(self._keys.values(), key=lambda k: (k.created_at, k.kid))

    async def activate_key(self, kid: str, now: datetime, retired_until: datetime) -> bool:
        key = self._keys.get(kid)
        if key is None or key.retired_at is not None:
            return False
        if key.activated_at is not None:
            return True
        for other in list(self._keys.values()):
            if other.is_active:
                self._keys[other.kid] = replace(
                    other, retired_at=now, published_until=retired_until
                )
        self._keys[kid] = replace(key, activated_at=now)
        return True

    async def retire_key(self, kid: str, now: datetime, published_until: datetime) -> bool:
        key = self._keys.get(kid)
        if key is None or key.retired_at is not None or key.activated_at is not None:
            return False
        self._keys[kid] = replace(key, retired_at=now, published_until=published_until)
        return True

    async def withdraw_key(self, kid: str, now: datetime) -> bool:
        key = self._keys.get(kid)
        if key is None or key.retired_at is None:
            return False
        if key.published_until is None or key.published_until > now:
            self._keys[kid] = replace(key, published_until=now)
        return True

    async def delete_key(self, kid: str) -> bool:
        key = self._keys.get(kid)
        if key is None or key.is_active:
            return False
        del self._keys[kid]
        return True


class MemoryTrustStore:
    """Trusted issuers and federation bindings in dicts, beside the clients."""

    def __init__(self, tables: _Tables | None = None) -> None:
        self._tables = tables or _Tables()

    async def add_issuer(self, trusted: TrustedIssuer) -> bool:
        if trusted.issuer in self._tables.issuers:
            return False
        self._tables.issuers[trusted.issuer] = trusted
        return True

    async def list_issuers(self) -> Sequence[TrustedIssuer]:
        return sorted(self._tables.issuers.values(), key=lambda i: (i.created_at, i.issuer))

    async def remove_issuer(self, issuer: str, *, with_bindings: bool) -> bool:
        bound = [pair for pair in sorted(self._tables.bindings) if pair[1] == issuer]
        if bound and not with_bindings:
            raise IssuerInUseError([client_id for client_id, _ in bound])
        for pair in bound:
            del self._tables.bindings[pair]
        return self._tables.issuers.pop(issuer, None) is not None

    async def add_binding(self, binding: FederationBinding, *, replace: bool) -> bool:
        if binding.client_id not in self._tables.clients:
            raise MissingBindingTargetError("client")
        if binding.issuer not in self._tables.issuers:
            raise MissingBindingTargetError("issuer")
        pair = (binding.client_id, binding.issuer)
        if pair in self._tables.bindings and not replace:
            return False
        self._tables.bindings[pair] = binding
        return True

    async def remove_binding(self, client_id: str, issuer: str) -> bool:
        return self._tables.bindings.pop((client_id, issuer), None) is not None

    async def list_bindings(
        self, *, client_id: str | None = None, issuer: str | None = None
    ) -> Sequence[FederationBinding]:
        return [
            binding
            for (bound_client, bound_issuer), binding in sorted(self._tables.bindings.items())
            if client_id in (None, bound_client) and issuer in (None, bound_issuer)
        ]

    async def find_binding(
        self, client_id: str, issuer: str
    ) -> tuple[TrustedIssuer, FederationBinding] | None:
        binding = self._tables.bindings.get((client_id, issuer))
        if binding is None:
            return None
        return self._tables.issuers[issuer], binding


class MemoryAuditStore:
    """Audit events in a list, oldest first."""

    def __init__(self, tables: _Tables | None = None) -> None:
        self._events = (tables or _Tables()).audit_events

    async def record(self, event: AuditEvent) -> None:
        self._events.append(event)

    async def list_events(
        self,
        *,
        since: datetime | None = None,
        client_id: str | None = None,
        kind: str | None = None,
        limit: int = 1000,
    ) -> Sequence[AuditEvent]:
        found = [
            event
            for event in sorted(self._events, key=lambda e: e.at)
            if (since is None or event.at >= since)
            and (client_id is None or event.client_id == client_id)
            and (kind is None or event.kind == kind)
        ]
        return found[-limit:] if limit else []

    async def purge_before(self, before: datetime) -> int:
        kept = [event for event in self._events if event.at >= before]
        purged = len(self._events) - len(kept)
        self._events = kept
        return purged


class MemoryAssertionReplayStore:
    """Used client assertions in a dict, by key: one process's memory (a server with
    several instances needs the SQL store, which they share)."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    async def remember(self, key: str, expires_at: datetime) -> bool:
        if key in self._until:
            return False
        self._until[key] = expires_at
        return True

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        expired = [key for key, until in self._until.items() if until <= now]
        for key in expired:
            del self._until[key]
        return len(expired)


@dataclass(frozen=True, slots=True)
class MemoryStores:
    """A client store, a token store and a trust store over the same tables, signing
    keys, the used client assertions and the audit trail."""

    clients: MemoryClientStore
    tokens: MemoryTokenStore
    signing_keys: MemorySigningKeyStore
    assertion_replays: MemoryAssertionReplayStore
    audit: MemoryAuditStore
    trust: MemoryTrustStore


def memory_stores() -> MemoryStores:
    """Fresh, empty memory stores that share their state as the SQL tables do."""
    tables = _Tables()
    return MemoryStores(
        MemoryClientStore(tables),
        MemoryTokenStore(tables),
        MemorySigningKeyStore(),
        MemoryAssertionReplayStore(),
        MemoryAuditStore(tables),
        MemoryTrustStore(tables),
    )
