"""The SQL schema (mirrored by the Alembic migrations in ``migrations/versions``)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from anti_grazer.reports.models import MAX_ID_LENGTH, MAX_REASON_LENGTH
from anti_grazer.store.sql.types import UTCDateTime

metadata = MetaData()

# A client's own limits (migrations 0010 and 0013): an amount per limit, and the limits
# only logged, or enforced, for it.
CLIENT_LIMIT_COLUMNS = (
    "tokens_per_hour",
    "tokens_per_day",
    "requests_per_hour",
    "burst_per_minute",
    "new_reporters_per_day",
    "limits_log_only",
    "limits_enforced",
)

clients = Table(
    "clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("allowed_scopes", Text, nullable=False, default=""),
    Column("default_scopes", Text, nullable=False, default=""),
    Column("grant_types", Text, nullable=False, default="client_credentials"),
    Column("token_ttl_seconds", Integer, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # "opaque" or "jwt" (RFC 9068 access tokens).
    Column("token_format", String(16), nullable=False, server_default="opaque"),
    # May introspect any token (a resource server), not only its own (RFC 7662 §2.1).
    Column("can_introspect", Boolean, nullable=False, default=False, server_default=false()),
    # The audiences it may ask for (RFC 8707 resource indicators), in order, the first its
    # default: a JSON array of strings (store.sql.rows).
    Column("audiences", Text, nullable=False, server_default="[]"),
    # A private_key_jwt client's public keys (RFC 7523 §2.2): its JWK Set's JSON, or the
    # URL where it publishes it (RFC 7591 §2 jwks / jwks_uri); NULL for a secret's client.
    Column("jwks", Text, nullable=True),
    Column("jwks_uri", Text, nullable=True),
    # Its own limits (``ClientLimits``): NULL follows the server's default, 0 is none; the
    # limits only logged, and those enforced, for it (space-separated names).
    Column("tokens_per_hour", Integer, nullable=True),
    Column("tokens_per_day", Integer, nullable=True),
    Column("requests_per_hour", Integer, nullable=True),
    Column("burst_per_minute", Integer, nullable=True),
    Column("new_reporters_per_day", Integer, nullable=True),
    Column("limits_log_only", Text, nullable=False, default="", server_default=""),
    Column("limits_enforced", Text, nullable=False, default="", server_default=""),
)

# The client assertions already used (RFC 7523 §3 item 7: each jti once), by the SHA-256
# of their client id and jti, until they expire (the janitor purges them then).
client_assertion_jtis = Table(
    "client_assertion_jtis",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_client_assertion_jtis_expires_at", "expires_at"),
)

# A client's secrets (``ClientSecret``): the digest, never the value; at most two live
# (a rotation's overlap), deleted once they have ended.
client_secrets = Table(
    "client_secrets",
    metadata,
    Column("secret_id", String(32), primary_key=True),
    Column(
        "client_id",
        String(64),
        ForeignKey("clients.client_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("digest", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Index("ix_client_secrets_client_id", "client_id"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column(
        "client_id",
        String(64),
        ForeignKey("clients.client_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("scope", Text, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    # A JWT access token's "jti" (NULL for an opaque token), and the token's audience
    # (NULL for a token without any; store.sql.rows says how several are written).
    Column("jti", String(64), nullable=True),
    Column("audience", Text, nullable=True),
    Index("ix_access_tokens_expires_at", "expires_at"),
    Index("ix_access_tokens_client_id", "client_id"),
)

# Reports API.  No foreign key to clients: a report outlives its client, as the profile's
# reporter count does.
PLATFORM_LENGTH = 32

reports = Table(
    "reports",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("platform", String(PLATFORM_LENGTH), nullable=False),
    Column("profile_id", String(MAX_ID_LENGTH), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("reporter_id", String(MAX_ID_LENGTH), nullable=False),
    Column("reason", String(MAX_REASON_LENGTH), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # One report per reporter (client, reporter id) and profile: the idempotency key.
    UniqueConstraint(
        "platform", "profile_id", "client_id", "reporter_id", name="uq_reports_reporter_profile"
    ),
    # Whether a client has named a reporter before (its new reporters are counted).
    Index("ix_reports_client_reporter", "client_id", "reporter_id"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("platform", String(PLATFORM_LENGTH), primary_key=True),
    Column("profile_id", String(MAX_ID_LENGTH), primary_key=True),
    # Distinct reporters = rows of ``reports`` for the profile, kept in the same transaction.
    Column("reporters", Integer, nullable=False),
    Column("first_reported_at", UTCDateTime, nullable=False),
    Column("blocked_at", UTCDateTime, nullable=True),
    # Distinct clients among the reporters (BLOCK_MIN_CLIENTS), kept like ``reporters``.
    Column("clients", Integer, nullable=False, server_default="0"),
    # When an operator last cleared it (its reports deleted, counts back to zero).
    Column("cleared_at", UTCDateTime, nullable=True),
    # The blocklist, newest first, over all platforms and over one.
    Index("ix_profiles_blocked_at", "blocked_at", "platform", "profile_id"),
    Index("ix_profiles_platform_blocked_at", "platform", "blocked_at", "profile_id"),
)

# Keys the server generates for itself and every instance shares (store/sql/keys.py).
server_keys = Table(
    "server_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("secret", LargeBinary, nullable=False),
)

# The keys that sign JWT access tokens (store/sql/signing_keys.py): the public JWK in the
# clear, the private one sealed with AES-GCM under the key-encryption key.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("sealed_private_jwk", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("activated_at", UTCDateTime, nullable=True),
    Column("retired_at", UTCDateTime, nullable=True),
    Column("published_until", UTCDateTime, nullable=True),
)

# The audit trail (``protocol.audit``): one row per administrative or security event,
# never a secret; deleted after AUDIT_RETENTION_DAYS.
audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(300), nullable=False),
    Column("subject", String(600), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("client_id", String(64), nullable=True),
    Column("details", Text, nullable=False, default="{}"),
    Index("ix_audit_events_at", "at"),
    Index("ix_audit_events_client_id_at", "client_id", "at"),
)

# Workload identity federation (store/sql/trust.py): the external issuers the operator
# trusts, and the clients bound to them with the claim rules their tokens must match.
ISSUER_LENGTH = 1024

trusted_issuers = Table(
    "trusted_issuers",
    metadata,
    Column("issuer", String(ISSUER_LENGTH), primary_key=True),
    Column("audience", Text, nullable=False),
    Column("jwks_uri", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# A binding goes with its client; an issuer is not removed while clients are bound to it
# (no cascade: the store removes the bindings first when told to).
federation_bindings = Table(
    "federation_bindings",
    metadata,
    Column(
        "client_id",
        String(64),
        ForeignKey("clients.client_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("issuer", String(ISSUER_LENGTH), ForeignKey("trusted_issuers.issuer"), primary_key=True),
    # The claim rules: a JSON object of claim name to pattern (protocol.claim_rules).
    Column("claims", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_federation_bindings_issuer", "issuer"),
)
