"""JWT access tokens (RFC 9068): the signing keys, each client's token format, and a
JWT's jti and audience in its token record.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anti_grazer.store.sql.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("sealed_private_jwk", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("activated_at", UTCDateTime, nullable=True),
        sa.Column("retired_at", UTCDateTime, nullable=True),
        sa.Column("published_until", UTCDateTime, nullable=True),
    )
    # Every existing client keeps its opaque tokens.
    op.add_column(
        "clients",
        sa.Column("token_format", sa.String(16), nullable=False, server_default="opaque"),
    )
    op.add_column("access_tokens", sa.Column("jti", sa.String(64), nullable=True))
    op.add_column("access_tokens", sa.Column("audience", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_tokens") as batch:
        batch.drop_column("audience")
        batch.drop_column("jti")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("token_format")
    op.drop_table("signing_keys")
