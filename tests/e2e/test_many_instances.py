"""Many workers and instances behave as one server (issue 4, item 2), with real
``anti-grazer serve`` processes on 127.0.0.1: two instances on one PostgreSQL database
(skipped unless ``ANTI_GRAZER_TEST_POSTGRES_URL`` is set) and one instance with two
server workers on a SQLite file.  A token issued by one is accepted by the other; a
revocation (RFC 7009 §2.2), a disabled client or a rotated secret made on one instance or
by the CLI takes effect everywhere within a second."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    run_cli,
    serving,
    sqlite_url,
)
from tests.http_helpers import PROFILE, assert_invalid_client, assert_invalid_token, bearer
from tests.support import postgres_url, reset_database

pytestmark = pytest.mark.slow

PROPAGATION_SECONDS = 1.0


def fresh_request(
    base_url: str,
    method: str,
    path: str,
    *,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    """One request on a new connection (with several workers, any of them may answer)."""
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        return client.request(method, path, data=data, headers=headers, auth=auth)


def request_token(base_url: str, client_id: str, secret: str) -> httpx.Response:
    return fresh_request(
        base_url,
        "POST",
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
        },
    )


def issue(base_url: str, client: CreatedClient) -> str:
    response = request_token(base_url, client.client_id, client.client_secret)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def read_profile(base_url: str, token: str) -> httpx.Response:
    return fresh_request(base_url, "GET", PROFILE, headers=bearer(token))


def revoke(base_url: str, client: CreatedClient, token: str) -> None:
    response = fresh_request(
        base_url,
        "POST",
        "/oauth/revoke",
        data={"token": token},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200, response.text


def poll(
    attempt: Callable[[], httpx.Response], status: int, within_seconds: float
) -> httpx.Response:
    """Call ``attempt`` until it answers ``status`` or ``within_seconds`` ran out."""
    deadline = time.monotonic() + within_seconds
    while True:
        response = attempt()
        if response.status_code == status or time.monotonic() >= deadline:
            return response
        time.sleep(0.02)


# --- two instances, one PostgreSQL database ---------------------------------------------


@dataclass(frozen=True)
class TwoInstances:
    """Two ``anti-grazer serve`` processes on one PostgreSQL database."""

    first: ServerProcess
    second: ServerProcess
    env: dict[str, str]

    @property
    def urls(self) -> tuple[str, str]:
        return (self.first.base_url, self.second.base_url)


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoInstances]:
    """Both instances cache records for 30 s: only the PostgreSQL notifications can make
    a change seen within a second."""
    url = postgres_url()
    if url is None:
        pytest.skip("ANTI_GRAZER_TEST_POSTGRES_URL is not set")
    asyncio.run(reset_database(url))
    env = cli_environment(url, cache_ttl_seconds="30")
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    folder = tmp_path_factory.mktemp("many-instances")
    with (
        serving(env, folder / "first.log") as first,
        serving(env, folder / "second.log") as second,
    ):
        yield TwoInstances(first, second, env)


def test_token_issued_by_one_instance_works_on_the_other(instances: TwoInstances) -> None:
    """A token is recorded in the shared database: either instance accepts it."""
    client = create_client(instances.env)
    for issuer, other in (instances.urls, instances.urls[::-1]):
        token = issue(issuer, client)
        response = read_profile(other, token)
        assert response.status_code == 200, response.text
        assert response.json()["platform"] == "facebook"


def test_revocation_on_one_instance_is_refused_by_the_other(instances: TwoInstances) -> None:
    """RFC 7009 §2.2: revoked through the first instance, a token the second has cached
    is refused by the second within 1 s (RFC 6750 §3.1 invalid_token)."""
    client = create_client(instances.env)
    first, second = instances.urls
    token = issue(first, client)
    for _ in range(3):
        assert read_profile(second, token).status_code == 200  # cached by the second
    revoke(first, client, token)
    assert_invalid_token(read_profile(first, token))
    assert_invalid_token(poll(lambda: read_profile(second, token), 401, PROPAGATION_SECONDS))


def test_client_disabled_by_the_cli_is_refused_everywhere(instances: TwoInstances) -> None:
    """``anti-grazer clients disable``: within 1 s both instances refuse the client at the
    token endpoint (invalid_client) and refuse the tokens it held (invalid_token)."""
    client = create_client(instances.env)
    tokens = {url: issue(url, client) for url in instances.urls}
    for url in instances.urls:
        for token in tokens.values():
            assert read_profile(url, token).status_code == 200  # everything cached
    disabled = run_cli(["clients", "disable", client.client_id], instances.env)
    assert disabled.returncode == 0, disabled.stderr
    for url in instances.urls:
        assert_invalid_client(
            poll(
                partial(request_token, url, client.client_id, client.client_secret),
                401,
                PROPAGATION_SECONDS,
            )
        )
        for token in tokens.values():
            assert_invalid_token(poll(partial(read_profile, url, token), 401, PROPAGATION_SECONDS))


def test_secret_rotated_by_the_cli_is_refused_everywhere(instances: TwoInstances) -> None:
    """``anti-grazer clients rotate-secret --overlap 0`` (a leaked secret): the old secret
    is refused by both instances within 1 s; the new one works on both."""
    client = create_client(instances.env)
    for url in instances.urls:
        issue(url, client)  # the client is cached by both
    rotated = run_cli(
        ["clients", "rotate-secret", client.client_id, "--overlap", "0", "--json"], instances.env
    )
    assert rotated.returncode == 0, rotated.stderr
    new_secret = json.loads(rotated.stdout)["client_secret"]
    for url in instances.urls:
        assert_invalid_client(
            poll(
                partial(request_token, url, client.client_id, client.client_secret),
                401,
                PROPAGATION_SECONDS,
            )
        )
        assert request_token(url, client.client_id, new_secret).status_code == 200


# --- one instance, two workers, SQLite ---------------------------------------------------

CACHE_TTL_SECONDS = 1.0  # the default
WORKER_START_SECONDS = 15.0


def wait_for_workers(server: ServerProcess, count: int) -> None:
    """Wait until ``count`` workers have started (the first answering /health is not
    enough: requests must be able to reach every worker)."""
    deadline = time.monotonic() + WORKER_START_SECONDS
    while server.log_text().count("application_started") < count:
        assert server.process.poll() is None, server.log_text()
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.05)


def test_two_workers_on_sqlite_behave_as_one(tmp_path: Path) -> None:
    """``serve --workers 2`` on a SQLite file: tokens are accepted whichever worker
    answers; a revocation is refused by every request after at most
    ``cache_ttl_seconds`` (SQLite has no notification channel, the TTL is the bound)."""
    env = cli_environment(sqlite_url(tmp_path / "workers.db"))
    client = create_client(env)
    with serving(env, tmp_path / "server.log", ["--workers", "2"]) as server:
        wait_for_workers(server, 2)
        url = server.base_url
        tokens = [issue(url, client) for _ in range(5)]
        for token in tokens:
            for _ in range(8):  # fresh connections: both workers answer, and cache it
                response = read_profile(url, token)
                assert response.status_code == 200, response.text
        revoked = tokens[0]
        revoke(url, client, revoked)
        revoked_at = time.monotonic()
        assert_invalid_token(poll(lambda: read_profile(url, revoked), 401, 1.5))
        time.sleep(max(0.0, revoked_at + CACHE_TTL_SECONDS + 0.2 - time.monotonic()))
        for _ in range(20):
            assert_invalid_token(read_profile(url, revoked))
        for token in tokens[1:]:
            assert read_profile(url, token).status_code == 200
