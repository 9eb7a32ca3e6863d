"""The authorization server's signing keys as a resource server keeps them: its JWK Set
(RFC 7517 §5) from the ``jwks_uri`` of its metadata (RFC 8414 §2), held by
``remote_jwks.KeySetCache`` (fetched again when a token names a key it does not hold, at
most once per refresh interval, and when older than its maximum age)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from anti_grazer.guard.remote import AuthorizationServer
from anti_grazer.protocol.errors import InvalidTokenError
from anti_grazer.protocol.jwk_set import signing_keys
from anti_grazer.remote_jwks import (
    DEFAULT_MAX_AGE_SECONDS,
    DEFAULT_REFRESH_INTERVAL_SECONDS,
    KeySetCache,
    fetch_key_set,
)

if TYPE_CHECKING:
    from joserfc.jwk import Key

__all__ = [
    "DEFAULT_MAX_AGE_SECONDS",
    "DEFAULT_REFRESH_INTERVAL_SECONDS",
    "RemoteKeySet",
    "signing_keys",
]


class RemoteKeySet(KeySetCache):
    """The ``issuer``'s signing keys, fetched from the ``jwks_uri`` of its metadata, as
    ``KeySetCache`` holds them."""

    def __init__(
        self,
        remote: AuthorizationServer,
        issuer: str,
        *,
        refresh_interval_seconds: float = DEFAULT_REFRESH_INTERVAL_SECONDS,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            self._fetch_keys,
            refresh_interval_seconds=refresh_interval_seconds,
            max_age_seconds=max_age_seconds,
            monotonic=monotonic,
        )
        self.remote = remote
        self.issuer = issuer

    async def key_for(self, kid: str | None) -> Key:
        """The signing key named ``kid`` (without a ``kid``, the only signing key);
        ``InvalidTokenError`` if the issuer has none such, ``TemporarilyUnavailableError``
        if that cannot be known now."""
        key = await self.find(kid)
        if key is None:
            raise InvalidTokenError()
        return key

    async def _fetch_keys(self) -> list[Key]:
        return await fetch_key_set(self.remote, await self.remote.endpoint(self.issuer, "jwks_uri"))
