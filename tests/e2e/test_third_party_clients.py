"""Real third-party OAuth 2.0 clients against the real server over HTTPS: Authlib and
requests-oauthlib, with HTTP Basic (RFC 6749 §2.3.1 ``client_secret_basic``) and body
credentials (``client_secret_post``), then RFC 7009 revocation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session as RequestsOAuthlibSession

from tests.e2e.conftest import TLSServer
from tests.e2e.process import read_token

pytestmark = pytest.mark.slow


def assert_fetched(
    server: TLSServer, token: Mapping[str, object], scope: str, parsed_scope: object = None
) -> str:
    """The token response is exact and the token is recorded, active, for our client.
    ``parsed_scope`` is the scope as the library hands it back, when it parses it."""
    access_token = token["access_token"]
    assert isinstance(access_token, str)
    assert access_token.startswith("ag_at_")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == (scope if parsed_scope is None else parsed_scope)
    record = read_token(server.database_path, access_token)
    assert record is not None
    assert record.client_id == server.client.client_id
    assert record.scopes == frozenset(scope.split())
    assert record.expires_at - record.issued_at == timedelta(seconds=3600)
    assert record.revoked_at is None
    return access_token


def assert_revoked(server: TLSServer, access_token: str) -> None:
    record = read_token(server.database_path, access_token)
    assert record is not None
    assert record.revoked_at is not None


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_fetch_and_revoke(tls_server: TLSServer, method: str) -> None:
    client = tls_server.client
    with AuthlibSession(
        client_id=client.client_id,
        client_secret=client.client_secret,
        token_endpoint_auth_method=method,
    ) as session:
        token = session.fetch_token(
            f"{tls_server.base_url}/oauth/token",
            grant_type="client_credentials",
            verify=str(tls_server.ca_path),
        )
        access_token = assert_fetched(tls_server, token, "profiles:read")
        response = session.revoke_token(
            f"{tls_server.base_url}/oauth/revoke",
            access_token,
            token_type_hint="access_token",
            verify=str(tls_server.ca_path),
        )
        assert response.status_code == 200
        assert response.content == b""
    assert_revoked(tls_server, access_token)


def test_authlib_requests_a_scope(tls_server: TLSServer) -> None:
    """RFC 6749 §3.3: a requested scope inside the allowed set is granted as asked."""
    client = tls_server.client
    with AuthlibSession(
        client_id=client.client_id,
        client_secret=client.client_secret,
        scope="reports:write profiles:read",
    ) as session:
        token = session.fetch_token(
            f"{tls_server.base_url}/oauth/token",
            grant_type="client_credentials",
            verify=str(tls_server.ca_path),
        )
        access_token = assert_fetched(tls_server, token, "profiles:read reports:write")
        response = session.revoke_token(
            f"{tls_server.base_url}/oauth/revoke", access_token, verify=str(tls_server.ca_path)
        )
        assert response.status_code == 200
    assert_revoked(tls_server, access_token)


@pytest.mark.parametrize("credentials", ["basic", "body"])
def test_requests_oauthlib_backend_application(tls_server: TLSServer, credentials: str) -> None:
    client = tls_server.client
    with RequestsOAuthlibSession(client=BackendApplicationClient(client_id=client.client_id)) as (
        session
    ):
        token_url = f"{tls_server.base_url}/oauth/token"
        if credentials == "basic":
            token = session.fetch_token(
                token_url=token_url,
                auth=HTTPBasicAuth(client.client_id, client.client_secret),
                verify=str(tls_server.ca_path),
            )
        else:
            token = session.fetch_token(
                token_url=token_url,
                client_id=client.client_id,
                client_secret=client.client_secret,
                include_client_id=True,
                verify=str(tls_server.ca_path),
            )
        # oauthlib hands the scope back as a list.
        access_token = assert_fetched(tls_server, token, "profiles:read", ["profiles:read"])
        response = session.post(
            f"{tls_server.base_url}/oauth/revoke",
            data={"token": access_token, "token_type_hint": "access_token"},
            auth=HTTPBasicAuth(client.client_id, client.client_secret),
            withhold_token=True,
            verify=str(tls_server.ca_path),
        )
        assert response.status_code == 200
        assert response.content == b""
    assert_revoked(tls_server, access_token)
