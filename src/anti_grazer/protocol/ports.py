"""Storage and time interfaces the OAuth core needs; adapters live in ``store``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from anti_grazer.protocol.models import (
    Client,
    ClientLimits,
    ClientSecret,
    FederationBinding,
    SigningKey,
    TokenRecord,
    TrustedIssuer,
)

if TYPE_CHECKING:
    from joserfc.jwk import Key

    from anti_grazer.protocol.audit import AuditEvent


class InactiveClientError(Exception):
    """The token's client is unknown or disabled when the token would be stored: the
    token is not stored (so none outlives a disable that raced its issuance)."""


class Clock(Protocol):
    """The current time, timezone-aware UTC; tests substitute a settable clock."""

    def now(self) -> datetime: ...


class ClientStore(Protocol):
    """Registered clients, each with its secrets (``Client.secrets``, oldest first)."""

    async def get_client(self, client_id: str) -> Client | None: ...

    async def add_client(self, client: Client) -> None:
        """Store a new client with its ``secrets``."""
        ...

    async def update_client(self, client: Client) -> None:
        """Change a client's settings; its secrets and limits are left as they are."""
        ...

    async def set_limits(self, client_id: str, limits: ClientLimits, now: datetime) -> bool:
        """Replace the client's own limits (``Client.limits``) and set its ``updated_at``
        to ``now``; returns False (nothing changed) for an unknown client."""
        ...

    async def add_secret(
        self, client_id: str, secret: ClientSecret, now: datetime, previous_until: datetime
    ) -> bool:
        """A rotation, in one transaction: the client's newest live secret stays valid
        until ``previous_until`` at the latest, every older secret and every secret
        expired at ``now`` is deleted, and ``secret`` is added.  Returns False (nothing
        changed) for an unknown client."""
        ...

    async def end_previous_secrets(self, client_id: str, now: datetime) -> int:
        """Delete every secret of the client but its newest live one at ``now`` (the
        rotation's overlap ends early); returns how many live secrets ended."""
        ...

    async def record_secret_use(self, client_id: str, secret_id: str, when: datetime) -> None:
        """Set the secret's ``last_used_at`` (no change announced: it is only shown)."""
        ...

    async def delete_client(self, client_id: str) -> bool: ...

    async def list_clients(self) -> Sequence[Client]: ...


class TokenStore(Protocol):
    """Issued access tokens, keyed by ``access_token_digest`` of the token."""

    async def add_token(self, record: TokenRecord) -> None:
        """Store a token durably, in the same transaction as a check that its client
        exists and is enabled (``InactiveClientError`` if not); return only once it is
        committed."""
        ...

    async def get_token(self, digest: str) -> TokenRecord | None: ...

    async def revoke_token(
        self,
        digest: str,
        client_id: str | None,
        now: datetime,
        audit: AuditEvent | None = None,
    ) -> bool:
        """Mark the token revoked if it exists and belongs to ``client_id`` (any client
        when ``None``).  Returns whether a stored token now stands revoked.  ``audit`` is
        recorded in the same transaction when this very call revoked it (not when it
        stood revoked already): one commit, and no revocation without its event."""
        ...

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int: ...

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        """Delete tokens expired before ``now`` in batches; return how many went."""
        ...

    async def last_jwt_expiry(
        self, issued_from: datetime, issued_until: datetime
    ) -> datetime | None:
        """The latest expiry of the JWT access tokens (records with a ``jti``, revoked
        ones included: offline verifiers do not know) issued from ``issued_from`` to
        ``issued_until``, both included; None when there is none."""
        ...


class SigningKeyStore(Protocol):
    """The keys that sign JWT access tokens (``SigningKey``), shared by every instance
    on the database."""

    async def add_key(self, key: SigningKey) -> None:
        """Store a new key (``DuplicateSigningKeyError`` if its kid is taken)."""
        ...

    async def list_keys(self) -> Sequence[SigningKey]:
        """Every key, oldest first (by creation time, then kid)."""
        ...

    async def activate_key(self, kid: str, now: datetime, retired_until: datetime) -> bool:
        """In one transaction, make the key ``kid`` the signer from ``now`` if it is new,
        and retire the key that signed before it (``retired_at=now``, published until
        ``retired_until``).  Nothing changes unless ``kid`` is new or already active;
        returns whether it is the active key now."""
        ...

    async def retire_key(self, kid: str, now: datetime, published_until: datetime) -> bool:
        """Retire the key ``kid`` if it is new (never activated); returns whether it
        was.  The check is part of the write: a concurrent activation wins."""
        ...

    async def withdraw_key(self, kid: str, now: datetime) -> bool:
        """Stop publishing the retired key ``kid`` from ``now`` (a compromised key);
        returns whether ``kid`` is a retired key."""
        ...

    async def delete_key(self, kid: str) -> bool:
        """Delete the key ``kid`` unless it is the active key (checked in the write);
        returns whether it was deleted."""
        ...


class AuditStore(Protocol):
    """The audit trail's events (``protocol.audit``), shared by every instance."""

    async def record(self, event: AuditEvent) -> None:
        """Store ``event`` durably before returning."""
        ...

    async def list_events(
        self,
        *,
        since: datetime | None = None,
        client_id: str | None = None,
        kind: str | None = None,
        limit: int = 1000,
    ) -> Sequence[AuditEvent]:
        """The newest ``limit`` events matching every filter given, oldest first."""
        ...

    async def purge_before(self, before: datetime) -> int:
        """Delete the events older than ``before`` (the retention period); how many."""
        ...


class IssuerInUseError(Exception):
    """Clients are bound to the issuer that was to be removed (nothing changed)."""

    def __init__(self, client_ids: Sequence[str]) -> None:
        self.client_ids = tuple(client_ids)
        super().__init__(f"{len(self.client_ids)} client(s) are bound to the issuer")


class MissingBindingTargetError(LookupError):
    """A binding names a client or an issuer that is not there (``target`` says which)."""

    def __init__(self, target: Literal["client", "issuer"]) -> None:
        self.target = target
        super().__init__(f"no such {target}")


class TrustStore(Protocol):
    """Workload identity federation's configuration, shared by every instance: the
    external issuers the operator trusts (``TrustedIssuer``) and the clients bound to
    them (``FederationBinding``, at most one per client and issuer)."""

    async def add_issuer(self, trusted: TrustedIssuer) -> bool:
        """Trust a new issuer; False (nothing changed) when it is trusted already."""
        ...

    async def list_issuers(self) -> Sequence[TrustedIssuer]:
        """Every trusted issuer, oldest first (by creation time, then issuer)."""
        ...

    async def remove_issuer(self, issuer: str, *, with_bindings: bool) -> bool:
        """Stop trusting ``issuer``; False when it was not trusted.  Its bindings go in
        the same transaction when ``with_bindings``; otherwise, while a client is bound
        to it, ``IssuerInUseError`` and nothing changes."""
        ...

    async def add_binding(self, binding: FederationBinding, *, replace: bool) -> bool:
        """Bind a client to a trusted issuer (``MissingBindingTargetError`` when either
        is not there).  A binding of the same client and issuer is replaced when
        ``replace``, else kept and False returned."""
        ...

    async def remove_binding(self, client_id: str, issuer: str) -> bool:
        """Unbind the client from the issuer; False when it was not bound."""
        ...

    async def list_bindings(
        self, *, client_id: str | None = None, issuer: str | None = None
    ) -> Sequence[FederationBinding]:
        """The bindings of a client, of an issuer, of both, or all (neither), ordered by
        client id then issuer."""
        ...

    async def find_binding(
        self, client_id: str, issuer: str
    ) -> tuple[TrustedIssuer, FederationBinding] | None:
        """The trusted issuer ``issuer`` (compared exactly) and the client's binding to
        it, or None: what a federated token request reads."""
        ...


class AssertionReplayStore(Protocol):
    """The client assertions already used (RFC 7523 §3 item 7: a ``jti`` is used once),
    ``private_key_jwt``'s and workload federation's alike, remembered until they expire,
    in a store every server instance shares."""

    async def remember(self, key: str, expires_at: datetime) -> bool:
        """Remember ``key`` until ``expires_at``, atomically: True if it was not
        remembered yet, False if it was (a replay), whichever instance remembered it."""
        ...

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        """Forget the keys that expired before ``now``, in batches; return how many."""
        ...


class ClientKeySets(Protocol):
    """The public keys clients publish at their ``jwks_uri`` (RFC 7591 §2), fetched and
    held by an adapter (``anti_grazer.remote_jwks.ClientKeySets``): fetched again once
    when a ``kid`` is not held, within its time limits."""

    async def key_for(self, jwks_uri: str, kid: str | None) -> Key | None:
        """The key named ``kid`` (without one, the set's only key) in the set at
        ``jwks_uri``, or None; ``TemporarilyUnavailableError`` when the set cannot be
        fetched."""
        ...


class IssuerKeys(Protocol):
    """The signing keys of the issuers trusted for workload identity federation, as
    published at their ``jwks_uri`` (given, or from their OpenID Connect discovery
    document), held by an adapter (``anti_grazer.remote_jwks.IssuerKeySets``) with the
    refresh rules of ``ClientKeySets``."""

    async def key_for(self, issuer: TrustedIssuer, kid: str | None) -> Key | None:
        """The issuer's signature key named ``kid`` (without one, its only key), or
        None; ``TemporarilyUnavailableError`` when its keys cannot be fetched."""
        ...


@dataclass(frozen=True, slots=True)
class Counted:
    """What one ``Counters.count`` call found: the new count of each key added to, and
    the count of each key read (0 for a key that does not exist)."""

    added: tuple[int, ...]
    read: tuple[int, ...]


class Counters(Protocol):
    """Counters that expire, shared by every process that serves (the rate limits',
    token quotas' and client-authentication lockout's): in the process, or in Redis for
    several workers or instances.  The time that expires them is the storage's own."""

    async def count(
        self, add: Sequence[tuple[str, int]], read: Sequence[str] = ()
    ) -> Counted | None:
        """In one round trip to the storage: add one to each key of ``add``, a new key
        living for its given number of seconds, and read each key of ``read``.  None when
        the storage cannot be reached: nothing was counted, and the caller lets the
        request through (fail open)."""
        ...

    async def seconds_left(self, key: str) -> float | None:
        """How long ``key`` lives on (0 for a key that does not exist); None when the
        storage cannot be reached."""
        ...


class Metrics(Protocol):
    """What the server counts for its operators (issue 18 item 4).  ``protocol`` and
    ``store`` call these; ``web/metrics.py`` exports them to Prometheus, and
    ``protocol.metrics.NO_METRICS`` ignores them (metrics off, tests of other rules).
    Label values are the caller's fixed names, or a client id that authenticated: never
    raw input, never a secret."""

    def token_issued(self, client_id: str) -> None:
        """A token was stored for ``client_id`` (authenticated)."""
        ...

    def token_revoked(self, client_id: str) -> None:
        """A token of ``client_id`` (authenticated) was revoked at the endpoint."""
        ...

    def client_auth_failed(self, reason: str) -> None:
        """A client authentication was refused (``protocol.metrics`` reasons)."""
        ...

    def lockout_started(self, kind: str) -> None:
        """A lockout started, of a client id from an address or of an address."""
        ...

    def rate_limited(self, kind: str, outcome: str) -> None:
        """A request went past a limit (``kind``: api or token): refused, or logged only."""
        ...

    def counter_storage_failed(self) -> None:
        """A call to the shared counters' storage (Redis) failed."""
        ...

    def batch_committed(self, backend: str, size: int, seconds: float) -> None:
        """A group commit of ``size`` writes took ``seconds`` (begin to commit)."""
        ...

    def cache_looked_up(self, cache: str, hit: bool) -> None:
        """A read of ``cache`` was served from memory (``hit``) or went to the store."""
        ...
