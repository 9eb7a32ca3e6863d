"""The ``ClientKeySets`` port as the served app composes it: ``remote_jwks.ClientKeySets``
built on the first client assertion that needs a ``jwks_uri``, so that a server whose
clients use secrets (or registered JWK Sets) never loads httpx nor opens its pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from anti_grazer.settings import Settings

if TYPE_CHECKING:
    from joserfc.jwk import Key

    from anti_grazer.remote_jwks import ClientKeySets


class LazyClientKeySets:
    """``remote_jwks.ClientKeySets`` with the settings' time limits, made when first
    asked; ``aclose`` closes its connections, if it was made."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._key_sets: ClientKeySets | None = None

    def _made(self) -> ClientKeySets:
        if self._key_sets is None:
            from anti_grazer.remote_json import JsonOverHttp  # noqa: PLC0415
            from anti_grazer.remote_jwks import ClientKeySets  # noqa: PLC0415 - see above

            settings = self.settings
            self._key_sets = ClientKeySets(
                JsonOverHttp(timeout_seconds=settings.client_jwks_timeout_seconds),
                refresh_interval_seconds=settings.client_jwks_refresh_interval_seconds,
                max_age_seconds=settings.client_jwks_max_age_seconds,
            )
        return self._key_sets

    async def key_for(self, jwks_uri: str, kid: str | None) -> Key | None:
        return await self._made().key_for(jwks_uri, kid)

    async def aclose(self) -> None:
        if self._key_sets is not None:
            await self._key_sets.aclose()
