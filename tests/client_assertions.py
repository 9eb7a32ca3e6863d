"""Client assertions for ``private_key_jwt`` (RFC 7523 §2.2, §3) as a client builds them,
with joserfc: its key pairs, its public JWK Set, the claims and the signed JWT, the form
that carries it, and a client registered with such keys."""

from __future__ import annotations

import io
import json
import uuid
import warnings
from collections.abc import Mapping
from datetime import datetime

from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from anti_grazer.protocol.client_admin import register_key_client
from anti_grazer.protocol.client_auth import JWT_BEARER
from anti_grazer.protocol.jwt_assertion import REFUSED_EVENT
from anti_grazer.protocol.models import Client
from anti_grazer.protocol.ports import ClientStore, Clock
from tests.support import log_events

# The issuer the in-process apps of these tests are configured with (ISSUER).
ISSUER = "https://as.example.com"
TOKEN_ENDPOINT = f"{ISSUER}/oauth/token"
_ALGS = {"EC": "ES256", "OKP": "EdDSA", "RSA": "RS256"}


def es256_key() -> ECKey:
    """A client's new P-256 key pair, its kid the RFC 7638 thumbprint."""
    return ECKey.generate_key("P-256", {"use": "sig"}, auto_kid=True)


def ed25519_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519", {"use": "sig"}, auto_kid=True)


def rsa_key(bits: int = 2048) -> RSAKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # under 2048 bits warns
        return RSAKey.generate_key(bits, {"use": "sig"}, auto_kid=True)


def public_jwks(*keys: Key) -> str:
    """The JWK Set (RFC 7517 §5) of the keys' public parts, as the client registers it."""
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys]})


def assertion_claims(client_id: str, now: datetime, **changes: object) -> dict[str, object]:
    """RFC 7523 §3 claims of an assertion made ``now``, valid 60 s, with a fresh ``jti``;
    a change of None leaves that claim out."""
    issued = int(now.timestamp())
    claims: dict[str, object] = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "exp": issued + 60,
        "iat": issued,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def sign_payload(key: Key, payload: bytes, **header: object) -> str:
    """A JWS in compact form of ``payload`` signed with ``key``: header ``alg`` for its
    type and its ``kid`` unless ``header`` says otherwise (None: left out)."""
    protected = {"alg": _ALGS[key.key_type], "kid": key.kid, **header}
    protected = {name: value for name, value in protected.items() if value is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA and HS256 warn
        return jws.serialize_compact(protected, payload, key, algorithms=[str(protected["alg"])])


def sign_assertion(key: Key, claims: Mapping[str, object], **header: object) -> str:
    """``claims`` as a JWT signed with ``key`` (``sign_payload``)."""
    return sign_payload(key, json.dumps(dict(claims)).encode(), **header)


def assertion_form(assertion: str, **extra: str) -> dict[str, str]:
    """A client_credentials token request authenticated by ``assertion`` (RFC 7521 §4.2)."""
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        **extra,
    }


def auth_form(assertion: str, **extra: str) -> dict[str, str]:
    """The client authentication parameters alone (revocation, introspection)."""
    return {"client_assertion_type": JWT_BEARER, "client_assertion": assertion, **extra}


async def register_keys(
    clients: ClientStore,
    clock: Clock,
    *,
    jwks: str | None = None,
    jwks_uri: str | None = None,
    scope: str = "reports:write profiles:read",
    default_scope: str = "profiles:read",
    name: str = "key client",
) -> Client:
    """A ``private_key_jwt`` client registered through the real registry."""
    return await register_key_client(
        clients,
        clock,
        name,
        frozenset(scope.split()),
        frozenset(default_scope.split()),
        jwks=jwks,
        jwks_uri=jwks_uri,
    )


def refusal_reasons(stream: io.StringIO) -> list[str]:
    """The reasons of the client assertions refused so far (both methods), as logged."""
    return [e["reason"] for e in log_events(stream) if e.get("event") == REFUSED_EVENT]
