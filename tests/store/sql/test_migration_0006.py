"""Revision 0006 moves each client's one secret into ``client_secrets`` (issue 17 item
3): the client authenticates with the same secret after the upgrade, keeps its tokens,
and the downgrade puts its newest secret back in ``clients.secret_digest``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import String, column, insert, select, table

from anti_grazer.protocol.client_auth import AuthMethod, ClientCredentials, authenticate_client
from anti_grazer.store.runtime import open_stores
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.migrate import upgrade
from anti_grazer.store.sql.rows import client_row, token_row
from anti_grazer.store.sql.tables import CLIENT_LIMIT_COLUMNS, access_tokens, clients
from tests.store.sql.migration_steps import migrate
from tests.support import SQL_BACKENDS, T0, fresh_database_url, make_client, make_token

# The columns later revisions added (0007: a client's keys; 0009: its audiences) are not
# there yet; 0006's secret_digest still is.
_LATER_COLUMNS = frozenset({"jwks", "jwks_uri", "audiences", *CLIENT_LIMIT_COLUMNS})
clients_0005 = table(
    "clients",
    *(column(c.name, c.type) for c in clients.columns if c.name not in _LATER_COLUMNS),
    column("secret_digest", String),
)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_0006_moves_each_secret_and_keeps_the_tokens(backend: str, tmp_path: Path) -> None:
    url = await fresh_database_url(backend, tmp_path)
    engine = create_engine(url)
    before = make_client(secret="the-old-secret")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0005", down=True)
            row = {
                **{k: v for k, v in client_row(before).items() if k not in _LATER_COLUMNS},
                "secret_digest": before.secrets[0].digest,
            }
            await connection.execute(insert(clients_0005).values(row))
            await connection.execute(insert(access_tokens).values(token_row(make_token("t1"))))
        await upgrade(engine)
        async with open_stores(url) as stores:
            client = await stores.clients.get_client(before.client_id)
            assert client is not None
            (secret,) = client.secrets
            assert secret.digest == before.secrets[0].digest
            assert secret.secret_id.startswith("ag_sid_")
            assert (secret.created_at, secret.expires_at) == (T0, None)
            assert await stores.tokens.get_token(make_token("t1").digest) is not None
            credentials = ClientCredentials(before.client_id, "the-old-secret", AuthMethod.BASIC)
            caller = await authenticate_client(stores.clients, credentials, T0)
            assert caller.secret_id == secret.secret_id
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0005", down=True)
            digests = (await connection.execute(select(clients_0005.c.secret_digest))).all()
            tokens = (await connection.execute(select(access_tokens.c.digest))).all()
        assert digests == [(before.secrets[0].digest,)]
        assert len(tokens) == 1
    finally:
        await engine.dispose()
