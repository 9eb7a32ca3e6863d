"""Builders of the records the storage tests store: clients and token records at known
instants, with digests derived from readable labels."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from anti_grazer.protocol.models import Client, TokenRecord

# Microseconds included: every backend must give them back.
T0 = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def make_client(
    client_id: str = "client-a",
    *,
    created_at: datetime = T0,
    allowed: str = "reports:write profiles:read",
    default: str = "profiles:read",
    ttl: int | None = None,
) -> Client:
    return Client(
        client_id=client_id,
        name=f"name of {client_id}",
        secret_digest="sha256$" + hashlib.sha256(client_id.encode()).hexdigest(),
        allowed_scopes=frozenset(allowed.split()),
        default_scopes=frozenset(default.split()),
        token_ttl_seconds=ttl,
        enabled=True,
        created_at=created_at,
        updated_at=created_at,
    )


def digest_of(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def make_token(
    label: str,
    client_id: str = "client-a",
    *,
    expires_in: float = 3600,
    scopes: str = "profiles:read",
) -> TokenRecord:
    return TokenRecord(
        digest=digest_of(label),
        client_id=client_id,
        scopes=frozenset(scopes.split()),
        issued_at=T0,
        expires_at=at(expires_in),
    )
