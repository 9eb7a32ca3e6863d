"""The ``ClientKeySets`` and ``IssuerKeys`` ports as the served app composes them:
``remote_jwks.ClientKeySets`` and ``remote_jwks.IssuerKeySets``, each built on the first
client assertion that needs it (a client's ``jwks_uri``, a trusted issuer's keys), so
that a server whose clients use secrets (or registered JWK Sets) never loads httpx nor
opens a pool."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from anti_grazer.protocol.models import TrustedIssuer
from anti_grazer.settings import Settings

if TYPE_CHECKING:
    from joserfc.jwk import Key

    from anti_grazer.remote_jwks import ClientKeySets, IssuerKeySets, KeySets

K = TypeVar("K", bound="KeySets")


class _Lazy(Generic[K]):
    """A ``remote_jwks`` key sets object, made by ``make`` when first asked; ``aclose``
    closes its connections, if it was made."""

    def __init__(self, make: Callable[[], K]) -> None:
        self._make = make
        self._key_sets: K | None = None

    def _made(self) -> K:
        if self._key_sets is None:
            self._key_sets = self._make()
        return self._key_sets

    async def aclose(self) -> None:
        if self._key_sets is not None:
            await self._key_sets.aclose()


class LazyClientKeySets(_Lazy["ClientKeySets"]):
    """Clients' ``jwks_uri`` within the ``CLIENT_JWKS_*`` settings' limits."""

    def __init__(self, settings: Settings, monotonic: Callable[[], float] = time.monotonic):
        def make() -> ClientKeySets:
            from anti_grazer.remote_json import JsonOverHttp  # noqa: PLC0415 - see above
            from anti_grazer.remote_jwks import ClientKeySets  # noqa: PLC0415

            return ClientKeySets(
                JsonOverHttp(timeout_seconds=settings.client_jwks_timeout_seconds),
                refresh_interval_seconds=settings.client_jwks_refresh_interval_seconds,
                max_age_seconds=settings.client_jwks_max_age_seconds,
                monotonic=monotonic,
            )

        super().__init__(make)

    async def key_for(self, jwks_uri: str, kid: str | None) -> Key | None:
        return await self._made().key_for(jwks_uri, kid)


class LazyIssuerKeySets(_Lazy["IssuerKeySets"]):
    """Trusted issuers' keys, each fetch within ``FEDERATION_TIMEOUT_SECONDS``."""

    def __init__(self, settings: Settings, monotonic: Callable[[], float] = time.monotonic):
        def make() -> IssuerKeySets:
            from anti_grazer.remote_json import JsonOverHttp  # noqa: PLC0415 - see above
            from anti_grazer.remote_jwks import IssuerKeySets  # noqa: PLC0415

            remote = JsonOverHttp(timeout_seconds=settings.federation_timeout_seconds)
            return IssuerKeySets(remote, monotonic=monotonic)

        super().__init__(make)

    async def key_for(self, issuer: TrustedIssuer, kid: str | None) -> Key | None:
        return await self._made().key_for(issuer, kid)
