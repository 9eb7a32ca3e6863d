"""Client administration: registration with a server-generated secret or with public
keys (``private_key_jwt``), changes to its settings, secret rotation, key replacement,
enabling and disabling (DESIGN.md §4.1: secrets are generated, shown once, stored as
digests)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypedDict, Unpack

from anti_grazer.protocol.audience import audience_problem
from anti_grazer.protocol.errors import InvalidScopeError
from anti_grazer.protocol.jwk_set import JwkSetError, check_jwks_uri, checked_client_jwks
from anti_grazer.protocol.models import (
    BURST_PER_MINUTE,
    LIMIT_NAMES,
    NEW_REPORTERS_PER_DAY,
    NO_CLIENT_LIMITS,
    OPAQUE,
    PRIVATE_KEY_JWT,
    REQUESTS_PER_HOUR,
    TOKEN_FORMATS,
    TOKENS_PER_DAY,
    TOKENS_PER_HOUR,
    Client,
    ClientLimits,
    ClientSecret,
    Scopes,
)
from anti_grazer.protocol.ports import ClientStore, Clock, TokenStore
from anti_grazer.protocol.scope import parse_scope
from anti_grazer.protocol.tokens import (
    client_secret_digest,
    generate_client_id,
    generate_client_secret,
    generate_secret_id,
)

# How long a rotated-out secret keeps working unless told otherwise: a day for every
# deployment that holds the old one to pick up the new.
DEFAULT_OVERLAP = timedelta(hours=24)
_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class ClientConfigError(ValueError):
    """A client's configuration is inconsistent (bad scope, default outside allowed...)."""


def parse_scope_option(value: str | None) -> Scopes:
    """A scope option as given by an operator (``"a b"``); empty means none."""
    if value is None or not value.strip():
        return frozenset()
    try:
        return parse_scope(" ".join(value.split()))
    except InvalidScopeError:
        raise ClientConfigError(f"invalid scope: {value!r}") from None


def parse_duration(value: str) -> timedelta:
    """An operator's duration: a whole number with an optional unit, ``s`` (the
    default), ``m``, ``h`` or ``d``: ``24h``, ``90m``, ``0``."""
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        raise ClientConfigError(
            f"invalid duration: {value!r} (a whole number and s, m, h or d, e.g. 24h)"
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _new_secret(
    now: datetime, ttl: timedelta | None, created_at: datetime | None = None
) -> tuple[ClientSecret, str]:
    """A new secret issued at ``now`` (recorded as created at ``created_at``, ``now`` by
    default) that expires ``ttl`` after ``now``, and its value."""
    if ttl is not None and ttl <= timedelta(0):
        raise ClientConfigError("the secret TTL must be positive")
    value = generate_client_secret()
    expires_at = now + ttl if ttl is not None else None
    digest = client_secret_digest(value)
    return ClientSecret(generate_secret_id(), digest, created_at or now, expires_at), value


def parse_audiences(values: Iterable[str]) -> tuple[str, ...]:
    """The audiences an operator gives (``--audience``), each once, in order: absolute
    URIs without fragment or query (``protocol.audience.audience_problem``)."""
    audiences = tuple(dict.fromkeys(values))
    for value in audiences:
        problem = audience_problem(value)
        if problem is not None:
            raise ClientConfigError(f"the audience {value!r} {problem}")
    return audiences


def _check(client: Client) -> Client:
    """``client`` if its settings hold together (registration and every change)."""
    if not client.name:
        raise ClientConfigError("the client name must not be empty")
    if not client.default_scopes <= client.allowed_scopes:
        raise ClientConfigError("the default scope must be part of the allowed scope")
    if client.token_ttl_seconds is not None and client.token_ttl_seconds <= 0:
        raise ClientConfigError("the token TTL must be a positive number of seconds")
    if client.token_format not in TOKEN_FORMATS:
        raise ClientConfigError(f"the token format must be one of {', '.join(TOKEN_FORMATS)}")
    if parse_audiences(client.audiences) != client.audiences:
        raise ClientConfigError("an audience is listed twice")
    return client


class ClientOptions(TypedDict, total=False):
    """A new client's settings besides its name, scopes and credentials, each with its
    default when left out: its token lifetime (None: the server's), ``token_format``
    (``opaque`` or ``jwt``, RFC 9068), ``can_introspect`` (a resource server, which may
    introspect any token), ``audiences`` (the resources its token requests may name, RFC
    8707, the first its default) and its own ``limits`` (``changed_limits``)."""

    token_ttl_seconds: int | None
    token_format: str
    can_introspect: bool
    audiences: tuple[str, ...]
    limits: ClientLimits


def _new_client(
    clock: Clock,
    name: str,
    allowed_scopes: Scopes,
    default_scopes: Scopes,
    options: ClientOptions,
) -> Client:
    """A new client's settings, checked (``_check``); no credential yet."""
    now = clock.now()
    return _check(
        Client(
            client_id=generate_client_id(),
            name=name.strip(),
            allowed_scopes=allowed_scopes,
            default_scopes=default_scopes,
            token_ttl_seconds=options.get("token_ttl_seconds"),
            enabled=True,
            created_at=now,
            updated_at=now,
            token_format=options.get("token_format", OPAQUE),
            can_introspect=options.get("can_introspect", False),
            audiences=options.get("audiences", ()),
            limits=options.get("limits", NO_CLIENT_LIMITS),
        )
    )


async def register_client(
    clients: ClientStore,
    clock: Clock,
    name: str,
    allowed_scopes: Scopes,
    default_scopes: Scopes,
    *,
    secret_ttl: timedelta | None = None,
    **options: Unpack[ClientOptions],
) -> tuple[Client, str]:
    """Create a client; return it with its secret, the only time the secret exists.
    An empty ``default_scopes`` is stored as such and means every allowed scope
    (``Client.effective_default_scopes``).  The secret expires after ``secret_ttl`` when
    given; ``options`` are ``ClientOptions``."""
    client = _new_client(clock, name, allowed_scopes, default_scopes, options)
    secret, value = _new_secret(client.created_at, secret_ttl)
    client = replace(client, secrets=(secret,))
    await clients.add_client(client)
    return client, value


def checked_keys(jwks: str | None, jwks_uri: str | None) -> tuple[str | None, str | None]:
    """A client's public keys as given by an operator, exactly one of a JWK Set's JSON
    (``protocol.jwk_set.checked_client_jwks``) and a ``jwks_uri`` (``check_jwks_uri``),
    checked; ``ClientConfigError`` says what is wrong."""
    if (jwks is None) == (jwks_uri is None):
        raise ClientConfigError("give the client's keys either as a JWK Set or as a jwks_uri")
    try:
        if jwks is not None:
            return checked_client_jwks(jwks), None
        return None, check_jwks_uri(jwks_uri or "")
    except JwkSetError as error:
        raise ClientConfigError(str(error)) from None


async def register_key_client(
    clients: ClientStore,
    clock: Clock,
    name: str,
    allowed_scopes: Scopes,
    default_scopes: Scopes,
    *,
    jwks: str | None = None,
    jwks_uri: str | None = None,
    **options: Unpack[ClientOptions],
) -> Client:
    """Create a client that authenticates with ``private_key_jwt`` (RFC 7523 §2.2): its
    public keys (``checked_keys``) and no secret at all.  The other settings are
    ``register_client``'s."""
    keys, uri = checked_keys(jwks, jwks_uri)
    client = _new_client(clock, name, allowed_scopes, default_scopes, options)
    client = replace(client, jwks=keys, jwks_uri=uri)
    await clients.add_client(client)
    return client


async def set_keys(
    clients: ClientStore,
    clock: Clock,
    client: Client,
    *,
    jwks: str | None = None,
    jwks_uri: str | None = None,
) -> Client:
    """Replace the public keys of a ``private_key_jwt`` client (``checked_keys``): the
    next assertion is checked with the new ones (a rotation: publish the new key beside
    the old one, then drop the old one).  A client with a secret keeps its secret: it
    gets no keys (a client has one method; register a new client to change it)."""
    if client.auth_method != PRIVATE_KEY_JWT:
        raise ClientConfigError(
            f"{client.client_id} authenticates with a secret; register a new client "
            "with --jwks-file or --jwks-uri for private_key_jwt"
        )
    keys, uri = checked_keys(jwks, jwks_uri)
    updated = replace(client, jwks=keys, jwks_uri=uri, updated_at=clock.now())
    await clients.update_client(updated)
    return updated


class ClientChanges(TypedDict, total=False):
    """The settings of a client an operator may change (``clients update``)."""

    name: str
    allowed_scopes: Scopes
    default_scopes: Scopes
    token_ttl_seconds: int | None
    token_format: str
    can_introspect: bool
    audiences: tuple[str, ...]


async def change_client(
    clients: ClientStore, clock: Clock, client: Client, **changes: Unpack[ClientChanges]
) -> Client:
    """Change ``client``'s settings, checked as at registration; return it as stored.
    Its tokens keep what they were issued with (their scope, audience and lifetime):
    only new tokens follow the change."""
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    updated = _check(replace(client, **changes, updated_at=clock.now()))
    await clients.update_client(updated)
    return updated


def changed_limits(
    limits: ClientLimits,
    amounts: Mapping[str, int],
    *,
    log_only: Iterable[str] = (),
    enforced: Iterable[str] = (),
    reset: Iterable[str] = (),
) -> ClientLimits:
    """``limits`` changed by an operator: the named limits ``reset`` to the server's
    default amount and mode first, then the given ``amounts`` (0: no limit), and the
    limits made ``log_only`` (counted and logged, never refused) or ``enforced``."""
    log_only, enforced, reset = set(log_only), set(enforced), set(reset)
    both = sorted(log_only & enforced)
    if both:
        raise ClientConfigError(f"a limit cannot be both log-only and enforced: {', '.join(both)}")
    if any(amount < 0 for amount in amounts.values()):
        raise ClientConfigError("a limit must be 0 (no limit) or more")
    own = {name: limits.amount(name) for name in LIMIT_NAMES if name not in reset}
    own.update(amounts)
    changed_mode = reset | log_only | enforced
    return ClientLimits(
        tokens_per_hour=own.get(TOKENS_PER_HOUR),
        tokens_per_day=own.get(TOKENS_PER_DAY),
        requests_per_hour=own.get(REQUESTS_PER_HOUR),
        burst_per_minute=own.get(BURST_PER_MINUTE),
        new_reporters_per_day=own.get(NEW_REPORTERS_PER_DAY),
        log_only=frozenset((limits.log_only - changed_mode) | log_only),
        enforced=frozenset((limits.enforced - changed_mode) | enforced),
    )


async def set_client_limits(
    clients: ClientStore, clock: Clock, client: Client, limits: ClientLimits
) -> Client:
    """Give ``client`` its own ``limits``: every server instance counts by them once its
    client cache has the change (at once on PostgreSQL, else within the cache TTL)."""
    now = clock.now()
    if not await clients.set_limits(client.client_id, limits, now):
        raise UnknownClientIdError(client.client_id)
    return replace(client, limits=limits, updated_at=now)


class UnknownClientIdError(LookupError):
    """No client has this id (it was deleted meanwhile)."""


async def rotate_secret(
    clients: ClientStore,
    clock: Clock,
    client: Client,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    secret_ttl: timedelta | None = None,
) -> tuple[ClientSecret, str]:
    """Give ``client`` a new secret; return it (its record and its only copy).

    The previous secret keeps working for ``overlap`` more (never past its own expiry;
    ``0`` ends it at once) so that every holder can switch; an older one still in its
    overlap ends at once: at most ``MAX_LIVE_SECRETS`` are live.  The new secret expires
    after ``secret_ttl`` when given."""
    if client.auth_method == PRIVATE_KEY_JWT:
        raise ClientConfigError(
            f"{client.client_id} authenticates with private_key_jwt: it has no secret "
            "(replace its keys with 'clients set-keys')"
        )
    if overlap < timedelta(0):
        raise ClientConfigError("the overlap must not be negative")
    now = clock.now()
    # Secrets are ordered by creation time: the new one is made the newest even if the
    # clock has not moved since the last (a frozen clock, or coarse clock ticks).
    newest = max((s.created_at for s in client.secrets), default=now)
    created = max(now, newest + timedelta(microseconds=1))
    secret, value = _new_secret(now, secret_ttl, created)
    if not await clients.add_secret(client.client_id, secret, now, now + overlap):
        raise UnknownClientIdError(client.client_id)
    return secret, value


async def retire_previous_secrets(clients: ClientStore, clock: Clock, client: Client) -> int:
    """End the rotation's overlap now: only the newest live secret still authenticates.
    Returns how many secrets ended."""
    return await clients.end_previous_secrets(client.client_id, clock.now())


async def set_enabled(
    clients: ClientStore, tokens: TokenStore, clock: Clock, client: Client, enabled: bool
) -> Client:
    """Enable or disable ``client``.  A disabled client fails authentication like an
    unknown one, and every token it holds is revoked: disabling is a kill switch, and
    re-enabling does not bring old tokens back."""
    updated = replace(client, enabled=enabled, updated_at=clock.now())
    await clients.update_client(updated)
    if not enabled:
        await tokens.revoke_client_tokens(client.client_id, updated.updated_at)
    return updated
