"""The signing keys as a server instance uses them: the published public keys (the JWKS,
RFC 7517 §5, and the keys our guard verifies with) and the active private key that signs
JWT access tokens, read from the ``SigningKeyStore`` at most once per ``ttl_seconds``.

Every instance on one database reads the same keys, so all of them sign with the newly
activated key at most ``ttl_seconds`` after its activation: that is how long instances
may disagree, and why a retired key stays published that much longer
(``protocol.key_admin.KeyPolicy``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anti_grazer.protocol.errors import ServerError
from anti_grazer.protocol.key_encryption import KeyDecryptionError
from anti_grazer.protocol.models import SigningKey
from anti_grazer.protocol.ports import Clock, SigningKeyStore
from anti_grazer.protocol.signing_keys import public_jwk, signing_key, verification_key

if TYPE_CHECKING:
    from joserfc.jwk import Key

KEY_ENCRYPTION_KEY_SETTING = "ANTI_GRAZER_KEY_ENCRYPTION_KEY"


class SigningUnavailableError(ServerError):
    """No JWT access token can be signed now: rendered as a bare ``server_error``
    (DESIGN.md §4.7); ``reason`` tells the operator why, in the log."""


@dataclass(frozen=True, slots=True)
class Signer:
    """The active key, ready to sign."""

    kid: str
    alg: str
    key: Key


class KeyRing:
    """Published and active keys over ``store``; ``key_encryption_key`` (None when the
    setting is unset) unseals the active one.  Unsealed and imported keys are kept by
    kid (a kid names one key for good: it is its thumbprint)."""

    def __init__(
        self,
        store: SigningKeyStore,
        clock: Clock,
        key_encryption_key: bytes | None,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.clock = clock
        self._key_encryption_key = key_encryption_key
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._keys: Sequence[SigningKey] = ()
        self._fresh_until = float("-inf")
        self._loading: asyncio.Future[Sequence[SigningKey]] | None = None
        self._public: dict[str, Key] = {}
        self._private: dict[str, Key] = {}

    @property
    def can_sign(self) -> bool:
        """False when the key-encryption key is not set: no JWT can be issued."""
        return self._key_encryption_key is not None

    async def keys(self) -> Sequence[SigningKey]:
        """Every stored key, as read at most ``ttl_seconds`` ago; concurrent readers of
        an expired list share one read."""
        if self._monotonic() < self._fresh_until:
            return self._keys
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load())
        return await asyncio.shield(self._loading)

    async def _load(self) -> Sequence[SigningKey]:
        try:
            stored = await self.store.list_keys()
        finally:
            self._loading = None
        keys = [key for key in stored if self._is_genuine(key)]
        self._keys = keys
        self._fresh_until = self._monotonic() + self.ttl_seconds
        kids = {key.kid for key in keys}
        for kept in (self._public, self._private):
            for gone in kept.keys() - kids:
                del kept[gone]
        return keys

    def _is_genuine(self, key: SigningKey) -> bool:
        """``key``'s public members hash to its ``kid`` (RFC 7638 §3): a row whose public
        key was swapped in the database is neither published nor trusted."""
        public = self._public.get(key.kid)
        if public is None:
            try:
                public = verification_key(key)
            except Exception:  # any JWK that does not import is no key of ours
                return False
            if public.thumbprint() != key.kid:
                return False
            self._public[key.kid] = public
        return True

    async def published(self) -> list[SigningKey]:
        """The keys verifiers must know now, oldest first."""
        now = self.clock.now()
        return [key for key in await self.keys() if key.is_published(now)]

    async def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWK Set document (RFC 7517 §5): the published keys' public members."""
        return {"keys": [public_jwk(key) for key in await self.published()]}

    async def verification_key(self, kid: str) -> tuple[SigningKey, Key] | None:
        """The published key ``kid`` and its public joserfc key, or None."""
        for key in await self.published():
            if key.kid == kid:
                public = self._public.get(kid)
                if public is None:
                    public = self._public[kid] = verification_key(key)
                return key, public
        return None

    async def signer(self) -> Signer:
        """The active key, unsealed; ``SigningUnavailableError`` without a key-encryption
        key, without an active key, or when it does not open."""
        if self._key_encryption_key is None:
            raise SigningUnavailableError(
                reason=f"JWT access tokens need {KEY_ENCRYPTION_KEY_SETTING}, which is not set"
            )
        active = [key for key in await self.keys() if key.is_active]
        if not active:
            raise SigningUnavailableError(
                reason="no active signing key: run 'anti-grazer keys create' and "
                "'anti-grazer keys activate KID'"
            )
        # Two activations racing may leave two keys active for a moment: the newest signs.
        key = max(active, key=lambda k: (k.activated_at or k.created_at, k.kid))
        private = self._private.get(key.kid)
        if private is None:
            try:
                private = signing_key(key, self._key_encryption_key)
            except KeyDecryptionError as error:
                raise SigningUnavailableError(
                    reason=f"{error} ({KEY_ENCRYPTION_KEY_SETTING} changed?)"
                ) from None
            self._private[key.kid] = private
        return Signer(key.kid, key.alg, private)
