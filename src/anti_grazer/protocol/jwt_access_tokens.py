"""JWT access tokens (RFC 9068), for clients registered with ``--token-format jwt``:
their claims, signing with the active key, the digest their record is stored under, and
their validation by our own resource server (§4).

Every JWT we issue is recorded like an opaque token (DESIGN.md §4.3), under
``jwt_access_token_digest`` of the whole token string, with its ``jti`` and ``aud``: so
revocation, our guard and introspection find it in the ``TokenStore`` as they find an
opaque token, and a revoked JWT is refused at once by everything that looks it up.  A
verifier that only checks the signature (offline) sees it valid until it expires."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from anti_grazer.protocol.audience import audience_claim, audience_contains
from anti_grazer.protocol.errors import InvalidTokenError
from anti_grazer.protocol.key_ring import KeyRing
from anti_grazer.protocol.models import Client, Scopes, TokenRecord
from anti_grazer.protocol.scope import render_scope
from anti_grazer.protocol.signing_keys import jws_registry
from anti_grazer.protocol.tokens import generate_jti, jwt_access_token_digest

# RFC 9068 §2.1: the "typ" header of a JWT access token; §4 also accepts the full media
# type.
AT_JWT = "at+jwt"
_ACCEPTED_TYPES = frozenset({AT_JWT, "application/at+jwt"})
# Longer than any JWT we issue (about 500 characters) with room to spare; the request
# body limit bounds what reaches us anyway.
MAX_JWT_LENGTH = 4096
# A NumericDate (RFC 7519 §2) we could have written: after 1970, before the year 5138.
_LATEST_ISSUE_TIME = 10**11
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def jwt_claims(record: TokenRecord, issuer: str) -> dict[str, Any]:
    """The claims of the JWT access token ``record`` was stored for (RFC 9068 §2.2):
    ``iss``, ``exp``, ``aud`` (one string, or an array of several: ``audience_claim``),
    ``sub`` and ``client_id`` (the client: no user acts in the client_credentials grant,
    §2.2.2), ``iat``, ``nbf`` (= ``iat``), ``jti`` and, when the token has any,
    ``scope`` (§2.2.3).  The token carries exactly these, so introspection can answer
    with them."""
    if record.jti is None or not record.audience:
        raise ValueError("not the record of a JWT access token")
    claims: dict[str, Any] = {
        "iss": issuer,
        "exp": _seconds(record.expires_at),
        "aud": audience_claim(record.audience),
        "sub": record.client_id,
        "client_id": record.client_id,
        "iat": _seconds(record.issued_at),
        "nbf": _seconds(record.issued_at),
        "jti": record.jti,
    }
    if record.scopes:
        claims["scope"] = render_scope(record.scopes)
    return claims


def looks_like_jwt(token: str) -> bool:
    """Cheap shape check before any parsing: three base64url segments (RFC 7515 §7.1)."""
    return (
        len(token) <= MAX_JWT_LENGTH
        and token.count(".") == 2
        and token.startswith("eyJ")
        and _BASE64URL.issuperset(token)
    )


def _issue_time(claims: object) -> int | None:
    iat = claims.get("iat") if isinstance(claims, dict) else None
    if isinstance(iat, int) and not isinstance(iat, bool) and 0 <= iat < _LATEST_ISSUE_TIME:
        return iat
    return None


def presented_jwt_digest(token: str) -> str | None:
    """The digest a JWT we issued is stored under, from the token alone: no signature
    check, no key needed (revocation works whatever the keys and settings).  A forged or
    altered token gets a digest that matches no record; None when ``token`` is no JWT."""
    if not looks_like_jwt(token):
        return None
    from joserfc.errors import JoseError  # noqa: PLC0415 - signing_keys says why
    from joserfc.jws import extract_compact  # noqa: PLC0415

    try:
        payload = extract_compact(token.encode("ascii")).payload
        iat = _issue_time(json.loads(payload))
    except (JoseError, ValueError, TypeError, RecursionError):
        # RecursionError: a payload of thousands of nested arrays, which no JWT of ours is.
        return None
    return None if iat is None else jwt_access_token_digest(token, iat)


class JwtAccessTokens:
    """Issues JWT access tokens signed by the ring's active key, for ``issuer``; their
    ``aud`` is the audience granted (``protocol.audience``), else ``audience``, the
    server's default (RFC 9068 §2.2: every JWT access token has one).  The ring's signer
    refuses (``SigningUnavailableError``) when no key can sign."""

    def __init__(self, ring: KeyRing, issuer: str, audience: str) -> None:
        self.ring = ring
        self.issuer = issuer
        self.audience = audience

    async def issue(
        self,
        client: Client,
        scopes: Scopes,
        now: datetime,
        ttl_seconds: int,
        audience: tuple[str, ...] = (),
    ) -> tuple[str, TokenRecord]:
        """A signed token for ``audience`` (the server's default when empty) and the
        record to store for it.  Times are whole seconds, as JWT NumericDates are, so the
        record gives back the token's exact claims."""
        from joserfc.jws import serialize_compact  # noqa: PLC0415 - signing_keys says why

        signer = await self.ring.signer()
        issued_at = now.replace(microsecond=0)
        record = TokenRecord(
            digest="",
            client_id=client.client_id,
            scopes=scopes,
            issued_at=issued_at,
            expires_at=issued_at + timedelta(seconds=ttl_seconds),
            jti=generate_jti(),
            audience=audience or (self.audience,),
        )
        claims = jwt_claims(record, self.issuer)
        header = {"typ": AT_JWT, "alg": signer.alg, "kid": signer.kid}  # RFC 9068 §2.1
        payload = json.dumps(claims, separators=(",", ":")).encode()
        token = serialize_compact(header, payload, signer.key, registry=jws_registry())
        return token, replace(record, digest=jwt_access_token_digest(token, claims["iat"]))


class JwtAccessTokenValidator:
    """RFC 9068 §4 as our resource server applies it before it looks the token's record
    up: ``typ`` is ``at+jwt``, the signature verifies with the published key the ``kid``
    names and with that key's own algorithm, ``iss`` is our issuer and, when the caller
    names one, ``aud`` names its audience.  Expiry and revocation are the record's
    (``StoreTokenVerifier``)."""

    def __init__(self, ring: KeyRing, issuer: str) -> None:
        self.ring = ring
        self.issuer = issuer

    async def digest(self, token: str, audience: str | None = None) -> str:
        """The digest of a valid ``token``'s record, or ``InvalidTokenError``; with
        ``audience``, also for a token whose ``aud`` does not name it (the guard of the
        API ``audience`` identifies; introspection names none)."""
        from joserfc.errors import JoseError  # noqa: PLC0415 - signing_keys says why
        from joserfc.jws import deserialize_compact, extract_compact  # noqa: PLC0415

        try:
            header = extract_compact(token.encode("ascii")).headers()
            kid, typ = header.get("kid"), header.get("typ")
            if typ not in _ACCEPTED_TYPES or not isinstance(kid, str):
                raise InvalidTokenError()
            found = await self.ring.verification_key(kid)
            if found is None or header.get("alg") != found[0].alg:
                raise InvalidTokenError()
            verified = deserialize_compact(
                token, found[1], algorithms=[found[0].alg], registry=jws_registry()
            )
            claims = json.loads(verified.payload)
        except (JoseError, ValueError, TypeError):
            raise InvalidTokenError() from None
        iat = _issue_time(claims)
        if iat is None or claims.get("iss") != self.issuer:
            raise InvalidTokenError()
        if audience is not None and not audience_contains(claims.get("aud"), audience):
            raise InvalidTokenError()
        return jwt_access_token_digest(token, iat)
