"""Reports and profiles (the reports API).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anti_grazer.store.sql.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("reporter_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint(
            "platform",
            "profile_id",
            "client_id",
            "reporter_id",
            name="uq_reports_reporter_profile",
        ),
    )
    op.create_table(
        "profiles",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("profile_id", sa.String(200), primary_key=True),
        sa.Column("reporters", sa.Integer, nullable=False),
        sa.Column("first_reported_at", UTCDateTime, nullable=False),
        sa.Column("blocked_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_profiles_blocked_at", "profiles", ["blocked_at", "platform", "profile_id"])
    op.create_index(
        "ix_profiles_platform_blocked_at", "profiles", ["platform", "blocked_at", "profile_id"]
    )


def downgrade() -> None:
    op.drop_table("profiles")
    op.drop_table("reports")
