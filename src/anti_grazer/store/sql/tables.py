"""The SQL schema (mirrored by the Alembic migrations in ``migrations/versions``)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from anti_grazer.store.sql.types import UTCDateTime

metadata = MetaData()

clients = Table(
    "clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_digest", String(100), nullable=False),
    Column("allowed_scopes", Text, nullable=False, default=""),
    Column("default_scopes", Text, nullable=False, default=""),
    Column("grant_types", Text, nullable=False, default="client_credentials"),
    Column("token_ttl_seconds", Integer, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
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
    Index("ix_access_tokens_expires_at", "expires_at"),
    Index("ix_access_tokens_client_id", "client_id"),
)
