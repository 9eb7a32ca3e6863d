"""Signing key administration (``anti-grazer keys ...``): rotation with overlap, so that
no verifier ever meets a token signed by a key it cannot find, nor loses a key while a
token it signed is still valid.

- A created key is published (in the JWKS) at once and signs nothing: it is activated
  only once every verifier's cached JWKS holds it (``KeyPolicy.signs_from``).
- Activating a key retires the one that signed before, which stays published until
  every token it signed has expired (``KeyPolicy.published_until``).
- A key that signed can be deleted only after that; the active key never."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from anti_grazer.protocol.key_encryption import KeyDecryptionError
from anti_grazer.protocol.key_ring import KEY_ENCRYPTION_KEY_SETTING
from anti_grazer.protocol.models import ES256, SigningKey
from anti_grazer.protocol.ports import Clock, SigningKeyStore, TokenStore
from anti_grazer.protocol.signing_keys import generate_signing_key, signing_key


class SigningKeyAdminError(ValueError):
    """An operation refused; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """The delays of a rotation, from the settings: tokens live at most
    ``max_token_ttl_seconds``; instances see a change of keys within
    ``cache_ttl_seconds``; verifiers may cache the JWKS for ``jwks_max_age_seconds``."""

    max_token_ttl_seconds: int
    cache_ttl_seconds: float
    jwks_max_age_seconds: int

    def signs_from(self, key: SigningKey) -> datetime:
        """When every verifier knows ``key``: its creation, plus the time our instances
        take to publish it and verifiers to refetch the JWKS."""
        wait = self.jwks_max_age_seconds + self.cache_ttl_seconds
        return key.created_at + timedelta(seconds=wait)

    def published_until(self, retired_at: datetime, *, signed: bool) -> datetime:
        """When the last token of a key retired at ``retired_at`` has expired: instances
        may sign with it for ``cache_ttl_seconds`` more, each token living at most
        ``max_token_ttl_seconds``.  A key that never signed needs no publishing."""
        if not signed:
            return retired_at
        return retired_at + timedelta(seconds=self.max_token_ttl_seconds + self.cache_ttl_seconds)


def find_key(keys: Sequence[SigningKey], kid: str) -> SigningKey:
    """The key ``kid`` among ``keys``."""
    for key in keys:
        if key.kid == kid:
            return key
    raise SigningKeyAdminError(f"no signing key {kid!r}")


def _needs_key_encryption_key(key_encryption_key: bytes | None, action: str) -> bytes:
    if key_encryption_key is None:
        raise SigningKeyAdminError(
            f"{action} needs {KEY_ENCRYPTION_KEY_SETTING} (base64url of 32 random bytes), "
            "which is not set"
        )
    return key_encryption_key


async def create_key(
    store: SigningKeyStore, clock: Clock, key_encryption_key: bytes | None, alg: str = ES256
) -> SigningKey:
    """A new key, published from now, its private part sealed."""
    sealing = _needs_key_encryption_key(key_encryption_key, "creating a signing key")
    key = generate_signing_key(alg, sealing, clock.now())
    await store.add_key(key)
    return key


async def activate_key(
    store: SigningKeyStore,
    clock: Clock,
    policy: KeyPolicy,
    key_encryption_key: bytes | None,
    kid: str,
    *,
    force: bool = False,
) -> SigningKey | None:
    """Make the new key ``kid`` the signer, retiring the previous one (returned, or None
    when there was none).  Refused before ``policy.signs_from`` unless ``force``, and
    when the key does not open with ``key_encryption_key`` (the server could not sign)."""
    now = clock.now()
    keys = await store.list_keys()
    key = find_key(keys, kid)
    state = key.state(now)
    if state == "active":
        raise SigningKeyAdminError(f"{kid} is already the active signing key")
    if state != "new":
        raise SigningKeyAdminError(f"{kid} is retired: a retired key never signs again")
    ready = policy.signs_from(key)
    if now < ready and not force:
        raise SigningKeyAdminError(
            f"{kid} was published at {key.created_at.isoformat()}; verifiers may cache the "
            f"key set until {ready.isoformat()}: activate it then, or give --force"
        )
    opening = _needs_key_encryption_key(key_encryption_key, "activating a signing key")
    try:
        signing_key(key, opening)
    except KeyDecryptionError as error:
        raise SigningKeyAdminError(str(error)) from None
    previous = [other for other in keys if other.is_active]
    if not await store.activate_key(kid, now, policy.published_until(now, signed=True)):
        raise SigningKeyAdminError(f"{kid} changed meanwhile; look again with 'keys list'")
    return max(previous, key=lambda k: k.activated_at or k.created_at) if previous else None


async def retire_key(
    store: SigningKeyStore, clock: Clock, policy: KeyPolicy, kid: str
) -> SigningKey:
    """Withdraw a new key that never signed (it leaves the JWKS at once).  The active
    key is retired by activating its successor, never alone: JWT issuance would stop."""
    now = clock.now()
    key = find_key(await store.list_keys(), kid)
    state = key.state(now)
    if state == "active":
        raise SigningKeyAdminError(
            f"{kid} is the active signing key: activate another key, which retires it"
        )
    if state != "new":
        raise SigningKeyAdminError(f"{kid} is already retired")
    until = policy.published_until(now, signed=False)
    if not await store.retire_key(kid, now, until):
        raise SigningKeyAdminError(f"{kid} changed meanwhile; look again with 'keys list'")
    return find_key(await store.list_keys(), kid)


async def withdraw_key(store: SigningKeyStore, clock: Clock, kid: str) -> SigningKey:
    """Stop publishing ``kid`` at once, its private key being compromised: tokens it
    signed stop verifying (our guard and introspection within the key cache's TTL,
    other verifiers at their next key-set refresh).  Not the active key: activate a
    successor first, which retires it."""
    now = clock.now()
    key = find_key(await store.list_keys(), kid)
    state = key.state(now)
    if state == "active":
        raise SigningKeyAdminError(
            f"{kid} is the active signing key: activate another key first (--force if "
            "verifiers may not know it yet), then withdraw this one"
        )
    if state == "expired":
        raise SigningKeyAdminError(f"{kid} is no longer published")
    withdrawn = (
        await store.retire_key(kid, now, now)
        if state == "new"
        else await store.withdraw_key(kid, now)
    )
    if not withdrawn:
        raise SigningKeyAdminError(f"{kid} changed meanwhile; look again with 'keys list'")
    return find_key(await store.list_keys(), kid)


async def delete_key(
    store: SigningKeyStore, tokens: TokenStore, clock: Clock, policy: KeyPolicy, kid: str
) -> SigningKey:
    """Delete a key no valid token needs: never the active key, a retired one only once
    it is no longer published and no JWT it signed is still valid.  The token records
    decide that last point (the JWTs issued while the key signed, up to
    ``policy.cache_ttl_seconds`` after its retirement): its publication time was
    computed from the settings of whoever retired it, which may not be the server's."""
    now = clock.now()
    key = find_key(await store.list_keys(), kid)
    state = key.state(now)
    if state == "active":
        raise SigningKeyAdminError(f"{kid} is the active signing key: it cannot be deleted")
    if state == "retired" and key.published_until is not None:
        raise SigningKeyAdminError(
            f"tokens signed by {kid} may be valid until {key.published_until.isoformat()}: "
            "delete it after that"
        )
    if key.activated_at is not None and key.retired_at is not None:
        signed_until = key.retired_at + timedelta(seconds=policy.cache_ttl_seconds)
        last = await tokens.last_jwt_expiry(key.activated_at, signed_until)
        if last is not None and last > now:
            raise SigningKeyAdminError(
                f"a token signed by {kid} is valid until {last.isoformat()}: delete it after that"
            )
    await store.delete_key(kid)
    return key


async def ensure_first_key(
    store: SigningKeyStore, clock: Clock, policy: KeyPolicy, key_encryption_key: bytes
) -> SigningKey | None:
    """With no key at all (a new database), create an ES256 key and activate it at once:
    no verifier can hold a stale key set of a server that never had a key.  None when
    there are keys already."""
    if await store.list_keys():
        return None
    key = await create_key(store, clock, key_encryption_key)
    await activate_key(store, clock, policy, key_encryption_key, key.kid, force=True)
    return key
