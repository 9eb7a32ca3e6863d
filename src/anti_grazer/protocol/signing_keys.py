"""Signing keys as JOSE keys (joserfc): generation, the RFC 7638 thumbprint that is their
``kid``, their public JWK (RFC 7517 §4) for the JWKS, and their private part sealed at
rest (``protocol.key_encryption``).

``ES256`` keys are P-256 (RFC 7518 §3.4), ``EdDSA`` keys Ed25519 (RFC 8037 §3.1).
RFC 9864 deprecates the polymorphic ``EdDSA`` name in favour of ``Ed25519``; on an
Ed25519 key the two mean the same signature, and ``EdDSA`` is the name verifiers support
today (PyJWT, node ``jose``), so it is what we write.  joserfc warns whenever it looks
``EdDSA`` up; ``jws_registry()`` is a registry of our own whose ``EdDSA`` is the same
algorithm without the warning, allowing our two algorithms only."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from anti_grazer.protocol.key_encryption import seal, unseal
from anti_grazer.protocol.models import EDDSA, ES256, SIGNING_ALGORITHMS, SigningKey

if TYPE_CHECKING:
    from joserfc.jwk import Key
    from joserfc.jws import JWSRegistry

# The members a JWKS entry carries besides the key's own (RFC 7517 §4.2-4.5).
_USE_SIGNATURE = "sig"

# joserfc (and, with it, cryptography) is imported where it is first needed, never with
# this module: a server whose clients all get opaque tokens never loads them (about
# 4 MiB of every worker's memory).


@cache
def jws_registry(
    algorithms: tuple[str, ...] = SIGNING_ALGORITHMS, *, strict_header: bool = True
) -> JWSRegistry:
    """A JWS registry of ``algorithms`` only (by default the two we sign with), with an
    ``EdDSA`` that does not warn (module docstring).  With ``strict_header`` a header
    parameter joserfc does not know is refused (our own tokens carry none); without, it
    is ignored, as RFC 7515 §4 says a recipient does ("MUST be ignored when not
    understood"): the client assertions of other parties (``protocol.jwt_assertion``)."""
    from joserfc.jwa import EdDSAAlgorithm  # noqa: PLC0415 - see above
    from joserfc.jws import JWSRegistry  # noqa: PLC0415

    class QuietEdDSA(EdDSAAlgorithm):
        """RFC 8037 §3.1 EdDSA, without joserfc's RFC 9864 warning."""

        security_warning: str | None = None  # type: ignore[assignment]

    class Registry(JWSRegistry):
        algorithms = {**JWSRegistry.algorithms, EDDSA: QuietEdDSA()}  # noqa: RUF012

    return Registry(algorithms=list(algorithms), strict_check_header=strict_header)


def _generate(alg: str) -> Key:
    from joserfc.jwk import ECKey, OKPKey  # noqa: PLC0415 - imported when needed

    if alg == ES256:
        return ECKey.generate_key("P-256", private=True)
    if alg == EDDSA:
        return OKPKey.generate_key("Ed25519", private=True)
    raise ValueError(f"unsupported signing algorithm {alg!r} ({', '.join(SIGNING_ALGORITHMS)})")


def generate_signing_key(alg: str, key_encryption_key: bytes, now: datetime) -> SigningKey:
    """A new key for ``alg``: new (published, not yet signing), its private part sealed.

    Its ``kid`` never starts with ``-``: ``keys activate -xyz`` would read as an option
    on the command line (one key in 64 would need ``--`` before its id), so such a key is
    drawn again."""
    key = _generate(alg)
    while (kid := key.thumbprint()).startswith("-"):  # RFC 7638 §3: base64url SHA-256
        key = _generate(alg)
    private = json.dumps(key.as_dict(private=True)).encode()
    return SigningKey(
        kid=kid,
        alg=alg,
        public_jwk=json.dumps(key.as_dict(private=False), sort_keys=True),
        sealed_private_jwk=seal(key_encryption_key, kid, private),
        created_at=now,
    )


def public_jwk(key: SigningKey) -> dict[str, Any]:
    """The JWKS entry of ``key``: its public members, ``kid``, ``alg`` and ``use`` —
    never a private member (``d``)."""
    members: dict[str, Any] = json.loads(key.public_jwk)
    members.pop("d", None)  # never stored, and never published either way
    return {**members, "kid": key.kid, "alg": key.alg, "use": _USE_SIGNATURE}


def verification_key(key: SigningKey) -> Key:
    """``key``'s public part as a joserfc key (verifies only)."""
    from joserfc.jwk import JWKRegistry  # noqa: PLC0415 - imported when needed

    return JWKRegistry.import_key(public_jwk(key))


def signing_key(key: SigningKey, key_encryption_key: bytes) -> Key:
    """``key``'s private part as a joserfc key, unsealed (``KeyDecryptionError`` when it
    does not open with ``key_encryption_key``)."""
    from joserfc.jwk import JWKRegistry  # noqa: PLC0415 - imported when needed

    private = json.loads(unseal(key_encryption_key, key.kid, key.sealed_private_jwk))
    return JWKRegistry.import_key(private)
