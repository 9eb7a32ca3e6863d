"""A client's own rate limits and token quotas (issue 18 item 1): an amount per limit
(NULL: the server's default; 0: no limit) and the limits only logged, or enforced, for
it.  Existing clients follow the server's defaults.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

AMOUNTS = ("tokens_per_hour", "tokens_per_day", "requests_per_hour", "burst_per_minute")
MODES = ("limits_log_only", "limits_enforced")


def upgrade() -> None:
    for name in AMOUNTS:
        op.add_column("clients", sa.Column(name, sa.Integer, nullable=True))
    for name in MODES:
        op.add_column("clients", sa.Column(name, sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch copy of the
    # clients table would cascade-delete the secrets and tokens that reference it.
    for name in (*AMOUNTS, *MODES):
        op.drop_column("clients", name)
