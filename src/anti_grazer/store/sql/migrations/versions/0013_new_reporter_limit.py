"""Clients may have their own limit on new distinct reporters per day (issue 18 item 7:
one client cannot invent reporters faster than its users could report), and the reports
are indexed by reporter, so that whether a client named a reporter before is one lookup.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("new_reporters_per_day", sa.Integer, nullable=True))
    op.create_index("ix_reports_client_reporter", "reports", ["client_id", "reporter_id"])


def downgrade() -> None:
    op.drop_index("ix_reports_client_reporter", table_name="reports")
    # A plain ALTER TABLE ... DROP COLUMN (as 0010's downgrade): a batch copy of the
    # clients table would cascade-delete the secrets and tokens that reference it.
    op.drop_column("clients", "new_reporters_per_day")
