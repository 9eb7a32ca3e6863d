"""Profiles count the distinct clients their reporters came through (BLOCK_MIN_CLIENTS:
one client cannot block a profile alone by inventing reporters), and remember when an
operator last cleared them.  Existing profiles get their count from their reports.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anti_grazer.store.sql.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("profiles", sa.Column("clients", sa.Integer, nullable=False, server_default="0"))
    op.add_column("profiles", sa.Column("cleared_at", UTCDateTime, nullable=True))
    op.execute(
        "UPDATE profiles SET clients = (SELECT COUNT(DISTINCT reports.client_id) FROM reports "
        "WHERE reports.platform = profiles.platform "
        "AND reports.profile_id = profiles.profile_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("cleared_at")
        batch.drop_column("clients")
