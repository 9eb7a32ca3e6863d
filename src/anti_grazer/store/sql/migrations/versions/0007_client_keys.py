"""Clients without secrets (private_key_jwt, RFC 7523 §2.2): a client's JWK Set or
jwks_uri, and the client assertions already used (each jti once, until it expires).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anti_grazer.store.sql.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN: a batch copy of the clients table would
    # cascade-delete the tokens and secrets that reference it.
    op.add_column("clients", sa.Column("jwks", sa.Text, nullable=True))
    op.add_column("clients", sa.Column("jwks_uri", sa.Text, nullable=True))
    op.create_table(
        "client_assertion_jtis",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_client_assertion_jtis_expires_at", "client_assertion_jtis", ["expires_at"])


def downgrade() -> None:
    # A client with keys has no secret: it could not authenticate at 0006 (disable it
    # first; its row stays, its keys go).
    op.drop_index("ix_client_assertion_jtis_expires_at", table_name="client_assertion_jtis")
    op.drop_table("client_assertion_jtis")
    op.drop_column("clients", "jwks_uri")
    op.drop_column("clients", "jwks")
