"""Client administration: registration with a server-generated secret, secret rotation,
enabling and disabling (DESIGN.md §4.1: secrets are generated, shown once, stored as
digests)."""

from __future__ import annotations

from dataclasses import replace

from anti_grazer.protocol.errors import InvalidScopeError
from anti_grazer.protocol.models import OPAQUE, TOKEN_FORMATS, Client, Scopes
from anti_grazer.protocol.ports import ClientStore, Clock, TokenStore
from anti_grazer.protocol.scope import parse_scope
from anti_grazer.protocol.tokens import (
    client_secret_digest,
    generate_client_id,
    generate_client_secret,
)


class ClientConfigError(ValueError):
    """A client's configuration is inconsistent (bad scope, default outside allowed...)."""


def parse_scope_option(value: str | None) -> Scopes:
    """A scope option as given by an operator (``"a b"``); empty means none."""
    if value is None or not value.strip():
        return frozenset()
    try:
        return parse_scope(" ".join(value.split()))
    except InvalidScopeError:
        raise ClientConfigError(f"invalid scope: {value!r}") from None


def _check(allowed: Scopes, default: Scopes, ttl: int | None) -> None:
    if not default <= allowed:
        raise ClientConfigError("the default scope must be part of the allowed scope")
    if ttl is not None and ttl <= 0:
        raise ClientConfigError("the token TTL must be a positive number of seconds")


async def register_client(
    clients: ClientStore,
    clock: Clock,
    name: str,
    allowed_scopes: Scopes,
    default_scopes: Scopes,
    token_ttl_seconds: int | None = None,
    token_format: str = OPAQUE,
    *,
    can_introspect: bool = False,
) -> tuple[Client, str]:
    """Create a client; return it with its secret, the only time the secret exists.
    An empty ``default_scopes`` is stored as such and means every allowed scope
    (``Client.effective_default_scopes``).  ``token_format`` is ``opaque`` or ``jwt``
    (RFC 9068 access tokens); ``can_introspect`` registers a resource server, which may
    introspect any token."""
    if not name.strip():
        raise ClientConfigError("the client name must not be empty")
    _check(allowed_scopes, default_scopes, token_ttl_seconds)
    if token_format not in TOKEN_FORMATS:
        raise ClientConfigError(f"the token format must be one of {', '.join(TOKEN_FORMATS)}")
    secret = generate_client_secret()
    now = clock.now()
    client = Client(
        client_id=generate_client_id(),
        name=name.strip(),
        secret_digest=client_secret_digest(secret),
        allowed_scopes=allowed_scopes,
        default_scopes=default_scopes,
        token_ttl_seconds=token_ttl_seconds,
        enabled=True,
        created_at=now,
        updated_at=now,
        token_format=token_format,
        can_introspect=can_introspect,
    )
    await clients.add_client(client)
    return client, secret


async def rotate_secret(clients: ClientStore, clock: Clock, client: Client) -> str:
    """Give ``client`` a new secret (the old one stops working at once); return it."""
    secret = generate_client_secret()
    await clients.update_client(
        replace(client, secret_digest=client_secret_digest(secret), updated_at=clock.now())
    )
    return secret


async def set_enabled(
    clients: ClientStore, tokens: TokenStore, clock: Clock, client: Client, enabled: bool
) -> Client:
    """Enable or disable ``client``.  A disabled client fails authentication like an
    unknown one, and every token it holds is revoked: disabling is a kill switch, and
    re-enabling does not bring old tokens back."""
    updated = replace(client, enabled=enabled, updated_at=clock.now())
    await clients.update_client(updated)
    if not enabled:
        await tokens.revoke_client_tokens(client.client_id, updated.updated_at)
    return updated
