"""The records of the OAuth core and of the reports API as rows of the tables, and back:
the same on both backends (scopes are stored as one space-separated, sorted string;
audiences as JSON text, ``join_audiences``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from anti_grazer.protocol.models import (
    Client,
    ClientLimits,
    ClientSecret,
    Scopes,
    SigningKey,
    TokenRecord,
)
from anti_grazer.reports.models import ProfileRecord, Report


def join_scopes(values: Scopes) -> str:
    return " ".join(sorted(values))


def split_scopes(value: str) -> Scopes:
    return frozenset(value.split()) if value else frozenset()


def join_audiences(audience: Sequence[str]) -> str | None:
    """A token's audience as its ``access_tokens.audience`` column holds it: NULL for
    none, one audience as itself (as every row was written before tokens had several),
    several, or one that starts with "[", as a JSON array."""
    if not audience:
        return None
    if len(audience) == 1 and not audience[0].startswith("["):
        return audience[0]
    return json.dumps(list(audience), separators=(",", ":"))


def split_audiences(value: str | None) -> tuple[str, ...]:
    """The inverse of ``join_audiences``."""
    if value is None:
        return ()
    if value.startswith("["):
        return tuple(json.loads(value))
    return (value,)


def client_row(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "allowed_scopes": join_scopes(client.allowed_scopes),
        "default_scopes": join_scopes(client.default_scopes),
        "grant_types": join_scopes(client.grant_types),
        "token_ttl_seconds": client.token_ttl_seconds,
        "enabled": client.enabled,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
        "token_format": client.token_format,
        "can_introspect": client.can_introspect,
        "audiences": json.dumps(list(client.audiences), separators=(",", ":")),
        "jwks": client.jwks,
        "jwks_uri": client.jwks_uri,
        **limits_row(client.limits),
    }


def limits_row(limits: ClientLimits) -> dict[str, Any]:
    """The columns of a client's own limits (the names are sorted, as scopes are)."""
    return {
        "tokens_per_hour": limits.tokens_per_hour,
        "tokens_per_day": limits.tokens_per_day,
        "requests_per_hour": limits.requests_per_hour,
        "burst_per_minute": limits.burst_per_minute,
        "new_reporters_per_day": limits.new_reporters_per_day,
        "limits_log_only": join_scopes(limits.log_only),
        "limits_enforced": join_scopes(limits.enforced),
    }


def limits_from_row(row: Any) -> ClientLimits:
    return ClientLimits(
        tokens_per_hour=row.tokens_per_hour,
        tokens_per_day=row.tokens_per_day,
        requests_per_hour=row.requests_per_hour,
        burst_per_minute=row.burst_per_minute,
        new_reporters_per_day=row.new_reporters_per_day,
        log_only=split_scopes(row.limits_log_only),
        enforced=split_scopes(row.limits_enforced),
    )


def secret_row(client_id: str, secret: ClientSecret) -> dict[str, Any]:
    return {
        "secret_id": secret.secret_id,
        "client_id": client_id,
        "digest": secret.digest,
        "created_at": secret.created_at,
        "expires_at": secret.expires_at,
        "last_used_at": secret.last_used_at,
    }


def secret_from_row(row: Any) -> ClientSecret:
    """A secret from a row of ``client_secrets``."""
    return ClientSecret(
        secret_id=row.secret_id,
        digest=row.digest,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def client_from_rows(rows: Sequence[Any]) -> Client:
    """A client from the rows of ``CLIENT_BY_ID`` (``store.sql.statements``): its
    columns, and one secret per row (none when the secret columns are NULL)."""
    secrets = tuple(
        ClientSecret(
            secret_id=row.secret_id,
            digest=row.secret_digest,
            created_at=row.secret_created_at,
            expires_at=row.secret_expires_at,
            last_used_at=row.secret_last_used_at,
        )
        for row in rows
        if row.secret_id is not None
    )
    return client_from_row(rows[0], secrets)


def client_from_row(row: Any, secrets: tuple[ClientSecret, ...] = ()) -> Client:
    return Client(
        client_id=row.client_id,
        name=row.name,
        secrets=secrets,
        allowed_scopes=split_scopes(row.allowed_scopes),
        default_scopes=split_scopes(row.default_scopes),
        grant_types=split_scopes(row.grant_types),
        token_ttl_seconds=row.token_ttl_seconds,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        token_format=row.token_format,
        can_introspect=row.can_introspect,
        audiences=tuple(json.loads(row.audiences)),
        jwks=row.jwks,
        jwks_uri=row.jwks_uri,
        limits=limits_from_row(row),
    )


def token_row(record: TokenRecord) -> dict[str, Any]:
    """The values of ``INSERT_TOKEN`` (``store.sql.statements``) for ``record``."""
    return {
        "digest": record.digest,
        "client_id": record.client_id,
        "scope": join_scopes(record.scopes),
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
        "jti": record.jti,
        "audience": join_audiences(record.audience),
    }


def token_from_row(row: Any) -> TokenRecord:
    return TokenRecord(
        digest=row.digest,
        client_id=row.client_id,
        scopes=split_scopes(row.scope),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        jti=row.jti,
        audience=split_audiences(row.audience),
    )


def signing_key_row(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "public_jwk": key.public_jwk,
        "sealed_private_jwk": key.sealed_private_jwk,
        "created_at": key.created_at,
        "activated_at": key.activated_at,
        "retired_at": key.retired_at,
        "published_until": key.published_until,
    }


def signing_key_from_row(row: Any) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        alg=row.alg,
        public_jwk=row.public_jwk,
        sealed_private_jwk=bytes(row.sealed_private_jwk),
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
        published_until=row.published_until,
    )


def report_from_row(row: Any) -> Report:
    return Report(
        client_id=row.client_id,
        reporter_id=row.reporter_id,
        platform=row.platform,
        profile_id=row.profile_id,
        reason=row.reason,
        created_at=row.created_at,
    )


def profile_from_row(row: Any) -> ProfileRecord:
    return ProfileRecord(
        platform=row.platform,
        profile_id=row.profile_id,
        reporters=row.reporters,
        first_reported_at=row.first_reported_at,
        blocked_at=row.blocked_at,
        clients=row.clients,
        cleared_at=row.cleared_at,
    )
