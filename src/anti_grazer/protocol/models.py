"""The values the OAuth core works with: clients, token records, responses, principals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anti_grazer.protocol.rate_limits import Usage

Scopes = frozenset[str]

CLIENT_CREDENTIALS = "client_credentials"
BEARER = "Bearer"  # the token type of every access token (RFC 6750)

# The formats of access tokens a client gets (DESIGN.md §4.2): opaque by default, or JWT
# access tokens (RFC 9068) for clients registered with ``--token-format jwt``.
OPAQUE = "opaque"
JWT = "jwt"
TOKEN_FORMATS = (OPAQUE, JWT)

# How a client authenticates (RFC 7591 §2 ``token_endpoint_auth_method``): with a secret
# (HTTP Basic, or client_secret_post as well), or with assertions signed by its private
# key (RFC 7523 §2.2), checked with the public keys it registered.
CLIENT_SECRET_BASIC = "client_secret_basic"
PRIVATE_KEY_JWT = "private_key_jwt"

# A client has at most two live secrets: the current one and, during a rotation's
# overlap, the previous one (a third rotation ends the oldest at once).
MAX_LIVE_SECRETS = 2

# The algorithms our signing keys use (RFC 7518 §3.4 ES256 on P-256; RFC 8037 §3.1
# EdDSA on Ed25519).
ES256 = "ES256"
EDDSA = "EdDSA"
SIGNING_ALGORITHMS = (ES256, EDDSA)

# The limits a client's use is counted against (issue 18 items 1 and 7): token requests
# per hour and per day (as Auth0's machine-to-machine quotas), API requests per hour and
# per minute (the burst), and the new distinct reporters its reports may name per day
# (so that no client invents reporters faster than its users could report).
# ``protocol.rate_limits`` counts them.
TOKENS_PER_HOUR = "tokens_per_hour"
TOKENS_PER_DAY = "tokens_per_day"
REQUESTS_PER_HOUR = "requests_per_hour"
BURST_PER_MINUTE = "burst_per_minute"
NEW_REPORTERS_PER_DAY = "new_reporters_per_day"
LIMIT_NAMES = (
    TOKENS_PER_HOUR,
    TOKENS_PER_DAY,
    REQUESTS_PER_HOUR,
    BURST_PER_MINUTE,
    NEW_REPORTERS_PER_DAY,
)


@dataclass(frozen=True, slots=True)
class ClientSecret:
    """One secret of a client, as stored: ``secret_id`` is public (``ag_sid_...``, in the
    access log and ``clients show``), ``digest`` the self-describing digest of the
    server-generated secret (``sha256$<hex>``); the secret itself is never stored.  It
    authenticates until ``expires_at`` (forever when None); ``last_used_at`` is recorded
    at most once a minute per process (``protocol.secret_use``)."""

    secret_id: str
    digest: str = field(repr=False)
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        """True while the secret authenticates its client."""
        return self.expires_at is None or now < self.expires_at


def rotated_secrets(
    secrets: Sequence[ClientSecret], now: datetime, previous_until: datetime
) -> tuple[ClientSecret, ...]:
    """What a rotation keeps of ``secrets`` (oldest first): the newest live one, valid
    until ``previous_until`` at the latest, if it is still live then
    (``ClientStore.add_secret``)."""
    live = [s for s in secrets if s.is_live(now)]
    if not live:
        return ()
    newest = live[-1]
    if newest.expires_at is None or previous_until < newest.expires_at:
        newest = replace(newest, expires_at=previous_until)
    return (newest,) if newest.is_live(now) else ()


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """A client's own limits (``LIMIT_NAMES``), each None where the server's default
    holds; 0 is no limit at all.  ``log_only`` names the limits only counted and logged
    for this client (not refused: a new limit is rolled out so), ``enforced`` those
    refused past their amount even where the server's default is log-only; a limit in
    neither follows the server's default mode."""

    tokens_per_hour: int | None = None
    tokens_per_day: int | None = None
    requests_per_hour: int | None = None
    burst_per_minute: int | None = None
    new_reporters_per_day: int | None = None
    log_only: frozenset[str] = frozenset()
    enforced: frozenset[str] = frozenset()

    def amount(self, name: str) -> int | None:
        """The client's own amount of the limit ``name`` (one of ``LIMIT_NAMES``)."""
        amount: int | None = getattr(self, name)
        return amount


NO_CLIENT_LIMITS = ClientLimits()


@dataclass(frozen=True, slots=True)
class Client:
    """A registered confidential client (RFC 6749 §2.1).

    ``secrets`` are its secrets, oldest first: at most ``MAX_LIVE_SECRETS`` live at once
    (a rotation keeps the previous one for an overlap, ``protocol.client_admin``).
    ``can_introspect`` marks a resource server: it may introspect any token (RFC 7662
    §2.1), where any other client sees only its own.  ``audiences`` are the resource
    indicators (RFC 8707 §2: absolute URIs) its token requests may name; the first is its
    default audience (``protocol.audience``).  A client has either secrets or public
    keys, never both: ``jwks`` (the JSON of its JWK Set, RFC 7517 §5) or ``jwks_uri``
    (where it publishes them, RFC 7591 §2) make it a ``private_key_jwt`` client, with no
    secret.  ``limits`` are its own rate limits and token quotas (the server's
    defaults where it has none).
    """

    client_id: str
    name: str
    allowed_scopes: Scopes
    default_scopes: Scopes
    token_ttl_seconds: int | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    grant_types: frozenset[str] = field(default_factory=lambda: frozenset({CLIENT_CREDENTIALS}))
    token_format: str = OPAQUE
    can_introspect: bool = False
    secrets: tuple[ClientSecret, ...] = ()
    audiences: tuple[str, ...] = ()
    jwks: str | None = None
    jwks_uri: str | None = None
    limits: ClientLimits = NO_CLIENT_LIMITS

    @property
    def auth_method(self) -> str:
        """``private_key_jwt`` for a client with keys, else ``client_secret_basic``
        (RFC 7591 §2: the default; such a client may use ``client_secret_post`` too)."""
        has_keys = self.jwks is not None or self.jwks_uri is not None
        return PRIVATE_KEY_JWT if has_keys else CLIENT_SECRET_BASIC

    def live_secrets(self, now: datetime) -> tuple[ClientSecret, ...]:
        """The secrets that authenticate the client at ``now``, oldest first."""
        return tuple(secret for secret in self.secrets if secret.is_live(now))

    @property
    def effective_default_scopes(self) -> Scopes:
        """The scope granted when a request omits ``scope`` (RFC 6749 §3.3 "pre-defined
        default value"): ``default_scopes`` when set, else every allowed scope (DESIGN.md
        §4.5, as Auth0 does for machine-to-machine clients).  An empty stored default means
        "all allowed", rows stored before this rule included.  A client with no scope at
        all gets tokens with no scope."""
        return self.default_scopes or self.allowed_scopes


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What is stored of an issued access token: its digest, never the token.  A JWT
    access token (RFC 9068) also keeps its ``jti``: with the issuer and ``audience`` it
    gives back its claims (``protocol.jwt_access_tokens.jwt_claims``).  ``audience`` is
    the resources the token is for (RFC 8707 §2, the ``aud`` of RFC 7519 §4.1.3), in the
    order granted; empty for a token without a specific audience restriction (an opaque
    token of a client registered without audiences)."""

    digest: str
    client_id: str
    scopes: Scopes
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    jti: str | None = None
    audience: tuple[str, ...] = ()

    def is_active(self, now: datetime) -> bool:
        """True while the token is neither expired nor revoked."""
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """RFC 6749 §5.1 successful access token response, issued to ``client_id``.
    ``scope`` is ``None`` when the token has no scope: the §3.3 grammar has no empty
    scope, so the member is left out."""

    client_id: str
    access_token: str
    expires_in: int
    scope: str | None
    token_type: str = BEARER
    # The credential that authenticated, for the access log: a secret's public id, or
    # ``private_key_jwt:<kid>`` (``protocol.client_auth.AuthenticatedClient``).
    secret_id: str | None = None
    usage: Usage | None = None  # the client's token quota, this token counted


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid bearer token speaks for (RFC 6750): the client, its scopes, its expiry.
    ``expires_at`` is None only when a remote authorization server's introspection answer
    did not say (RFC 7662 §2.2: ``exp`` is optional)."""

    client_id: str
    scopes: Scopes
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A key that signs JWT access tokens, as stored: ``kid`` is its RFC 7638 thumbprint,
    ``public_jwk`` the JSON of its public members (RFC 7517 §4), ``sealed_private_jwk``
    its private JWK sealed with AES-GCM under the key-encryption key
    (``protocol.key_encryption``).

    Its life: published (in the JWKS) from ``created_at``; the signer from
    ``activated_at`` until ``retired_at``; published until ``published_until``, set when
    it is retired to the moment every token it signed has expired."""

    kid: str
    alg: str
    public_jwk: str
    sealed_private_jwk: bytes = field(repr=False)
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None
    published_until: datetime | None = None

    @property
    def is_active(self) -> bool:
        """True for the key that signs (activated, not retired)."""
        return self.activated_at is not None and self.retired_at is None

    def is_published(self, now: datetime) -> bool:
        """True while verifiers must find it in the JWKS."""
        return self.published_until is None or now < self.published_until

    def state(self, now: datetime) -> str:
        """``new`` (published, has signed nothing yet), ``active`` (the signer),
        ``retired`` (signs no more, published while its tokens may be valid) or
        ``expired`` (no longer published: it may be deleted)."""
        if self.retired_at is None:
            return "active" if self.activated_at is not None else "new"
        return "retired" if self.is_published(now) else "expired"


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An external OpenID Connect issuer the operator trusts for workload identity
    federation (``anti-grazer trust add``): a Kubernetes cluster's service-account token
    issuer, GitHub Actions' OIDC issuer.  ``issuer`` is compared with a token's ``iss``
    exactly (RFC 7519 §4.1.1, RFC 7523 §3 item 1); a token must name ``audience`` in its
    ``aud`` (§3 item 3).  Its keys come from ``jwks_uri`` when set, else from the
    ``jwks_uri`` of its discovery document (OpenID Connect Discovery 1.0 §4)."""

    issuer: str
    audience: str
    created_at: datetime
    jwks_uri: str | None = None


@dataclass(frozen=True, slots=True)
class FederationBinding:
    """A client whose credential is a token of ``issuer`` (``anti-grazer clients bind``):
    a token authenticates it when every rule of ``claims`` matches (``protocol.claim_rules``:
    (claim name, pattern) pairs sorted by name).  One binding per client and issuer."""

    client_id: str
    issuer: str
    claims: tuple[tuple[str, str], ...]
    created_at: datetime
