"""Verifying JWT access tokens (RFC 9068) offline, with the issuer's published keys, for
APIs that do not share the authorization server's database."""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import Key

from anti_grazer.guard.jwks import (
    DEFAULT_MAX_AGE_SECONDS,
    DEFAULT_REFRESH_INTERVAL_SECONDS,
    RemoteKeySet,
)
from anti_grazer.guard.remote import (
    DEFAULT_TIMEOUT_SECONDS,
    AuthorizationServer,
    RemoteVerifier,
    check_issuer,
)
from anti_grazer.protocol.audience import audience_contains
from anti_grazer.protocol.claims import claimed_scope, non_empty_string, numeric_date
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.errors import InvalidScopeError, InvalidTokenError
from anti_grazer.protocol.models import Principal
from anti_grazer.protocol.ports import Clock
from anti_grazer.ttl_cache import TtlCache

logger = logging.getLogger("anti_grazer.guard")

DEFAULT_ALGORITHMS = ("ES256", "EdDSA")
# RFC 9068 §4: "MUST NOT be 'none'"; and no MAC algorithm (HS256 ...): the key would be
# the authorization server's secret, and a public key taken for one is the classic
# algorithm-confusion forgery.  Only these signature algorithms may be allowed.
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        *("ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448"),
        *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    }
)
# RFC 9068 §4 with RFC 7515 §4.1.9: the media type, case-insensitive, its "application/"
# prefix optional.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
DEFAULT_LEEWAY_SECONDS = 30.0
# How long a verified token's principal is kept (never past its exp), and for how many
# tokens: a client sends one token for its whole life, and its signature check (ECDSA
# P-256 through joserfc) costs more than the rest of a small request.
DEFAULT_VERIFIED_CACHE_SECONDS = 60.0
DEFAULT_VERIFIED_CACHE_MAX_ENTRIES = 10_000


class _RefusedError(Exception):
    """Why a token is refused: logged at debug level, answered ``invalid_token``."""


def _check_algorithms(algorithms: Collection[str]) -> tuple[str, ...]:
    allowed = tuple(algorithms)
    if not allowed or not set(allowed) <= ASYMMETRIC_ALGORITHMS & set(jws.JWSRegistry.algorithms):
        raise ValueError(f"algorithms must be among {sorted(ASYMMETRIC_ALGORITHMS)}")
    return allowed


class JwtVerifier(RemoteVerifier):
    """A ``TokenVerifier`` for JWT access tokens (RFC 9068 §4), checked with the
    ``issuer``'s keys: the keys' URL (``jwks_uri``) comes from the issuer's metadata
    (RFC 8414), asked on first use; the keys are held as ``RemoteKeySet`` says.

    A token is accepted when its header says ``typ`` ``at+jwt`` and an ``alg`` of
    ``algorithms`` (ES256 and EdDSA by default; never ``none`` or a MAC), its signature
    verifies with the issuer's key named by its ``kid``, ``iss`` is ``issuer`` exactly,
    ``aud`` names ``audience`` (the API it protects: a string, or an array holding it,
    checked as ``IntrospectionVerifier`` checks it; RFC 9700 §2.3), it has not expired
    (``exp`` is required), ``nbf`` and
    ``iat`` are not in the future, and it names ``sub`` and ``client_id``.  The time
    checks allow ``leeway_seconds`` (30 s: RFC 7519 §4.1.4 "some small leeway, usually no
    more than a few minutes, to account for clock skew") each way.

    A token is checked offline: one revoked at the authorization server is accepted
    here until it expires; use ``IntrospectionVerifier`` where revocation must count at
    once.  A token that passed is remembered (under its SHA-256, never past its ``exp``)
    for ``verified_cache_seconds`` (60 s; 0: none), for at most
    ``verified_cache_max_entries`` tokens: only the time checks run again then, so a key
    withdrawn from the key set stops being trusted for its tokens already seen at most
    that long later.  A refused token is never remembered."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
        jwks_refresh_interval_seconds: float = DEFAULT_REFRESH_INTERVAL_SECONDS,
        jwks_max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        allow_insecure_http: bool = False,
        clock: Clock | None = None,
        http_client: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        verified_cache_seconds: float = DEFAULT_VERIFIED_CACHE_SECONDS,
        verified_cache_max_entries: int = DEFAULT_VERIFIED_CACHE_MAX_ENTRIES,
    ) -> None:
        self.issuer = check_issuer(issuer, allow_insecure_http=allow_insecure_http)
        self.verified: TtlCache[Principal] = TtlCache(
            verified_cache_seconds, verified_cache_max_entries, monotonic
        )
        self.audience = audience
        self.algorithms = _check_algorithms(algorithms)
        self.leeway = timedelta(seconds=leeway_seconds)
        self.clock = clock or SystemClock()
        self.remote = AuthorizationServer(
            timeout_seconds=timeout_seconds,
            http_client=http_client,
            allow_insecure_http=allow_insecure_http,
        )
        self.keys = RemoteKeySet(
            self.remote,
            self.issuer,
            refresh_interval_seconds=jwks_refresh_interval_seconds,
            max_age_seconds=jwks_max_age_seconds,
            monotonic=monotonic,
        )

    async def verify(self, token: str) -> Principal:
        cache_key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        try:
            principal = self.verified.get(cache_key)
            if principal is None:
                principal = await self._verify(token)
                self.verified.put(cache_key, principal)
            elif self._has_expired(principal.expires_at):
                raise _RefusedError("exp")
            return principal
        except _RefusedError as refused:
            logger.debug("JWT access token refused", extra={"reason": str(refused)})
            raise InvalidTokenError() from None

    async def _verify(self, token: str) -> Principal:
        header = self._header(token)
        key = await self.keys.key_for(_optional_string(header, "kid"))
        claims = self._verified_claims(token, key, header["alg"])
        return self._principal(claims)

    def _has_expired(self, expires_at: datetime | None) -> bool:
        return expires_at is None or self.clock.now() >= expires_at + self.leeway

    def _header(self, token: str) -> Mapping[str, object]:
        """RFC 9068 §4 on the JOSE header, before any key is looked for: a JWS in
        compact form (never a JWE: ``at+jwt`` tokens are signed), ``typ`` ``at+jwt``,
        ``alg`` allowed."""
        if token.count(".") != 2:
            raise _RefusedError("not a JWS compact serialization")
        try:
            header: Mapping[str, object] = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, TypeError):
            raise _RefusedError("not a JWS") from None
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise _RefusedError("typ")
        if header.get("alg") not in self.algorithms:
            raise _RefusedError("alg")
        return header

    def _verified_claims(self, token: str, key: Key, alg: object) -> Mapping[str, object]:
        """The claims, once the signature verifies with ``key`` under ``alg`` (and the
        key itself may be used with it: RFC 7517 §4.4 ``alg``)."""
        if key.alg is not None and key.alg != alg:
            raise _RefusedError("the key is for another alg")
        try:
            with warnings.catch_warnings():
                # joserfc warns on every use of "EdDSA" (deprecated by RFC 9864 for
                # "Ed25519"); accepting it is this verifier's configured choice.
                warnings.simplefilter("ignore", SecurityWarning)
                return jwt.decode(token, key, algorithms=self.algorithms).claims
        except (JoseError, ValueError, TypeError):
            raise _RefusedError("signature") from None

    def _principal(self, claims: Mapping[str, object]) -> Principal:
        """RFC 9068 §4 on the claims (with §2.2's required ``sub`` and ``client_id``)."""
        if claims.get("iss") != self.issuer:
            raise _RefusedError("iss")
        if not audience_contains(claims.get("aud"), self.audience):
            raise _RefusedError("aud")
        now = self.clock.now()
        expires_at = _date(claims, "exp")
        if self._has_expired(expires_at):
            raise _RefusedError("exp")
        for name in ("nbf", "iat"):
            moment = _date(claims, name)
            if moment is not None and moment > now + self.leeway:
                raise _RefusedError(name)
        client_id = non_empty_string(claims.get("client_id"))
        if client_id is None or non_empty_string(claims.get("sub")) is None:
            raise _RefusedError("sub or client_id")
        try:
            scopes = claimed_scope(claims.get("scope"))
        except InvalidScopeError:
            raise _RefusedError("scope") from None
        return Principal(client_id, scopes, expires_at)


def _optional_string(header: Mapping[str, object], name: str) -> str | None:
    value = header.get(name)
    if value is not None and not isinstance(value, str):
        raise _RefusedError(name)
    return value


def _date(claims: Mapping[str, object], name: str) -> datetime | None:
    try:
        return numeric_date(claims.get(name))
    except ValueError:
        raise _RefusedError(name) from None
