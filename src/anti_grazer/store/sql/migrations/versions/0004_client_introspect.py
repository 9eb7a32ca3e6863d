"""Clients that may introspect any token (resource servers, RFC 7662 §2.1).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing clients see only their own tokens, as before.
    op.add_column(
        "clients",
        sa.Column("can_introspect", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("can_introspect")
