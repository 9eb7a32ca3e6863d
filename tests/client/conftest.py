"""A real ``anti-grazer serve`` for the client's tests, with two clients registered
through the CLI (one with the default token lifetime, one whose tokens live 2 s), and
what the server stored: how many tokens each client has been issued."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from anti_grazer.client import ClientCredentialsAuth
from tests.client.callers import CALLERS, Caller
from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    serving,
    sqlite_url,
)

SHORT_TTL_SECONDS = 2


@dataclass(frozen=True)
class LiveServer:
    """A running server, its SQLite file and the clients registered on it."""

    server: ServerProcess
    database_path: Path
    client: CreatedClient
    short_lived: CreatedClient

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    def tokens_issued(self, client: CreatedClient) -> int:
        """How many tokens the server has issued ``client``: every token request that
        succeeded, as the store recorded it before answering."""
        with closing(sqlite3.connect(f"file:{self.database_path}?mode=ro", uri=True)) as db:
            (count,) = db.execute(
                "SELECT count(*) FROM access_tokens WHERE client_id = ?", (client.client_id,)
            ).fetchone()
        return int(count)

    def revoke(self, client: CreatedClient, token: str) -> None:
        """Revoke ``token`` at ``/oauth/revoke`` (RFC 7009 §2.1), as its client."""
        response = httpx.post(
            f"{self.base_url}/oauth/revoke",
            data={"token": token},
            auth=(client.client_id, client.client_secret),
        )
        assert response.status_code == 200


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``anti-grazer serve`` on loopback (plain HTTP) with its two clients."""
    folder = tmp_path_factory.mktemp("client-live")
    database = folder / "anti-grazer.db"
    # The tests send far more than a client's 100 requests a minute, and wrong secrets
    # from one address: no rate limits, no lockout.
    env = cli_environment(sqlite_url(database), rate_limits_enabled="false", lockout_failures="0")
    client = create_client(env, name="cached client")
    short_lived = create_client(env, name="short-lived", token_ttl=SHORT_TTL_SECONDS)
    with serving(env, folder / "server.log") as server:
        yield LiveServer(server, database, client, short_lived)


@pytest.fixture(params=CALLERS, ids=lambda kind: kind.name)
def caller(request: pytest.FixtureRequest, live: LiveServer) -> Caller:
    """httpx's Client, httpx's AsyncClient, then a requests Session, calling ``live``."""
    kind: type[Caller] = request.param
    return kind(live.base_url, live.token_url)


def auth_for(live: LiveServer, client: CreatedClient, **options: Any) -> ClientCredentialsAuth:
    """A fresh ``ClientCredentialsAuth`` (an empty cache) for ``client`` of ``live``."""
    return ClientCredentialsAuth(live.token_url, client.client_id, client.client_secret, **options)
