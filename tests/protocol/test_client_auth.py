"""Client authentication (RFC 6749 §2.3, §2.3.1 with Appendix B; RFC 7617)."""

from __future__ import annotations

from base64 import b64encode
from datetime import UTC, datetime

import pytest

from anti_grazer.protocol.client_admin import register_client, set_enabled
from anti_grazer.protocol.client_auth import (
    AuthenticatedClient,
    AuthMethod,
    ClientCredentials,
    authenticate_client,
    parse_client_credentials,
)
from anti_grazer.protocol.errors import InvalidClientError, InvalidRequestError
from anti_grazer.store.memory import memory_stores
from tests.clock import FrozenClock
from tests.http_helpers import basic_raw


def test_basic_credentials() -> None:
    """RFC 6749 §2.3.1: client_secret_basic."""
    credentials = parse_client_credentials({}, basic_raw("id:secret"))
    assert credentials == ClientCredentials("id", "secret", AuthMethod.BASIC)


@pytest.mark.parametrize(
    ("userpass", "client_id", "secret"),
    [
        ("my+app:s+e+c", "my app", "s e c"),
        ("id%3Awith%3Acolons:p%3Aw", "id:with:colons", "p:w"),
        ("id:a:b:c", "id", "a:b:c"),
        ("id:%2B%25%26", "id", "+%&"),
        ("%C3%A9t%C3%A9:%E2%82%AC", "été", "€"),
    ],
)
def test_basic_credentials_are_form_urldecoded_and_split_on_the_first_colon(
    userpass: str, client_id: str, secret: str
) -> None:
    """RFC 6749 §2.3.1 / Appendix B: id and secret are form-urlencoded (UTF-8) before
    base64; RFC 7617 §2: the user-id ends at the first colon."""
    credentials = parse_client_credentials({}, basic_raw(userpass))
    assert (credentials.client_id, credentials.client_secret) == (client_id, secret)


def test_the_basic_scheme_is_case_insensitive_and_value_may_be_padded() -> None:
    """RFC 7235 §2.1: auth-scheme is case-insensitive."""
    value = b64encode(b"id:secret").decode()
    for header in (f"BASIC {value}", f"basic {value}", f"Basic   {value}  "):
        assert parse_client_credentials({}, header).client_id == "id"


def test_body_credentials() -> None:
    """RFC 6749 §2.3.1: client_secret_post."""
    credentials = parse_client_credentials(
        {"client_id": "id", "client_secret": "secret", "grant_type": "x"}, None
    )
    assert credentials == ClientCredentials("id", "secret", AuthMethod.POST)


def test_basic_with_a_body_secret_is_two_methods() -> None:
    """RFC 6749 §2.3: the client MUST NOT use more than one method in each request."""
    with pytest.raises(InvalidRequestError) as raised:
        parse_client_credentials({"client_secret": "secret"}, basic_raw("id:secret"))
    assert raised.value.description == "The client used more than one authentication method"


def test_basic_with_a_different_body_client_id_is_two_methods() -> None:
    """RFC 6749 §2.3: two identifications that disagree."""
    with pytest.raises(InvalidRequestError):
        parse_client_credentials({"client_id": "other"}, basic_raw("id:secret"))


def test_basic_with_the_same_body_client_id_is_accepted() -> None:
    """RFC 6749 §2.3.1: a body client_id alone is no authentication method."""
    credentials = parse_client_credentials({"client_id": "id"}, basic_raw("id:secret"))
    assert credentials.method is AuthMethod.BASIC


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic",
        "Basic ",
        "Bearer abc",
        "Digest x",
        "Basic !!!",
        "Basic abc",  # bad padding
        basic_raw("no-colon"),
        basic_raw(":secret"),
        basic_raw("id:"),
        basic_raw(b"\xff:secret"),
        basic_raw("id%FF:secret"),
        basic_raw("id:%C3"),
        "Basic " + "é" * 8,
    ],
)
def test_unusable_authorization_headers_are_invalid_client(authorization: str) -> None:
    """RFC 6749 §5.2: a failed authentication is invalid_client (401)."""
    with pytest.raises(InvalidClientError) as raised:
        parse_client_credentials({"grant_type": "client_credentials"}, authorization)
    assert raised.value.status == 401
    assert raised.value.description == "Client authentication failed"


@pytest.mark.parametrize("params", [{}, {"client_id": "id"}, {"client_secret": "secret"}])
def test_missing_body_credentials_are_invalid_client(params: dict[str, str]) -> None:
    """RFC 6749 §5.2: no client authentication included is invalid_client."""
    with pytest.raises(InvalidClientError):
        parse_client_credentials(params, None)


def test_credentials_repr_hides_the_secret() -> None:
    """DESIGN.md §4.8: a secret never reaches a log through a repr."""
    credentials = ClientCredentials("id", "ag_cs_topsecret", AuthMethod.POST)
    assert "ag_cs_topsecret" not in repr(credentials)
    assert repr(credentials) == "ClientCredentials(client_id='id', method=client_secret_post)"


async def test_authenticate_client() -> None:
    """RFC 6749 §2.3.1: the enabled client with the matching secret authenticates; an
    unknown id, a wrong secret and a disabled client all fail alike."""
    stores = memory_stores()
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    client, secret = await register_client(
        stores.clients, clock, "c", frozenset({"a"}), frozenset({"a"})
    )
    ok = ClientCredentials(client.client_id, secret, AuthMethod.BASIC)
    now = clock.now()
    caller = await authenticate_client(stores.clients, ok, now)
    assert caller == AuthenticatedClient(client, client.secrets[0].secret_id)
    failures = [
        ClientCredentials("ag_ci_unknown", secret, AuthMethod.BASIC),
        ClientCredentials(client.client_id, secret + "x", AuthMethod.POST),
    ]
    for credentials in failures:
        with pytest.raises(InvalidClientError):
            await authenticate_client(stores.clients, credentials, now)
    await set_enabled(stores.clients, stores.tokens, clock, client, enabled=False)
    with pytest.raises(InvalidClientError):
        await authenticate_client(stores.clients, ok, now)
