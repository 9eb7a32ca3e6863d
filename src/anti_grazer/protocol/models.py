"""The values the OAuth core works with: clients, token records, responses, principals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

Scopes = frozenset[str]

CLIENT_CREDENTIALS = "client_credentials"
BEARER = "Bearer"  # the token type of every access token (RFC 6750)


@dataclass(frozen=True, slots=True)
class Client:
    """A registered confidential client (RFC 6749 §2.1).

    ``secret_digest`` is the self-describing digest of the server-generated secret
    (``sha256$<hex>``); the secret itself is never stored.  ``can_introspect`` marks a
    resource server: it may introspect any token (RFC 7662 §2.1), where any other client
    sees only its own.
    """

    client_id: str
    name: str
    secret_digest: str
    allowed_scopes: Scopes
    default_scopes: Scopes
    token_ttl_seconds: int | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    grant_types: frozenset[str] = field(default_factory=lambda: frozenset({CLIENT_CREDENTIALS}))
    can_introspect: bool = False

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
    """What is stored of an issued access token: its ``access_token_digest``, never the
    token."""

    digest: str
    client_id: str
    scopes: Scopes
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

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


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid bearer token speaks for (RFC 6750): the client, its scopes, its expiry.
    ``expires_at`` is None only when a remote authorization server's introspection answer
    did not say (RFC 7662 §2.2: ``exp`` is optional)."""

    client_id: str
    scopes: Scopes
    expires_at: datetime | None
