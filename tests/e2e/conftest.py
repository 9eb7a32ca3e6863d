"""Session fixtures that run the real server: a client registered through the CLI, then
``anti-grazer serve`` as a subprocess on 127.0.0.1 (plain HTTP, and HTTPS with a
``trustme`` certificate), stopped by its PID at the end of the session; and the database
(SQLite or PostgreSQL) a test that runs its own server starts it on."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    serving,
    sqlite_url,
)
from tests.support import postgres_url, reset_database


@dataclass(frozen=True)
class E2EServer:
    """A running server, its database and a client registered on it."""

    server: ServerProcess
    database_path: Path
    client: CreatedClient
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return self.server.base_url


@dataclass(frozen=True)
class TLSServer(E2EServer):
    """A server speaking HTTPS with a certificate of ``ca_path``'s CA."""

    ca_path: Path

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_path))


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EServer]:
    """``anti-grazer serve`` over plain HTTP on loopback, with one registered client."""
    folder = tmp_path_factory.mktemp("e2e-http")
    database = folder / "anti-grazer.db"
    env = cli_environment(sqlite_url(database))
    client = create_client(env)
    with serving(env, folder / "server.log") as server:
        yield E2EServer(server, database, client, env)


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    """``anti-grazer serve --tls-cert --tls-key`` with a certificate for 127.0.0.1 signed by
    a throwaway ``trustme`` CA."""
    folder = tmp_path_factory.mktemp("e2e-https")
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    ca_path = folder / "ca.pem"
    cert_path = folder / "server-chain.pem"
    key_path = folder / "server-key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    certificate.private_key_pem.write_to_path(str(key_path))
    for index, blob in enumerate(certificate.cert_chain_pems):
        blob.write_to_path(str(cert_path), append=index > 0)
    database = folder / "anti-grazer.db"
    env = cli_environment(sqlite_url(database))
    client = create_client(env)
    context = ssl.create_default_context(cafile=str(ca_path))
    with serving(
        env,
        folder / "server.log",
        ["--tls-cert", str(cert_path), "--tls-key", str(key_path)],
        scheme="https",
        verify=context,
    ) as server:
        yield TLSServer(server, database, client, env, ca_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def server_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database a test's own server runs on: a fresh SQLite file, or the run's
    PostgreSQL database emptied and migrated (skipped when there is none)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "server.db")
    url = postgres_url()
    if url is None:
        pytest.skip("ANTI_GRAZER_TEST_POSTGRES_URL is not set")
    asyncio.run(reset_database(url))
    return url
