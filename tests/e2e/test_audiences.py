"""Audiences against a live ``anti-grazer serve`` (RFC 8707 resource indicators, issue 17
item 4): clients registered with ``clients create --audience``, a third-party client
(Authlib) asking for a ``resource``, and an API that does not share the database
checking the audience with either remote verifier (``audience=``): a token meant for
another API is 401 ``invalid_token`` (RFC 9700 §2.3, RFC 6750 §3.1); so it is at the
server's own ``/v1``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session

from anti_grazer.guard.introspection import IntrospectionVerifier
from anti_grazer.guard.jwt_verifier import JwtVerifier
from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    read_token,
    run_cli,
    serving,
    sqlite_url,
)
from tests.e2e.test_remote_verifiers import protected_api
from tests.http_helpers import PROFILE, TOKEN, assert_invalid_token, bearer
from tests.jwt_helpers import KEY_ENCRYPTION_KEY

pytestmark = pytest.mark.slow

REPORTS = "https://reports.example.com/"
CALENDAR = "urn:example:calendar"


@dataclass(frozen=True)
class AudienceServer:
    server: ServerProcess
    database: Path
    opaque: CreatedClient
    jwt: CreatedClient
    resource_server: CreatedClient

    @property
    def issuer(self) -> str:
        return self.server.base_url

    def token(self, client: CreatedClient, *resources: str) -> str:
        """A token for ``resources`` (one ``resource`` parameter each, RFC 8707 §2)."""
        response = httpx.post(
            self.issuer + TOKEN,
            data={"grant_type": "client_credentials", "resource": list(resources)},
            auth=(client.client_id, client.client_secret),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AudienceServer]:
    folder = tmp_path_factory.mktemp("e2e-audiences")
    database = folder / "anti-grazer.db"
    env = cli_environment(sqlite_url(database), key_encryption_key=KEY_ENCRYPTION_KEY)
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    audiences = (REPORTS, CALENDAR)
    with serving(env, folder / "server.log") as server:
        yield AudienceServer(
            server,
            database,
            create_client(env, "opaque", audiences=audiences),
            create_client(env, "jwt", token_format="jwt", audiences=audiences),
            create_client(env, "reports backend", scope="", default_scope="", introspect=True),
        )


def test_authlib_asks_for_a_resource(live: AudienceServer) -> None:
    """Authlib's ``OAuth2Session`` sends ``resource`` as an extra token request
    parameter; the token is stored for that audience (RFC 8707 §2)."""
    client = live.opaque
    with OAuth2Session(client.client_id, client.client_secret) as session:
        token = session.fetch_token(
            live.issuer + TOKEN, grant_type="client_credentials", resource=CALENDAR
        )
    record = read_token(live.database, token["access_token"])
    assert record is not None
    assert record.audience == (CALENDAR,)


def remote_verifier(
    live: AudienceServer, kind: str, audience: str
) -> IntrospectionVerifier | JwtVerifier:
    """The ``kind`` of remote verifier of the live server's tokens, for ``audience``."""
    if kind == "jwt":
        return JwtVerifier(live.issuer, audience=audience, timeout_seconds=2)
    rs = live.resource_server
    return IntrospectionVerifier(
        rs.client_id,
        rs.client_secret,
        issuer=live.issuer,
        audience=audience,
        cache_ttl_seconds=0,
        timeout_seconds=2,
    )


@pytest.mark.parametrize("kind", ["introspection", "jwt"])
async def test_a_remote_verifier_refuses_a_token_for_another_api(
    live: AudienceServer, kind: str
) -> None:
    """RFC 9700 §2.3 with RFC 9068 §4 / RFC 7662 §2.2: the API whose audience is
    ``REPORTS`` takes JWTs (and, by introspection, opaque tokens) whose ``aud`` names it,
    alone or in an array (or by default), and answers a token for another API 401
    ``invalid_token`` with the exact RFC 6750 §3 challenge."""
    owners = [live.jwt] if kind == "jwt" else [live.jwt, live.opaque]
    async with (
        remote_verifier(live, kind, REPORTS) as verifier,
        protected_api(verifier) as api,
    ):
        for owner in owners:
            for resources in ((REPORTS,), (CALENDAR, REPORTS), ()):
                answer = await api.get("/read", headers=bearer(live.token(owner, *resources)))
                assert answer.status_code == 200, answer.text
            refused = await api.get("/read", headers=bearer(live.token(owner, CALENDAR)))
            assert_invalid_token(refused)


def test_the_servers_own_api_refuses_a_token_for_another(live: AudienceServer) -> None:
    """Our ``/v1`` API (its audience the issuer, API_AUDIENCE unset) refuses a token
    for ``REPORTS``, opaque or JWT."""
    for owner in (live.opaque, live.jwt):
        answer = httpx.get(live.issuer + PROFILE, headers=bearer(live.token(owner, REPORTS)))
        assert_invalid_token(answer)
