"""The SQL statements both backends run, built once from the tables: the look-ups of one
row, the token writes and the purge.  The SQLite adapter compiles them for its threads
(``store.sql.prepared``), the PostgreSQL adapter runs them through the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Delete,
    Insert,
    Select,
    String,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from anti_grazer.store.sql.tables import (
    access_tokens,
    client_assertion_jtis,
    client_secrets,
    clients,
    profiles,
    reports,
)

# A client's secrets' columns, named apart from the client's own.
SECRET_COLUMNS = (
    client_secrets.c.secret_id,
    client_secrets.c.digest.label("secret_digest"),
    client_secrets.c.created_at.label("secret_created_at"),
    client_secrets.c.expires_at.label("secret_expires_at"),
    client_secrets.c.last_used_at.label("secret_last_used_at"),
)
# A client and its secrets, oldest first, in one read (one row per secret; one row with
# NULL secret columns for a client without any): a rotation is seen whole or not at all.
CLIENT_BY_ID: Select[Any] = (
    select(clients, *SECRET_COLUMNS)
    .select_from(clients.outerjoin(client_secrets))
    .where(clients.c.client_id == bindparam("client_id"))
    .order_by(client_secrets.c.created_at, client_secrets.c.secret_id)
)
# One row by key (params: digest; platform and profile_id).
TOKEN_BY_DIGEST: Select[Any] = select(access_tokens).where(
    access_tokens.c.digest == bindparam("digest")
)
# The TokenStore port's last_jwt_expiry (its max() keeps the column's type, so rows come
# back as aware datetimes).
LAST_JWT_EXPIRY: Select[Any] = select(
    func.max(access_tokens.c.expires_at).label("last_expiry")
).where(
    access_tokens.c.jti.is_not(None),
    access_tokens.c.issued_at >= bindparam("issued_from"),
    access_tokens.c.issued_at <= bindparam("issued_until"),
)
PROFILE_BY_KEY: Select[Any] = select(profiles).where(
    (profiles.c.platform == bindparam("platform"))
    & (profiles.c.profile_id == bindparam("profile_id"))
)
# One report of the reporter ``reporter_id`` of ``client_id``, if it ever reported.
REPORT_BY_REPORTER: Select[Any] = (
    select(reports.c.id)
    .where(
        (reports.c.client_id == bindparam("client_id"))
        & (reports.c.reporter_id == bindparam("reporter_id"))
    )
    .limit(1)
)

# Bound names differ from column names: those are reserved in UPDATE statements.
_owner = bindparam("owner", type_=String)
# The token ``token_digest``, held by ``owner`` (or by anyone when ``owner`` is None).
_THE_TOKEN = (access_tokens.c.digest == bindparam("token_digest", type_=String)) & or_(
    _owner.is_(None), access_tokens.c.client_id == _owner
)


def insert_token_of_enabled_client() -> Insert:
    """``INSERT INTO access_tokens SELECT <row> WHERE <its client exists and is enabled>``:
    a token is stored only if its client is still enabled when the insert commits, so no
    token outlives a disable (which revokes the client's tokens) that raced its issuance."""
    names = [column.name for column in access_tokens.columns]
    values = {name: bindparam(name, type_=access_tokens.c[name].type) for name in names}
    enabled_client = exists().where(
        (clients.c.client_id == values["client_id"]) & clients.c.enabled.is_(True)
    )
    return insert(access_tokens).from_select(names, select(*values.values()).where(enabled_client))


INSERT_TOKEN = insert_token_of_enabled_client()
# Revoke (params: token_digest, owner, now); stamps only the first revocation.
REVOKE_TOKEN: Update = (
    update(access_tokens)
    .where(_THE_TOKEN & access_tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now", type_=access_tokens.c.revoked_at.type))
)
FIND_TOKEN: Select[Any] = select(access_tokens.c.digest).where(_THE_TOKEN)
REVOKE_CLIENT_TOKENS: Update = (
    update(access_tokens)
    .where((access_tokens.c.client_id == _owner) & access_tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now", type_=access_tokens.c.revoked_at.type))
)


def revocation_values(digest: str, client_id: str | None, now: datetime) -> dict[str, Any]:
    """The parameters of ``REVOKE_TOKEN`` and ``FIND_TOKEN``."""
    return {"token_digest": digest, "owner": client_id, "now": now}


def client_revocation_values(client_id: str, now: datetime) -> dict[str, Any]:
    """The parameters of ``REVOKE_CLIENT_TOKENS``."""
    return {"owner": client_id, "now": now}


def purge_batch(now: datetime, batch_size: int) -> Delete:
    """Delete up to ``batch_size`` tokens expired at ``now``."""
    batch = (
        select(access_tokens.c.digest)
        .where(access_tokens.c.expires_at <= now)
        .limit(batch_size)
        # PostgreSQL: concurrent purgers (one per instance) take disjoint batches
        # instead of queueing on each other's row locks; SQLite ignores it.
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return delete(access_tokens).where(access_tokens.c.digest.in_(batch))


def purge_assertions_batch(now: datetime, batch_size: int) -> Delete:
    """Delete up to ``batch_size`` used client assertions expired at ``now``."""
    jtis = client_assertion_jtis.c
    batch = (
        select(jtis.key)
        .where(jtis.expires_at <= now)
        .limit(batch_size)
        .with_for_update(skip_locked=True)  # as purge_batch
        .scalar_subquery()
    )
    return delete(client_assertion_jtis).where(jtis.key.in_(batch))
