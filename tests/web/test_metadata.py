"""The authorization server metadata through HTTP (RFC 8414): where it is (§3.1), the
response (§3.2), the issuer it names (§3.3), the members (§2), and what a third-party
validator (Authlib's ``AuthorizationServerMetadata``) makes of it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from structlog.testing import capture_logs

from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.e2e.process import sqlite_url
from tests.http_helpers import (
    CLIENT_CREDENTIALS,
    INTROSPECT,
    OAUTH_ENDPOINTS,
    REVOKE,
    TOKEN,
    assert_invalid_client,
    basic,
    post_form,
)
from tests.support import Registered, create_app, issue, running, settings_for

WELL_KNOWN = "/.well-known/oauth-authorization-server"
ISSUER = "https://as.example.com"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
# RFC 8414 §2: REQUIRED with private_key_jwt; RFC 7523 assertions' algorithms.
ASSERTION_ALGS = ["ES256", "EdDSA", "PS256", "RS256"]
# The document of ISSUER, member by member.
DOCUMENT = {
    "issuer": ISSUER,
    "token_endpoint": f"{ISSUER}/oauth/token",
    "token_endpoint_auth_methods_supported": AUTH_METHODS,
    "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
    "revocation_endpoint": f"{ISSUER}/oauth/revoke",
    "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
    "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
    "introspection_endpoint": f"{ISSUER}/oauth/introspect",
    "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
    "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
    "jwks_uri": f"{ISSUER}/oauth/jwks",
    "access_token_signing_alg_values_supported": ["ES256", "EdDSA"],
    "grant_types_supported": ["client_credentials"],
    "response_types_supported": [],
    "scopes_supported": ["reports:write", "profiles:read"],
    "service_documentation": f"{ISSUER}/docs",
}
# Authlib requires a non-empty response_types_supported (see the validation test).
AUTHLIB_SKIPS = {"response_types_supported"}


@pytest.fixture
def issuer() -> str:
    return ISSUER


@pytest.fixture
def app(database_url: str, clock: FrozenClock, issuer: str) -> Edge:
    """The app with ``issuer`` configured (ANTI_GRAZER_ISSUER)."""
    return create_app(settings_for(database_url, issuer=issuer), clock=clock)


@pytest.fixture
async def metadata(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get(WELL_KNOWN)


def assert_metadata_response(response: httpx.Response) -> dict[str, object]:
    """§3.2: 200, ``application/json``, a JSON object; cacheable by anyone for an hour."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get_list("cache-control") == ["public, max-age=3600"]
    assert "pragma" not in response.headers
    document = response.json()
    assert isinstance(document, dict)
    return document


async def test_the_document_is_json_and_names_every_endpoint(metadata: httpx.Response) -> None:
    """§3.2, §2: exactly the members above; no ``authorization_endpoint``, which §2
    requires only of a server with a grant type that uses it."""
    document = assert_metadata_response(metadata)
    assert document == DOCUMENT
    assert "authorization_endpoint" not in document


@pytest.mark.parametrize(
    ("issuer", "path"),
    [
        ("https://as.example.com/", WELL_KNOWN),
        ("https://as.example.com/tenant/a", f"{WELL_KNOWN}/tenant/a"),
        ("https://as.example.com/tenant/a/", f"{WELL_KNOWN}/tenant/a"),
        ("http://127.0.0.1:8000", WELL_KNOWN),
    ],
)
async def test_the_issuer_is_identical_to_the_one_the_url_was_built_from(
    http: httpx.AsyncClient, issuer: str, path: str
) -> None:
    """§3.1: the well-known suffix goes between the host and the issuer's path (its
    terminating "/" removed); §3.3: the ``issuer`` returned MUST be identical to that
    issuer, and the endpoints are below it."""
    document = assert_metadata_response(await http.get(path))
    assert document["issuer"] == issuer
    base = issuer.rstrip("/")
    assert document["token_endpoint"] == f"{base}/oauth/token"
    if path != WELL_KNOWN:  # the bare path would describe another issuer
        assert (await http.get(WELL_KNOWN)).status_code == 404


async def test_unset_the_listen_address_is_the_issuer(
    database_url: str, clock: FrozenClock
) -> None:
    """Without ISSUER (local use), the settings' listen address, whatever Host was sent."""
    app = create_app(settings_for(database_url, host="::1", port=9000), clock=clock)
    async with running(app) as http:
        response = await http.get(WELL_KNOWN, headers={"Host": "attacker.example"})
    document = assert_metadata_response(response)
    assert document["issuer"] == "http://[::1]:9000"
    assert document["token_endpoint"] == "http://[::1]:9000/oauth/token"
    assert b"attacker" not in response.content


async def test_the_advertised_endpoints_are_the_served_ones(
    http: httpx.AsyncClient, metadata: httpx.Response
) -> None:
    """§2: each endpoint URL is where that endpoint answers (a request without
    credentials gets its RFC 6749 §5.2 invalid_client)."""
    document = assert_metadata_response(metadata)
    paths = {
        name: str(document[name]).removeprefix(ISSUER)
        for name in ("token_endpoint", "revocation_endpoint", "introspection_endpoint")
    }
    assert paths == {
        "token_endpoint": TOKEN,
        "revocation_endpoint": REVOKE,
        "introspection_endpoint": INTROSPECT,
    }
    for path in paths.values():
        assert_invalid_client(await post_form(http, path, {**CLIENT_CREDENTIALS, "token": "x"}))
    jwks = await http.get(str(document["jwks_uri"]).removeprefix(ISSUER))
    assert jwks.status_code == 200
    assert jwks.headers["content-type"] == "application/jwk-set+json"
    assert set(jwks.json()) == {"keys"}  # RFC 7517 §5


@pytest.mark.parametrize("path", OAUTH_ENDPOINTS)
async def test_the_listed_auth_methods_are_exactly_the_enforced_ones(
    http: httpx.AsyncClient, registered: Registered, path: str
) -> None:
    """§2 ``*_endpoint_auth_methods_supported``: each listed method authenticates at each
    endpoint; ``none`` (a client id alone) does not, nor does a client assertion
    (``private_key_jwt``, ``client_secret_jwt``)."""
    token = await issue(http, registered)
    form = {**CLIENT_CREDENTIALS, "token": token}
    credentials = {"client_id": registered.client_id, "client_secret": registered.secret}
    by_basic = await post_form(http, path, form, basic(registered.client_id, registered.secret))
    by_post = await post_form(http, path, {**form, **credentials})
    assert (by_basic.status_code, by_post.status_code) == (200, 200)
    assertion = {
        "client_id": registered.client_id,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "eyJhbGciOiJIUzI1NiJ9.e30.x",
    }
    for unlisted in ({"client_id": registered.client_id}, assertion):
        assert_invalid_client(await post_form(http, path, {**form, **unlisted}))


async def test_no_member_is_an_empty_list_but_response_types(metadata: httpx.Response) -> None:
    """§3.2 "Claims with zero elements MUST be omitted", but for ``response_types_supported``:
    §2 makes it REQUIRED and this server, with no authorization endpoint, supports no
    response type, so it is there and empty (protocol/metadata.py)."""
    document = assert_metadata_response(metadata)
    assert document["response_types_supported"] == []
    empty = [name for name, value in document.items() if value in ([], "", None)]
    assert empty == ["response_types_supported"]


@pytest.mark.parametrize("issuer", [ISSUER, "http://127.0.0.1:8000", "https://as.example.com/t"])
async def test_authlib_validates_the_document(http: httpx.AsyncClient, issuer: str) -> None:
    """A third-party validator of §2, Authlib's ``AuthorizationServerMetadata``, finds
    every member valid, the REQUIRED ones present.  It refuses an empty
    ``response_types_supported`` as if it were missing (§2 only asks for a JSON array):
    that one member is checked here instead."""
    document = assert_metadata_response(await http.get(WELL_KNOWN + urlsplit(issuer).path))
    validated = AuthorizationServerMetadata(document)
    for key in AuthorizationServerMetadata.REGISTRY_KEYS:
        if key not in AUTHLIB_SKIPS:
            getattr(validated, f"validate_{key}")()
    assert isinstance(document["response_types_supported"], list)


async def test_only_get_reads_it(http: httpx.AsyncClient) -> None:
    """§3: "using an HTTP GET request"; a POST is not served.  HEAD answers the GET's
    head (RFC 9110 §9.1: general-purpose servers support GET and HEAD)."""
    assert (await http.post(WELL_KNOWN)).status_code == 405
    head = await http.head(WELL_KNOWN)
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/json"
    assert head.headers.get_list("cache-control") == ["public, max-age=3600"]


async def test_the_openapi_document_lists_it(http: httpx.AsyncClient) -> None:
    """The metadata route is in the OpenAPI document, with its members as its schema,
    and so is the introspection endpoint it names."""
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert paths[INTROSPECT]["post"]["operationId"] == "introspect_token"
    operation = paths[WELL_KNOWN]["get"]
    content = operation["responses"]["200"]["content"]["application/json"]
    assert content["example"] == DOCUMENT
    assert content["schema"]["required"] == list(DOCUMENT)
    assert set(content["schema"]["properties"]) == set(DOCUMENT)


@pytest.mark.parametrize(
    ("overrides", "warned"),
    [
        ({"host": "10.0.0.5"}, True),
        ({"host": "10.0.0.5", "issuer": ISSUER}, False),
        ({"host": "localhost"}, False),
    ],
)
def test_an_unset_issuer_off_loopback_is_logged(
    tmp_path: Path, overrides: dict[str, object], warned: bool
) -> None:
    """Off loopback the listen address is rarely what clients reach: the app says so
    when it is built (the database is opened only when it starts)."""
    with capture_logs() as logs:
        create_app(settings_for(sqlite_url(tmp_path / "unused.db"), **overrides))
    expected = {
        "logger_name": "anti_grazer.app",
        "event": "issuer_unset",
        "log_level": "warning",
        "message": "ISSUER is not set: the metadata and introspection name the listen "
        "address as the issuer; set ANTI_GRAZER_ISSUER to the https URL clients use",
        "issuer": "http://10.0.0.5:8000",
    }
    assert logs == ([expected] if warned else [])
