"""The audit trail: administrative and security events, kept for AUDIT_RETENTION_DAYS.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anti_grazer.store.sql.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("subject", sa.String(600), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_client_id_at", "audit_events", ["client_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_events")
