"""A workload's platform token as the federation reads and checks it: a JWT (RFC 7519)
used for client authentication (RFC 7521 §4.2, RFC 7523 §2.2), checked as RFC 7523 §3
asks, against a trusted issuer (``TrustedIssuer``) instead of the client itself.

- ``read_token``: a JWS in compact serialization (RFC 7515 §7.1) whose payload is a JSON
  object; its header names an allowed ``alg`` (``FEDERATION_ALGORITHMS``: never ``none``
  nor a MAC, RFC 7523 §3 item 9 "MUST be digitally signed") and no ``crit`` (RFC 7515
  §4.1.11: we understand no extension, so one marked critical is refused).  Nothing is
  trusted yet.
- ``verify_signature``: the signature, with the issuer's key that the ``kid`` names and
  only that.  ``jku``, ``x5u``, ``jwk`` and ``x5c`` (RFC 7515 §4.1.2-4.1.6) are never
  followed nor used: a key the token brings along proves nothing.
- ``check_claims``: ``iss`` exactly the issuer (RFC 7523 §3 item 1), ``aud`` naming its
  configured audience (item 3), ``exp`` required and not passed (item 4), ``nbf`` not in
  the future (item 5), ``iat`` required, not in the future, and at most ``max_age`` old
  (item 6: "MAY reject JWTs with an iat claim value that is unreasonably far in the
  past"; a Kubernetes token is valid for an hour and replayable within it).

The time checks allow ``leeway`` for clock skew (RFC 7519 §4.1.4-4.1.5).  Every refusal
is a ``RefusedTokenError`` whose message is for the operator's log: it names what failed,
never the token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from anti_grazer.protocol.jwt_claims import audience_contains, numeric_date
from anti_grazer.protocol.models import TrustedIssuer
from anti_grazer.protocol.signing_keys import jws_registry

if TYPE_CHECKING:
    from joserfc.jwk import Key
    from joserfc.jws import JWSRegistry

# The allow-list: ECDSA P-256, Ed25519/Ed448, and RSA (PSS or PKCS#1 v1.5) with SHA-256,
# the algorithms Kubernetes, GitHub Actions and the clouds' issuers sign with.
FEDERATION_ALGORITHMS = ("ES256", "EdDSA", "PS256", "RS256")
MIN_RSA_KEY_BITS = 2048
# Platform tokens are 1-2 KB (a Kubernetes service-account token, a GitHub Actions
# token); the request body limit bounds them anyway.
MAX_TOKEN_LENGTH = 8192
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_SHOWN_LENGTH = 200


class RefusedTokenError(Exception):
    """The token does not authenticate; the message says why (for the log only)."""


def shown(value: object) -> str:
    """A claim or header value as a log line may show it: a string cut to a few hundred
    characters, anything else by its type (``(none)`` when absent)."""
    if isinstance(value, str):
        return repr(value[:_SHOWN_LENGTH])
    return "(none)" if value is None else type(value).__name__


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """A token as presented, read but not verified: its JOSE header and its claims
    (trusted only once ``verify_signature`` has passed: they are the signed bytes)."""

    header: Mapping[str, object]
    claims: Mapping[str, object]
    compact: bytes = field(repr=False)

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def _registry() -> JWSRegistry:
    """Our allow-list; header parameters joserfc does not know are ignored (RFC 7515 §4)."""
    return jws_registry(FEDERATION_ALGORITHMS, strict_header=False)


def read_token(text: str) -> PresentedToken:
    """The header and claims of ``text``, a JWS in compact serialization whose header is
    acceptable (module docstring), or ``RefusedTokenError``."""
    # joserfc is imported here, not with the module: a server whose clients all use
    # secrets never loads it (protocol.signing_keys).
    from joserfc.errors import JoseError  # noqa: PLC0415
    from joserfc.jws import extract_compact  # noqa: PLC0415

    if len(text) > MAX_TOKEN_LENGTH:
        raise RefusedTokenError(f"the token is longer than {MAX_TOKEN_LENGTH} characters")
    if text.count(".") != 2 or not _BASE64URL.issuperset(text):
        raise RefusedTokenError("not a JWS in compact serialization")
    try:
        extracted = extract_compact(text.encode("ascii"), registry=_registry())
        header = extracted.headers()
        claims = json.loads(extracted.payload)
    except (JoseError, ValueError, TypeError, RecursionError):
        # RecursionError: JSON of thousands of nested arrays.
        raise RefusedTokenError("not a JWS with a JSON header and payload") from None
    if not isinstance(claims, dict):
        raise RefusedTokenError("the payload is not a JSON object (RFC 7519 §7.2)")
    alg = header.get("alg")
    if alg not in FEDERATION_ALGORITHMS:
        raise RefusedTokenError(f"alg {shown(alg)} is not allowed")
    if "crit" in header:
        raise RefusedTokenError("the header has crit: no extension is understood")
    if "kid" in header and not isinstance(header["kid"], str):
        raise RefusedTokenError("kid is not a string")
    return PresentedToken(header, claims, text.encode("ascii"))


def verify_signature(token: PresentedToken, key: Key) -> None:
    """The token's signature verifies under its ``alg`` with ``key`` (the issuer's, its
    type that of the algorithm; an RSA key at least ``MIN_RSA_KEY_BITS`` long)."""
    from joserfc.errors import JoseError  # noqa: PLC0415 - read_token says why
    from joserfc.jwk import RSAKey  # noqa: PLC0415
    from joserfc.jws import deserialize_compact  # noqa: PLC0415

    if isinstance(key, RSAKey) and key.raw_value.key_size < MIN_RSA_KEY_BITS:
        raise RefusedTokenError(f"the issuer's RSA key is shorter than {MIN_RSA_KEY_BITS} bits")
    try:
        deserialize_compact(token.compact, key, registry=_registry())
    except (JoseError, ValueError, TypeError):
        raise RefusedTokenError(
            f"the signature does not verify with the issuer's key {shown(token.kid)}"
        ) from None


@dataclass(frozen=True, slots=True)
class TokenAgePolicy:
    """How old a token may be (from its ``iat``), and the clock skew allowed each way."""

    max_age: timedelta = timedelta(hours=1)
    leeway: timedelta = timedelta(seconds=30)


def _date(claims: Mapping[str, object], name: str) -> datetime | None:
    try:
        return numeric_date(claims.get(name))
    except ValueError:
        raise RefusedTokenError(f"{name} is not a NumericDate") from None


def check_claims(
    claims: Mapping[str, object], trusted: TrustedIssuer, now: datetime, policy: TokenAgePolicy
) -> datetime:
    """RFC 7523 §3 on a verified token's claims (module docstring); its expiry."""
    if claims.get("iss") != trusted.issuer:
        raise RefusedTokenError(f"iss {shown(claims.get('iss'))} is not the issuer")
    if not audience_contains(claims.get("aud"), trusted.audience):
        raise RefusedTokenError(f"aud does not name the audience {trusted.audience!r}")
    expires_at = _date(claims, "exp")
    if expires_at is None:
        raise RefusedTokenError("the token has no exp")
    if now >= expires_at + policy.leeway:
        raise RefusedTokenError(f"the token expired at {expires_at.isoformat()}")
    not_before = _date(claims, "nbf")
    if not_before is not None and not_before > now + policy.leeway:
        raise RefusedTokenError(f"the token is not valid before {not_before.isoformat()}")
    issued_at = _date(claims, "iat")
    if issued_at is None:
        raise RefusedTokenError("the token has no iat: its age is unknown")
    if issued_at > now + policy.leeway:
        raise RefusedTokenError(f"the token is issued in the future ({issued_at.isoformat()})")
    if now - issued_at > policy.max_age:
        raise RefusedTokenError(
            f"the token was issued at {issued_at.isoformat()}, more than "
            f"{int(policy.max_age.total_seconds())} s ago"
        )
    return expires_at
