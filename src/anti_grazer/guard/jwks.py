"""The authorization server's signing keys as a resource server keeps them: its JWK Set
(RFC 7517 §5) from the ``jwks_uri`` of its metadata (RFC 8414 §2), kept in memory,
fetched again when a token names a key it does not hold (a key rotation), but at most
once per refresh interval, and when it is older than its maximum age."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from anti_grazer.guard.remote import AuthorizationServer, SharedLoad, unavailable
from anti_grazer.protocol.errors import InvalidTokenError, TemporarilyUnavailableError

logger = logging.getLogger("anti_grazer.guard")

DEFAULT_REFRESH_INTERVAL_SECONDS = 30.0
# The server's own JWKS_MAX_AGE_SECONDS default: a withdrawn key is seen as soon as
# the server lets caches see it.
DEFAULT_MAX_AGE_SECONDS = 300.0


# Public-key types only: a symmetric ("oct") key has no place in a published set.
_PUBLIC_KEY_TYPES = frozenset({"EC", "OKP", "RSA"})


def signing_keys(document: dict[str, object]) -> list[Key] | None:
    """The signature keys of a JWK Set document (RFC 7517 §5), or None if it is not one.
    A key of another type or use (§4.2 ``use`` other than ``sig``), or one that does not
    import, is ignored, as §5 says a key that is not understood SHOULD be."""
    members = document.get("keys")
    if not isinstance(members, list):
        return None
    keys: list[Key] = []
    for member in members:
        if not isinstance(member, dict) or member.get("kty") not in _PUBLIC_KEY_TYPES:
            continue
        if member.get("use", "sig") != "sig":
            continue
        try:
            keys.append(JWKRegistry.import_key(member))
        except (JoseError, ValueError, TypeError):
            continue
    return keys


class RemoteKeySet:
    """The issuer's signing keys, fetched from its ``jwks_uri``.

    A token whose ``kid`` is not held makes one fetch (shared by every request waiting on
    it); the next such fetch comes no sooner than ``refresh_interval_seconds`` later, so a
    flood of tokens naming random keys costs the authorization server one request per
    interval.  Keys older than ``max_age_seconds`` are fetched again (a key withdrawn
    from the set stops verifying within that time); if that fails, the keys held are kept.
    After a failed fetch the next one waits ``retry_after`` seconds (at most the refresh
    interval): meanwhile a token the held keys cannot check is answered 503 at once, not
    after another timeout.  ``jwks_uri``, when given, is the set's URL, and no metadata
    is asked for it."""

    def __init__(
        self,
        remote: AuthorizationServer,
        issuer: str,
        *,
        refresh_interval_seconds: float = DEFAULT_REFRESH_INTERVAL_SECONDS,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        jwks_uri: str | None = None,
    ) -> None:
        self.remote = remote
        self.issuer = issuer
        self.jwks_uri = jwks_uri
        self.refresh_interval_seconds = refresh_interval_seconds
        self.max_age_seconds = max_age_seconds
        self._monotonic = monotonic
        self._keys: list[Key] | None = None
        self._fetched_at = 0.0
        self._next_fetch_at = float("-inf")
        self._failed = False
        self._fetch: SharedLoad[list[Key]] = SharedLoad()

    @property
    def held_keys(self) -> list[Key]:
        """The keys held now (none before the first fetch)."""
        return list(self._keys or [])

    async def key_for(self, kid: str | None) -> Key:
        """The signing key named ``kid`` (without a ``kid``, the only signing key);
        ``InvalidTokenError`` if the issuer has none such, ``TemporarilyUnavailableError``
        if that cannot be known now."""
        now = self._monotonic()
        stale = self._keys is None or now - self._fetched_at >= self.max_age_seconds
        if stale and now >= self._next_fetch_at:
            await self._refresh(keep_on_failure=self._keys is not None)
        key = self._find(kid)
        if key is None and self._monotonic() >= self._next_fetch_at:
            await self._refresh(keep_on_failure=False)  # a rotation: one fetch, then no more
            key = self._find(kid)
        if key is not None:
            return key
        if self._failed:
            raise TemporarilyUnavailableError()
        raise InvalidTokenError()

    def _find(self, kid: str | None) -> Key | None:
        keys = self._keys or []
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.kid == kid), None)

    async def _refresh(self, *, keep_on_failure: bool) -> None:
        try:
            self._keys = await self._fetch.run(self._load)
        except TemporarilyUnavailableError:
            if not keep_on_failure:
                raise
            logger.warning("keeping the signing keys held: their refresh failed")

    async def _load(self) -> list[Key]:
        """One fetch; its time and outcome set when the next may start."""
        try:
            keys = await self._fetch_keys()
        except TemporarilyUnavailableError as error:
            self._failed = True
            backoff = min(self.refresh_interval_seconds, error.retry_after_seconds)
            self._next_fetch_at = self._monotonic() + backoff
            raise
        self._failed = False
        self._fetched_at = self._monotonic()
        self._next_fetch_at = self._fetched_at + self.refresh_interval_seconds
        return keys

    async def _fetch_keys(self) -> list[Key]:
        url = self.jwks_uri or await self.remote.endpoint(self.issuer, "jwks_uri")
        keys = signing_keys(await self.remote.get_json(url))
        if keys is None:
            raise unavailable("not a JWK Set", url)
        return keys
