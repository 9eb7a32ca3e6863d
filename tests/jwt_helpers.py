"""Helpers of the tests of JWT access tokens (RFC 9068) and signing keys: the test
key-encryption key and issuer, settings with them, the first key of a store, a token's
parts read without verification, tokens signed by hand (to forge what we must refuse),
and the exact RFC 6749 §5.1 answer that carries a JWT."""

from __future__ import annotations

import json
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any

import httpx
from joserfc.jws import serialize_compact

from anti_grazer.protocol.key_admin import KeyPolicy, create_key, ensure_first_key
from anti_grazer.protocol.models import ES256, SigningKey
from anti_grazer.protocol.ports import Clock, SigningKeyStore
from anti_grazer.protocol.signing_keys import jws_registry, signing_key
from anti_grazer.settings import Settings
from tests.http_helpers import assert_no_store
from tests.support import settings_for

# One key-encryption key per test session, as an operator would make it.
KEK_BYTES = secrets.token_bytes(32)
KEY_ENCRYPTION_KEY = urlsafe_b64encode(KEK_BYTES).rstrip(b"=").decode()
ISSUER = "https://as.example.test"
AUDIENCE = "https://api.example.test"
# What ``db upgrade`` says on stderr when it makes no key for want of the setting.
NO_KEK_NOTE = (
    "Note: no signing key created: ANTI_GRAZER_KEY_ENCRYPTION_KEY is not set "
    "(only JWT access tokens need one).\n"
)
# Rotations in tests wait for nothing unless a test says so.
NO_WAIT = KeyPolicy(max_token_ttl_seconds=86400, cache_ttl_seconds=0, jwks_max_age_seconds=0)


def jwt_settings(database_url: str, **overrides: object) -> Settings:
    """``settings_for`` with the test key-encryption key, issuer and audience."""
    return settings_for(
        database_url,
        **{
            "key_encryption_key": KEY_ENCRYPTION_KEY,
            "issuer": ISSUER,
            "audience": AUDIENCE,
            **overrides,
        },
    )


async def first_key(store: SigningKeyStore, clock: Clock) -> SigningKey:
    """The store's first key, ES256, created and activated (as ``db upgrade`` does)."""
    created = await ensure_first_key(store, clock, NO_WAIT, KEK_BYTES)
    assert created is not None
    return next(key for key in await store.list_keys() if key.kid == created.kid)


async def new_key(store: SigningKeyStore, clock: Clock, alg: str = ES256) -> SigningKey:
    """A created (published, not yet active) key."""
    return await create_key(store, clock, KEK_BYTES, alg)


def _segment(text: str) -> Any:
    return json.loads(urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def header_of(token: str) -> dict[str, Any]:
    """The JOSE header, unverified."""
    header: dict[str, Any] = _segment(token.split(".", maxsplit=1)[0])
    return header


def claims_of(token: str) -> dict[str, Any]:
    """The claims, unverified."""
    claims: dict[str, Any] = _segment(token.split(".")[1])
    return claims


def sign(key: SigningKey, claims: dict[str, Any], **header: Any) -> str:
    """A JWT signed by ``key``'s private part, with ``header`` over the usual one (a
    member given as None is left out)."""
    usual = {"typ": "at+jwt", "alg": key.alg, "kid": key.kid}
    protected = {name: value for name, value in {**usual, **header}.items() if value is not None}
    payload = json.dumps(claims).encode()
    return serialize_compact(
        protected, payload, signing_key(key, KEK_BYTES), registry=jws_registry()
    )


def assert_issued_jwt(response: httpx.Response, scope: str | None, expires_in: int = 3600) -> str:
    """RFC 6749 §5.1 with a JWT: 200, no-store, exactly the token, ``Bearer``, its
    lifetime and ``scope``; return the token."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert_no_store(response)
    body = response.json()
    token = body.pop("access_token")
    assert isinstance(token, str)
    assert token.count(".") == 2
    expected: dict[str, object] = {"token_type": "Bearer", "expires_in": expires_in}
    if scope is not None:
        expected["scope"] = scope
    assert body == expected
    return token
