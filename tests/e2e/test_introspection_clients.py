"""Real third-party clients discover the live server (RFC 8414) and introspect its tokens
(RFC 7662) over HTTPS: Authlib's ``OAuth2Session.introspect_token`` with each listed
client authentication method, and ``requests`` (through requests-oauthlib's session) as a
resource server registered with ``clients create --introspect``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session as RequestsOAuthlibSession

from anti_grazer.protocol.tokens import access_token_digest, token_id
from tests.e2e.conftest import TLSServer
from tests.e2e.process import CreatedClient, create_client, read_token

pytestmark = pytest.mark.slow

WELL_KNOWN = "/.well-known/oauth-authorization-server"


def discover(server: TLSServer) -> dict[str, Any]:
    """The metadata the live server publishes, checked by Authlib (RFC 8414 §2) but for
    the empty ``response_types_supported`` Authlib takes for a missing one."""
    response = requests.get(server.base_url + WELL_KNOWN, verify=str(server.ca_path), timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=3600"
    document: dict[str, Any] = response.json()
    metadata = AuthorizationServerMetadata(document)
    for key in metadata.REGISTRY_KEYS:
        if key != "response_types_supported":
            getattr(metadata, f"validate_{key}")()
    return document


def expected_members(server: TLSServer, token: str, owner: CreatedClient) -> dict[str, Any]:
    """RFC 7662 §2.2: what the database says of ``token``, as introspection renders it."""
    record = read_token(server.database_path, token)
    assert record is not None
    issued = int(record.issued_at.timestamp())
    return {
        "active": True,
        "scope": "profiles:read",
        "client_id": owner.client_id,
        "token_type": "Bearer",
        "exp": issued + 3600,
        "iat": issued,
        "nbf": issued,
        "sub": owner.client_id,
        "iss": server.base_url,
        "jti": token_id(access_token_digest(token)),
    }


def test_the_issuer_is_the_served_base_url(tls_server: TLSServer) -> None:
    """RFC 8414 §3.3: with ISSUER unset, the document fetched from https://127.0.0.1:PORT
    names that URL as its issuer, and its endpoints below it."""
    document = discover(tls_server)
    assert document["issuer"] == tls_server.base_url
    assert document["introspection_endpoint"] == f"{tls_server.base_url}/oauth/introspect"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_discovers_and_introspects_its_own_token(
    tls_server: TLSServer, method: str
) -> None:
    """Authlib fetches a token, introspects it at the discovered endpoint with the given
    method (both are listed), revokes it, and then finds it inactive."""
    document = discover(tls_server)
    assert method in document["introspection_endpoint_auth_methods_supported"]
    client = tls_server.client
    with AuthlibSession(
        client_id=client.client_id,
        client_secret=client.client_secret,
        token_endpoint_auth_method=method,
    ) as session:
        verify = str(tls_server.ca_path)
        token = session.fetch_token(document["token_endpoint"], verify=verify)
        access_token = token["access_token"]
        response = session.introspect_token(
            document["introspection_endpoint"],
            access_token,
            token_type_hint="access_token",
            verify=verify,
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.json() == expected_members(tls_server, access_token, client)
        session.revoke_token(document["revocation_endpoint"], access_token, verify=verify)
        inactive = session.introspect_token(
            document["introspection_endpoint"], access_token, verify=verify
        )
        assert inactive.status_code == 200
        assert inactive.content == b'{"active":false}'


def test_a_resource_server_introspects_with_requests(tls_server: TLSServer) -> None:
    """A client registered with ``--introspect`` introspects another client's token with
    plain ``requests`` (HTTP Basic); a client without it learns nothing of that token."""
    owner = tls_server.client
    resource_server = create_client(tls_server.env, "resource server", "", "", introspect=True)
    with RequestsOAuthlibSession(client=BackendApplicationClient(client_id=owner.client_id)) as (
        session
    ):
        token = session.fetch_token(
            token_url=f"{tls_server.base_url}/oauth/token",
            auth=HTTPBasicAuth(owner.client_id, owner.client_secret),
            verify=str(tls_server.ca_path),
        )
    access_token = token["access_token"]
    stranger = create_client(tls_server.env, "stranger")
    answers = {
        who.client_id: requests.post(
            f"{tls_server.base_url}/oauth/introspect",
            data={"token": access_token},
            auth=HTTPBasicAuth(who.client_id, who.client_secret),
            verify=str(tls_server.ca_path),
            timeout=10,
        )
        for who in (resource_server, stranger)
    }
    assert answers[resource_server.client_id].status_code == 200
    assert answers[resource_server.client_id].json() == expected_members(
        tls_server, access_token, owner
    )
    assert answers[stranger.client_id].status_code == 200
    assert answers[stranger.client_id].content == b'{"active":false}'
