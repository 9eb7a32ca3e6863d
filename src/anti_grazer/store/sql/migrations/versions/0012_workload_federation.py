"""Workload identity federation: the trusted external issuers and the clients bound to
them with their claim rules.  A federated token's ``jti`` is remembered in 0007's
``client_assertion_jtis``, beside the client assertions'.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anti_grazer.store.sql.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ISSUER_LENGTH = 1024


def upgrade() -> None:
    op.create_table(
        "trusted_issuers",
        sa.Column("issuer", sa.String(ISSUER_LENGTH), primary_key=True),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("jwks_uri", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "federation_bindings",
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("clients.client_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "issuer",
            sa.String(ISSUER_LENGTH),
            sa.ForeignKey("trusted_issuers.issuer"),
            primary_key=True,
        ),
        sa.Column("claims", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_federation_bindings_issuer", "federation_bindings", ["issuer"])


def downgrade() -> None:
    op.drop_index("ix_federation_bindings_issuer", table_name="federation_bindings")
    op.drop_table("federation_bindings")
    op.drop_table("trusted_issuers")
