"""Audiences (RFC 8707 resource indicators): the audiences each client may ask for.
Existing clients have none, so their tokens are what they were.  A token's own audience
keeps its column (0005's ``access_tokens.audience``): one audience as itself, as every
existing row holds it, several as a JSON array (``store.sql.rows.join_audiences``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("audiences", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch copy of the
    # clients table would cascade-delete the tokens that reference it (as 0006 says).
    # Tokens issued for several audiences keep their JSON array until they expire.
    op.drop_column("clients", "audiences")
