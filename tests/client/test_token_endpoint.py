"""The token request a client sends (RFC 6749 §4.4.2, client authentication §2.3.1) and
how it reads the answer (§5.1, §5.2), without a server; none of it shows the secret."""

from __future__ import annotations

import json
from base64 import b64decode
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.client.secret import Secret
from anti_grazer.client.token_endpoint import (
    AuthMethod,
    IssuedToken,
    TokenEndpoint,
    TokenEndpointError,
    basic_credentials,
    check_token_url,
)
from anti_grazer.protocol.client_auth import parse_client_credentials

URL = "https://as.example/oauth/token"
SECRET = "ag_cs_s3cr3t"


def endpoint(method: AuthMethod = "client_secret_basic", scope: str | None = None) -> TokenEndpoint:
    return TokenEndpoint(URL, "ag_ci_client", Secret(SECRET), scope, method)


def test_rfc6749_section_2_3_1_example() -> None:
    assert (
        basic_credentials("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw")
        == "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3"
    )


def test_basic_form_urlencodes_the_id_and_secret_before_base64() -> None:
    """§2.3.1: "the client identifier is encoded using the application/x-www-form-urlencoded
    encoding algorithm per Appendix B, and the encoded value is used as the username; the
    client password is encoded using the same algorithm and used as the password"."""
    value = basic_credentials("a b:c", "p%ss/wörd")
    assert b64decode(value.removeprefix("Basic ")) == b"a+b%3Ac:p%25ss%2Fw%C3%B6rd"


# Any text but lone surrogates, which no UTF-8 request can carry.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1)


@given(TEXT, TEXT)
def test_the_servers_parser_reads_back_any_id_and_secret(client_id: str, secret: str) -> None:
    credentials = parse_client_credentials({}, basic_credentials(client_id, secret))
    assert (credentials.client_id, credentials.client_secret) == (client_id, secret)


def test_the_client_credentials_request_with_basic() -> None:
    """§4.4.2: ``grant_type=client_credentials`` (and ``scope`` when asked), form-encoded;
    the credentials in the Authorization header only."""
    sent = endpoint(scope="profiles:read reports:write").request()
    assert sent.url == URL
    assert sent.headers == {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "Authorization": basic_credentials("ag_ci_client", SECRET),
    }
    assert parse_qs(sent.body.decode(), strict_parsing=True) == {
        "grant_type": ["client_credentials"],
        "scope": ["profiles:read reports:write"],
    }


def test_the_client_credentials_request_with_post() -> None:
    """§2.3.1 ``client_secret_post``: the credentials in the body, no Authorization."""
    sent = endpoint("client_secret_post").request()
    assert "Authorization" not in sent.headers
    assert parse_qs(sent.body.decode(), strict_parsing=True) == {
        "grant_type": ["client_credentials"],
        "client_id": ["ag_ci_client"],
        "client_secret": [SECRET],
    }


def test_an_unknown_auth_method_is_refused() -> None:
    with pytest.raises(ValueError, match="auth_method"):
        TokenEndpoint(URL, "ag_ci_client", Secret(SECRET), None, "private_key_jwt")  # type: ignore[arg-type]


def answer(document: object) -> bytes:
    return json.dumps(document).encode()


def test_a_section_5_1_answer_is_read() -> None:
    token = {"access_token": "ag_at_x", "token_type": "Bearer", "expires_in": 3600}
    assert endpoint().read(200, answer(token)) == IssuedToken("ag_at_x", 3600.0)
    # §7.1: the token type is case-insensitive.
    lower = {**token, "token_type": "bearer"}
    assert endpoint().read(200, answer(lower)) == IssuedToken("ag_at_x", 3600.0)


@pytest.mark.parametrize("expires_in", [None, "3600", True, float("nan")])
def test_without_a_usable_expires_in_the_lifetime_is_unknown(expires_in: object) -> None:
    """§5.1: ``expires_in`` is RECOMMENDED, not required."""
    token: dict[str, object] = {"access_token": "ag_at_x", "token_type": "Bearer"}
    if expires_in is not None:
        token["expires_in"] = expires_in
    assert endpoint().read(200, answer(token)).expires_in is None


@pytest.mark.parametrize("expires_in", [-1, -3600.5, 0])
def test_a_token_already_expired_is_never_reused(expires_in: float) -> None:
    """§5.1 ``expires_in``: a lifetime of zero or less is over already (the next call
    asks for a new token), never an unknown one, which would be reused until refused."""
    token = {"access_token": "ag_at_x", "token_type": "Bearer", "expires_in": expires_in}
    assert endpoint().read(200, answer(token)).expires_in == 0.0


@pytest.mark.parametrize(
    "body",
    [
        answer({"token_type": "Bearer"}),
        answer({"access_token": "", "token_type": "Bearer"}),
        answer({"access_token": "ag_at_x", "token_type": "mac"}),
        answer({"access_token": "ag_at_x"}),
        answer(["ag_at_x"]),
        b"<html>OK</html>",
        b"\xff\xfe{",
    ],
)
def test_a_200_that_is_not_a_bearer_token_is_an_error(body: bytes) -> None:
    with pytest.raises(TokenEndpointError) as raised:
        endpoint().read(200, body)
    assert raised.value.error is None
    assert raised.value.status_code == 200


def test_a_section_5_2_error_carries_its_code_description_and_uri() -> None:
    error = {
        "error": "invalid_scope",
        "error_description": "The requested scope is invalid",
        "error_uri": "https://as.example/errors#scope",
    }
    with pytest.raises(TokenEndpointError) as raised:
        endpoint().read(400, answer(error))
    assert raised.value.status_code == 400
    assert raised.value.error == "invalid_scope"
    assert raised.value.description == "The requested scope is invalid"
    assert raised.value.error_uri == "https://as.example/errors#scope"
    assert str(raised.value) == (
        f"the token endpoint {URL} answered 400 invalid_scope: The requested scope is invalid"
    )


def test_an_answer_that_is_not_an_oauth_error_says_so() -> None:
    with pytest.raises(TokenEndpointError) as raised:
        endpoint().read(502, b"<html>Bad Gateway</html>")
    assert (raised.value.error, raised.value.description) == (None, None)
    assert str(raised.value) == f"the token endpoint {URL} answered 502 no OAuth error"


def test_a_secret_echoed_by_the_server_is_masked() -> None:
    error = {"error": "invalid_client", "error_description": f"bad secret {SECRET}"}
    with pytest.raises(TokenEndpointError) as raised:
        endpoint().read(401, answer(error))
    assert raised.value.description == "bad secret ********"
    assert SECRET not in str(raised.value)
    assert SECRET not in repr(raised.value)


def test_no_repr_shows_the_secret() -> None:
    sent = endpoint("client_secret_post").request()
    for shown in (repr(endpoint()), repr(sent), repr(endpoint("client_secret_post").request())):
        assert SECRET not in shown
        assert "Basic" not in shown


@pytest.mark.parametrize(
    ("url", "insecure_http"),
    [
        ("https://as.example/oauth/token", False),
        ("http://127.0.0.1:8000/oauth/token", False),
        ("http://[::1]:8000/oauth/token", False),
        ("http://localhost/oauth/token", False),
        ("http://as.internal/oauth/token", True),
    ],
)
def test_the_token_url_is_https_or_loopback(url: str, insecure_http: bool) -> None:
    check_token_url(url, insecure_http)


@pytest.mark.parametrize(
    "url", ["http://as.example/oauth/token", "ftp://as.example/", "/oauth/token", ""]
)
def test_a_token_url_that_would_send_the_secret_in_clear_is_refused(url: str) -> None:
    """RFC 6749 §2.3.1 and §3.2: the credentials and the token travel over TLS."""
    with pytest.raises(ValueError, match="https"):
        check_token_url(url, insecure_http=False)
