"""Client authentication with a JWT signed by the client's private key: ``private_key_jwt``
(RFC 7523 §2.2 and §3, RFC 7521 §4.2), checked with the public keys the client registered
(``Client.jwks``) or publishes (``Client.jwks_uri``, through the ``ClientKeySets`` port).

The assertion's shape, header and signature are checked as every client assertion's
(``protocol.jwt_assertion``); then, in order, each refusal a ``RefusedAssertionError``
(answered ``invalid_client``, RFC 7523 §3.2, RFC 7521 §4.2.1, its reason in the log only):

1. ``iss`` = ``sub`` = the client's id (§3 items 1-2); ``protocol.assertion_methods``
   sends here only an assertion whose ``iss`` is the ``client_id`` sent, if one was;
2. the client: known, enabled, with keys; the key its ``kid`` names (without a ``kid``,
   its only key), fit for the ``alg``; the signature;
3. ``aud`` names the issuer or the token endpoint (§3 item 3), ``exp`` is present and at
   most ``max_lifetime`` ahead (§3 item 4), ``nbf`` and ``iat`` are not in the future
   (items 5-6), each with ``leeway`` for clock skew;
4. ``jti`` (item 7) is remembered until the assertion expires in the store every
   instance shares (``AssertionReplayStore``): a second use is a replay.

joserfc is imported on the first assertion, never with this module (``jwk_set``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from anti_grazer.protocol.audience import audience_contains
from anti_grazer.protocol.claims import non_empty_string
from anti_grazer.protocol.client_auth import AuthenticatedClient
from anti_grazer.protocol.errors import TemporarilyUnavailableError
from anti_grazer.protocol.jwk_set import signing_keys
from anti_grazer.protocol.jwt_assertion import (
    LEEWAY,
    PresentedAssertion,
    RefusedAssertionError,
    checked_expiry,
    replay_key,
    verify_signature,
)
from anti_grazer.protocol.models import PRIVATE_KEY_JWT, Client
from anti_grazer.protocol.ports import AssertionReplayStore, ClientKeySets, ClientStore

if TYPE_CHECKING:
    from joserfc.jwk import Key

MAX_JTI_LENGTH = 256
DEFAULT_MAX_LIFETIME = timedelta(seconds=300)


@dataclass(frozen=True, slots=True)
class AssertionPolicy:
    """What an assertion must say: an ``aud`` among ``audiences`` (the issuer
    identifier and the token endpoint URL), an ``exp`` at most ``max_lifetime`` ahead;
    the time checks allow ``leeway`` each way."""

    audiences: frozenset[str]
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME
    leeway: timedelta = LEEWAY


@lru_cache(maxsize=1024)
def _registered_keys(jwks: str) -> tuple[Key, ...]:
    """The keys of a registered JWK Set (checked at registration), imported once."""
    return tuple(signing_keys(json.loads(jwks)) or ())


def _key_named(keys: tuple[Key, ...], kid: str | None) -> Key | None:
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.kid == kid), None)


def credential_name(kid: str | None) -> str:
    """How the access log names the credential of a ``private_key_jwt`` client."""
    return PRIVATE_KEY_JWT if kid is None else f"{PRIVATE_KEY_JWT}:{kid}"


def _client_id(claims: Mapping[str, object]) -> str:
    """The client the assertion is from (step 1)."""
    issuer = non_empty_string(claims.get("iss"))
    if issuer is None or claims.get("sub") != issuer:
        raise RefusedAssertionError("iss and sub must be the same client id")
    return issuer


class ClientAssertionVerifier:
    """Authenticates clients by ``private_key_jwt`` (module docstring).  ``key_sets``
    fetches keys from a ``jwks_uri`` (None: clients registered with one cannot
    authenticate; their assertions are refused)."""

    def __init__(
        self,
        clients: ClientStore,
        replays: AssertionReplayStore,
        policy: AssertionPolicy,
        key_sets: ClientKeySets | None = None,
    ) -> None:
        self.clients = clients
        self.replays = replays
        self.policy = policy
        self.key_sets = key_sets

    async def authenticate(
        self, assertion: PresentedAssertion, now: datetime
    ) -> AuthenticatedClient:
        """The client that signed ``assertion``, or ``RefusedAssertionError``."""
        claimed = _client_id(assertion.claims)
        try:
            client = await self._client(claimed)
            verify_signature(assertion, await self._key(client, assertion.kid))
            expires_at, jti = self._checked_claims(assertion.claims, now)
            remembered_until = expires_at + self.policy.leeway
            if not await self.replays.remember(replay_key(claimed, jti), remembered_until):
                raise RefusedAssertionError("jti already used (a replay)")
        except RefusedAssertionError as refused:
            refused.client_id = claimed
            raise
        return AuthenticatedClient(client, credential_name(assertion.kid))

    async def _client(self, client_id: str) -> Client:
        client = await self.clients.get_client(client_id)
        if client is None or not client.enabled:
            raise RefusedAssertionError("unknown or disabled client")
        if client.auth_method != PRIVATE_KEY_JWT:
            raise RefusedAssertionError("the client has no keys (it authenticates with a secret)")
        return client

    async def _key(self, client: Client, kid: str | None) -> Key:
        """The client's key named ``kid`` (step 2)."""
        key: Key | None
        if client.jwks is not None:
            key = _key_named(_registered_keys(client.jwks), kid)
        elif client.jwks_uri is not None and self.key_sets is not None:
            try:
                key = await self.key_sets.key_for(client.jwks_uri, kid)
            except TemporarilyUnavailableError:
                raise RefusedAssertionError("the client's jwks_uri could not be fetched") from None
        else:
            key = None
        if key is None:
            raise RefusedAssertionError("no key of the client has this kid")
        return key

    def _checked_claims(self, claims: Mapping[str, object], now: datetime) -> tuple[datetime, str]:
        """Steps 3 and 4: the assertion's expiry and ``jti``."""
        policy = self.policy
        aud = claims.get("aud")
        if not any(audience_contains(aud, audience) for audience in policy.audiences):
            raise RefusedAssertionError("aud names neither the issuer nor the token endpoint")
        expires_at = checked_expiry(claims, now, policy.leeway)
        if expires_at > now + policy.max_lifetime + policy.leeway:
            raise RefusedAssertionError("exp is further ahead than the maximum lifetime")
        jti = non_empty_string(claims.get("jti"))
        if jti is None or len(jti) > MAX_JTI_LENGTH:
            raise RefusedAssertionError("jti is missing or too long")
        return expires_at, jti
