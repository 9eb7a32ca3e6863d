"""Client secrets in a table of their own (rotation with overlap: at most two live per
client, each with a public id, an optional expiry and its last use); each existing
client's one secret moves there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anti_grazer.protocol.tokens import generate_secret_id
from anti_grazer.store.sql.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    secrets = op.create_table(
        "client_secrets",
        sa.Column("secret_id", sa.String(32), primary_key=True),
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("clients.client_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("digest", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("last_used_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_client_secrets_client_id", "client_secrets", ["client_id"])
    clients = sa.table(
        "clients",
        sa.column("client_id", sa.String),
        sa.column("secret_digest", sa.String),
        sa.column("created_at", UTCDateTime),
    )
    connection = op.get_bind()
    rows = [
        {
            "secret_id": generate_secret_id(),
            "client_id": row.client_id,
            "digest": row.secret_digest,
            "created_at": row.created_at,
        }
        for row in connection.execute(sa.select(clients))
    ]
    if rows:
        op.bulk_insert(secrets, rows)
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch copy of the
    # clients table would cascade-delete the tokens that reference it.
    op.drop_column("clients", "secret_digest")


def downgrade() -> None:
    # Each client keeps its newest secret (the one a client without rotation has).
    op.add_column("clients", sa.Column("secret_digest", sa.String(100), nullable=True))
    op.execute(
        "UPDATE clients SET secret_digest = (SELECT s.digest FROM client_secrets s "
        "WHERE s.client_id = clients.client_id "
        "ORDER BY s.created_at DESC, s.secret_id DESC LIMIT 1)"
    )
    op.execute("UPDATE clients SET secret_digest = '' WHERE secret_digest IS NULL")
    if op.get_bind().dialect.name != "sqlite":  # SQLite's would be a batch copy (above)
        op.alter_column("clients", "secret_digest", nullable=False)
    op.drop_index("ix_client_secrets_client_id", table_name="client_secrets")
    op.drop_table("client_secrets")
