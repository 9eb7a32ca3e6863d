"""Client authentication with a JWT signed by the client's private key: ``private_key_jwt``
(RFC 7523 §2.2 and §3, RFC 7521 §4.2), checked with the public keys the client registered
(``Client.jwks``) or publishes (``Client.jwks_uri``, through the ``ClientKeySets`` port).

The checks, in order, each refusing with the same ``invalid_client`` (RFC 7523 §3.2,
RFC 7521 §4.2.1) and its reason in the log only (never the assertion):

1. the shape: a JWS in compact form (never a JWE, nor a nested JWT: ``cty``) of at most
   ``MAX_ASSERTION_LENGTH`` characters, a JSON object for a payload;
2. the header: ``alg`` from ``CLIENT_ASSERTION_ALGORITHMS`` (never ``none`` or a MAC),
   no ``crit`` (no extension is understood here, RFC 7515 §4.1.11), and no ``jku``,
   ``x5u``, ``jwk`` or ``x5c``: the keys are the client's registered ones, never one the
   assertion points to or carries (those are refused, never fetched);
3. ``iss`` = ``sub`` = the client's id (§3 items 1-2), = ``client_id`` when sent;
4. the client: known, enabled, with keys; the key its ``kid`` names (without a ``kid``,
   its only key), fit for the ``alg`` (``protocol.jwk_set.fits``); the signature;
5. ``aud`` names the issuer or the token endpoint (§3 item 3), ``exp`` is present and at
   most ``max_lifetime`` ahead (§3 item 4), ``nbf`` and ``iat`` are not in the future
   (items 5-6), each with ``leeway`` for clock skew;
6. ``jti`` (item 7) is remembered until the assertion expires in the store every
   instance shares (``AssertionReplayStore``): a second use is a replay.

joserfc is imported on the first assertion, never with this module (``jwk_set``)."""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from anti_grazer.protocol.audience import audience_contains
from anti_grazer.protocol.claims import non_empty_string, numeric_date
from anti_grazer.protocol.client_auth import AuthenticatedClient, ClientAssertion
from anti_grazer.protocol.errors import InvalidClientError, TemporarilyUnavailableError
from anti_grazer.protocol.jwk_set import CLIENT_ASSERTION_ALGORITHMS, fits, signing_keys
from anti_grazer.protocol.models import PRIVATE_KEY_JWT, Client
from anti_grazer.protocol.ports import AssertionReplayStore, ClientKeySets, ClientStore
from anti_grazer.protocol.signing_keys import jws_registry

if TYPE_CHECKING:
    from joserfc.jwk import Key

logger = logging.getLogger("anti_grazer.protocol")

# An assertion is a few hundred bytes (an RSA-4096 signature alone is 683 characters):
# anything longer is refused before any parsing.
MAX_ASSERTION_LENGTH = 8192
MAX_JTI_LENGTH = 256
DEFAULT_MAX_LIFETIME = timedelta(seconds=300)
# RFC 7519 §4.1.4: "some small leeway, usually no more than a few minutes".
LEEWAY = timedelta(seconds=60)
# Header members that would make the key (or the processing) the assertion's choice.
_REFUSED_HEADERS = ("crit", "jku", "x5u", "jwk", "x5c", "cty")
_PARSE_ERRORS = (ValueError, TypeError, RecursionError, UnicodeError)


class _RefusedError(Exception):
    """Why an assertion is refused: logged, answered ``invalid_client``."""


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


def replay_key(client_id: str, jti: str) -> str:
    """The key an assertion is remembered by: its client and ``jti``, hashed to a fixed
    length (nothing the client chose is stored as such)."""
    return hashlib.sha256(f"{client_id}\x00{jti}".encode()).hexdigest()


def _parts(assertion: str) -> tuple[Mapping[str, object], Mapping[str, object]]:
    """The header and claims of a JWS in compact form, unverified (step 1)."""
    from joserfc import jws  # noqa: PLC0415 - module docstring
    from joserfc.errors import JoseError  # noqa: PLC0415

    if len(assertion) > MAX_ASSERTION_LENGTH:
        raise _RefusedError("longer than the maximum length")
    if not assertion.isascii() or assertion.count(".") != 2:
        raise _RefusedError("not a JWS in compact serialization")
    try:
        extracted = jws.extract_compact(assertion.encode("ascii"))
        header: object = extracted.headers()
        claims: object = json.loads(extracted.payload)
    except (JoseError, *_PARSE_ERRORS):
        raise _RefusedError("not a JWS with a JSON payload") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _RefusedError("header or payload is not a JSON object")
    return header, claims


def _checked_header(header: Mapping[str, object]) -> tuple[str, str | None]:
    """The ``alg`` and ``kid`` of an acceptable header (step 2)."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in CLIENT_ASSERTION_ALGORITHMS:
        raise _RefusedError("alg not allowed")
    for name in _REFUSED_HEADERS:
        if name in header:
            raise _RefusedError(f"header {name} refused")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _RefusedError("kid is not a string")
    return alg, kid


def _client_id(claims: Mapping[str, object], client_id: str | None) -> str:
    """The client the assertion is from (step 3)."""
    issuer = non_empty_string(claims.get("iss"))
    if issuer is None or claims.get("sub") != issuer:
        raise _RefusedError("iss and sub must be the same client id")
    if client_id is not None and client_id != issuer:
        raise _RefusedError("client_id is not the assertion's iss")
    return issuer


def _verify_signature(assertion: str, key: Key, alg: str) -> None:
    from joserfc import jws  # noqa: PLC0415 - module docstring
    from joserfc.errors import JoseError, SecurityWarning  # noqa: PLC0415

    registry = jws_registry(CLIENT_ASSERTION_ALGORITHMS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            jws.deserialize_compact(assertion, key, algorithms=[alg], registry=registry)
    except (JoseError, *_PARSE_ERRORS):
        raise _RefusedError("signature") from None


def _date(claims: Mapping[str, object], name: str) -> datetime | None:
    try:
        return numeric_date(claims.get(name))
    except ValueError:
        raise _RefusedError(f"{name} is not a NumericDate") from None


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

    async def authenticate(self, presented: ClientAssertion, now: datetime) -> AuthenticatedClient:
        """The client that signed ``presented``, or ``invalid_client``."""
        claimed: str | None = None
        try:
            header, claims = _parts(presented.assertion)
            alg, kid = _checked_header(header)
            claimed = _client_id(claims, presented.client_id)
            client = await self._client(claimed)
            key = await self._key(client, kid)
            if not fits(key, alg):
                raise _RefusedError("the key does not fit alg")
            _verify_signature(presented.assertion, key, alg)
            expires_at, jti = self._checked_claims(claims, now)
            remembered_until = expires_at + self.policy.leeway
            if not await self.replays.remember(replay_key(claimed, jti), remembered_until):
                raise _RefusedError("jti already used (a replay)")
        except _RefusedError as refused:
            logger.warning(
                "client assertion refused",
                extra={"reason": str(refused), "client_id": (claimed or "")[:64] or None},
            )
            raise InvalidClientError() from None
        return AuthenticatedClient(client, credential_name(kid))

    async def _client(self, client_id: str) -> Client:
        client = await self.clients.get_client(client_id)
        if client is None or not client.enabled:
            raise _RefusedError("unknown or disabled client")
        if client.auth_method != PRIVATE_KEY_JWT:
            raise _RefusedError("the client has no keys (it authenticates with a secret)")
        return client

    async def _key(self, client: Client, kid: str | None) -> Key:
        """The client's key named ``kid`` (step 4)."""
        key: Key | None
        if client.jwks is not None:
            key = _key_named(_registered_keys(client.jwks), kid)
        elif client.jwks_uri is not None and self.key_sets is not None:
            try:
                key = await self.key_sets.key_for(client.jwks_uri, kid)
            except TemporarilyUnavailableError:
                raise _RefusedError("the client's jwks_uri could not be fetched") from None
        else:
            key = None
        if key is None:
            raise _RefusedError("no key of the client has this kid")
        return key

    def _checked_claims(self, claims: Mapping[str, object], now: datetime) -> tuple[datetime, str]:
        """Steps 5 and 6: the assertion's expiry and ``jti``."""
        policy = self.policy
        aud = claims.get("aud")
        if not any(audience_contains(aud, audience) for audience in policy.audiences):
            raise _RefusedError("aud names neither the issuer nor the token endpoint")
        expires_at = _date(claims, "exp")
        if expires_at is None:
            raise _RefusedError("exp is missing")
        if now >= expires_at + policy.leeway:
            raise _RefusedError("expired")
        if expires_at > now + policy.max_lifetime + policy.leeway:
            raise _RefusedError("exp is further ahead than the maximum lifetime")
        for name in ("nbf", "iat"):
            moment = _date(claims, name)
            if moment is not None and moment > now + policy.leeway:
                raise _RefusedError(f"{name} is in the future")
        jti = non_empty_string(claims.get("jti"))
        if jti is None or len(jti) > MAX_JTI_LENGTH:
            raise _RefusedError("jti is missing or too long")
        return expires_at, jti
