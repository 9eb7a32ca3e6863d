"""Verifying access tokens by asking the authorization server (RFC 7662 token
introspection), for APIs that do not share its database; answers cached for a few
seconds."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from anti_grazer.guard.remote import (
    DEFAULT_TIMEOUT_SECONDS,
    AuthorizationServer,
    JsonObject,
    RemoteVerifier,
    basic_authorization,
    check_issuer,
    check_url,
    unavailable,
)
from anti_grazer.protocol.audience import audience_contains
from anti_grazer.protocol.claims import claimed_scope, non_empty_string, numeric_date
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.errors import InvalidScopeError, InvalidTokenError
from anti_grazer.protocol.models import Principal
from anti_grazer.protocol.ports import Clock
from anti_grazer.ttl_cache import TtlCache

# A longer bearer value is refused here, not sent: it is no access token (ours are under
# 100 characters, JWT access tokens under 2 KB), and the introspection endpoint would
# refuse the form as too large, which would read as "the server is unavailable".
MAX_TOKEN_LENGTH = 4096
DEFAULT_CACHE_TTL_SECONDS = 5.0
DEFAULT_CACHE_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Inactive:
    """A cached "not active" answer (the cache keeps no None)."""


_INACTIVE = _Inactive()
Answer = Principal | _Inactive


class IntrospectionVerifier(RemoteVerifier):
    """A ``TokenVerifier`` that asks the authorization server's introspection endpoint
    (RFC 7662 §2) about each token, as a resource-server client (on Anti Grazer, one
    created with ``clients create NAME --introspect``) authenticated with HTTP Basic (RFC
    6749 §2.3.1).

    ``endpoint`` is the introspection endpoint; or give ``issuer`` and it is found in the
    issuer's metadata (RFC 8414 ``introspection_endpoint``).  With ``audience``, the
    identifier of the API it protects, a token whose ``aud`` does not name it (a string,
    or an array holding it; absent names nothing) is refused, ``invalid_token``, as
    ``JwtVerifier`` refuses one (RFC 9700 §2.3; RFC 8707 §2 resource indicators).

    Answers, "not active" included, are kept for at most ``cache_ttl_seconds`` (0: none),
    and never past the token's ``exp``: a token revoked at the authorization server is
    refused here at the latest that long after.  At most ``cache_max_entries`` answers are
    kept, each under a SHA-256 digest of its token, never the token.  Concurrent requests
    with one token share one introspection request.  The authorization server unreachable,
    slower than ``timeout_seconds``, or answering anything but a 200 JSON object with a
    boolean ``active`` is ``TemporarilyUnavailableError`` (503); nothing is cached then."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        issuer: str | None = None,
        endpoint: str | None = None,
        audience: str | None = None,
        cache_ttl_seconds: float = DEFAULT_CACHE_TTL_SECONDS,
        cache_max_entries: int = DEFAULT_CACHE_MAX_ENTRIES,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        allow_insecure_http: bool = False,
        clock: Clock | None = None,
        http_client: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if (issuer is None) == (endpoint is None):
            raise ValueError("give the introspection endpoint or the issuer, not both")
        self.issuer = issuer and check_issuer(issuer, allow_insecure_http=allow_insecure_http)
        self.endpoint = endpoint and check_url(
            endpoint, "endpoint", allow_insecure_http=allow_insecure_http
        )
        self.audience = audience
        self.clock = clock or SystemClock()
        self.remote = AuthorizationServer(
            timeout_seconds=timeout_seconds,
            http_client=http_client,
            allow_insecure_http=allow_insecure_http,
        )
        self._authorization = basic_authorization(client_id, client_secret)
        self.cache: TtlCache[Answer] = TtlCache(cache_ttl_seconds, cache_max_entries, monotonic)

    async def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidTokenError()  # no token of any server we know is this long
        key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        answer = await self.cache.get_or_load(key, lambda: self._introspect(token))
        if not isinstance(answer, Principal):
            raise InvalidTokenError()
        if answer.expires_at is not None and answer.expires_at <= self.clock.now():
            raise InvalidTokenError()  # a cached answer never outlives the token
        return answer

    async def _introspect(self, token: str) -> Answer:
        """RFC 7662 §2.1: POST ``token`` (with the hint ``access_token``) as a form."""
        if self.endpoint is not None:
            endpoint = self.endpoint
        else:
            assert self.issuer is not None
            endpoint = await self.remote.endpoint(self.issuer, "introspection_endpoint")
        form = {"token": token, "token_type_hint": "access_token"}
        answer = await self.remote.post_form(endpoint, form, self._authorization)
        return self._read(answer, endpoint)

    def _read(self, answer: JsonObject, endpoint: str) -> Answer:
        """RFC 7662 §2.2: ``active`` is REQUIRED and boolean; an active token is refused
        here too if it expired (``exp``), is not a bearer token (``token_type``), or is
        not for ``audience`` (``aud``)."""
        active = answer.get("active")
        if not isinstance(active, bool):
            raise unavailable("introspection answer without a boolean active", endpoint)
        if not active:
            return _INACTIVE
        token_type = answer.get("token_type")
        if token_type is not None and (
            not isinstance(token_type, str) or token_type.lower() != "bearer"
        ):
            return _INACTIVE
        if self.audience is not None and not audience_contains(answer.get("aud"), self.audience):
            return _INACTIVE
        try:
            expires_at = numeric_date(answer.get("exp"))
        except ValueError:
            raise unavailable("introspection answer with a malformed exp", endpoint) from None
        if expires_at is not None and expires_at <= self.clock.now():
            return _INACTIVE
        client_id = non_empty_string(answer.get("client_id"))
        if client_id is None:
            raise unavailable("introspection answer without a client_id", endpoint)
        try:
            scopes = claimed_scope(answer.get("scope"))
        except InvalidScopeError:
            raise unavailable("introspection answer with a malformed scope", endpoint) from None
        return Principal(client_id, scopes, expires_at)
