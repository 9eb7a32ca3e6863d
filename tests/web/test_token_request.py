"""The token endpoint's request rules through HTTP (RFC 6749 §3.2): POST only, no query
string, an ``application/x-www-form-urlencoded`` body in UTF-8 (§4.4.2, Appendix B), no
repeated parameter, a bounded number of them, and unrecognised ones ignored; each breach
is an exact §5.2 error."""

from __future__ import annotations

import httpx
import pytest

from anti_grazer.protocol.params import MAX_PARAMETERS
from anti_grazer.store.runtime import OpenedStores
from tests.http_helpers import (
    CLIENT_CREDENTIALS,
    FORM,
    TOKEN,
    assert_issued,
    assert_no_store,
    assert_oauth_error,
    basic,
    post_form,
)
from tests.support import Registered, count_tokens

# --- the form body (§3.2, §4.4.2, Appendix B) ------------------------------------------


async def test_unrecognised_parameters_are_ignored(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2: the authorization server MUST ignore unrecognized parameters."""
    response = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "audience": "x", "foo": "bar"},
        basic(registered.client_id, registered.secret),
    )
    assert_issued(response, "profiles:read", 3600)


async def test_form_content_type_with_charset_and_any_case_is_accepted(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2, §4.4.2: the body is application/x-www-form-urlencoded; media type
    names are case-insensitive and may carry parameters (RFC 9110 §8.3.1)."""
    for content_type in (
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-URLEncoded",
    ):
        response = await http.post(
            TOKEN,
            content=b"grant_type=client_credentials",
            headers={
                "Content-Type": content_type,
                "Authorization": basic(registered.client_id, registered.secret),
            },
        )
        assert_issued(response, "profiles:read", 3600)


@pytest.mark.parametrize(
    "charset", ["iso-8859-1", "ISO-8859-1", '"windows-1252"', "us-ascii", "utf-16"]
)
async def test_a_form_declared_in_another_charset_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, charset: str
) -> None:
    """RFC 6749 Appendix B: the form is UTF-8.  A body declared in another charset is
    refused, not read as UTF-8, even when its bytes would read the same."""
    response = await http.post(
        TOKEN,
        content=b"grant_type=client_credentials",
        headers={
            "Content-Type": f"{FORM}; charset={charset}",
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_oauth_error(
        response, 400, "invalid_request", "The request body must be encoded in UTF-8"
    )
    assert await count_tokens(sql.engine) == 0


async def test_a_quoted_utf8_charset_is_accepted(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 9110 §8.3.1: a parameter value may be a quoted-string."""
    response = await http.post(
        TOKEN,
        content=b"grant_type=client_credentials",
        headers={
            "Content-Type": f'{FORM}; charset="utf-8"',
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_issued(response, "profiles:read", 3600)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/json", b'{"grant_type": "client_credentials"}'),
        ("multipart/form-data; boundary=x", b"--x--"),
        ("text/plain", b"grant_type=client_credentials"),
        ("application/x-www-form-urlencodedX", b"grant_type=client_credentials"),
        (None, b"grant_type=client_credentials"),
    ],
)
async def test_a_body_that_is_not_form_encoded_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, content_type: str | None, content: bytes
) -> None:
    """RFC 6749 §3.2, §4.4.2: parameters use application/x-www-form-urlencoded; any
    other (or no) content type is refused."""
    headers = {"Authorization": basic(registered.client_id, registered.secret)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await http.post(TOKEN, content=content, headers=headers)
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        "The request body must be application/x-www-form-urlencoded",
    )


async def test_too_many_parameters_are_invalid_request_saying_so(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """A form of more than MAX_PARAMETERS fields is refused with a description naming the
    problem (it is well-formed UTF-8)."""
    padding = "&".join(f"p{i}=v" for i in range(MAX_PARAMETERS))
    response = await http.post(
        TOKEN,
        content=f"grant_type=client_credentials&{padding}".encode(),
        headers={
            "Content-Type": FORM,
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        f"The request body has more than {MAX_PARAMETERS} parameters",
    )


# --- parameters in the body, once each (§2.3.1, §3.2) ---------------------------------


@pytest.mark.parametrize(
    "query",
    ["client_id={id}&client_secret={secret}", "grant_type=client_credentials", "foo=bar"],
)
async def test_any_query_string_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, query: str
) -> None:
    """RFC 6749 §2.3.1 (credentials MUST NOT be in the request URI) and §3.2 (parameters
    travel in the body): any query string is refused, even with valid credentials."""
    response = await http.post(
        f"{TOKEN}?{query.format(id=registered.client_id, secret=registered.secret)}",
        data=CLIENT_CREDENTIALS,
        headers={"Authorization": basic(registered.client_id, registered.secret)},
    )
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        "Parameters must be sent in the request body, not the URL",
    )
    assert await count_tokens(sql.engine) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=client_credentials&grant_type=client_credentials",
        b"grant_type=client_credentials&scope=profiles:read&scope=reports:write",
        b"grant_type=client_credentials&scope=&scope=profiles:read",
        b"grant_type=client_credentials&foo=1&foo=2",
    ],
)
async def test_a_repeated_parameter_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, body: bytes
) -> None:
    """RFC 6749 §3.2: request parameters MUST NOT be included more than once."""
    response = await http.post(
        TOKEN,
        content=body,
        headers={
            "Content-Type": FORM,
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")
    assert await count_tokens(sql.engine) == 0


async def test_repeated_body_credentials_are_invalid_request(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2: a repeated client_secret is refused, not resolved either way."""
    body = (
        f"grant_type=client_credentials&client_id={registered.client_id}"
        f"&client_secret={registered.secret}&client_secret=other"
    ).encode()
    response = await http.post(TOKEN, content=body, headers={"Content-Type": FORM})
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")


# --- POST only (§3.2) -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_methods_other_than_post_get_405(
    http: httpx.AsyncClient, registered: Registered, method: str, path: str
) -> None:
    """RFC 6749 §3.2 (the client MUST use POST), RFC 7009 §2.1 and RFC 7662 §2.1 (POST):
    other methods get 405
    with ``Allow: POST`` and an OAuth JSON error."""
    response = await http.request(
        method, path, headers={"Authorization": basic(registered.client_id, registered.secret)}
    )
    assert_oauth_error(response, 405, "invalid_request", "Only POST is allowed at this endpoint")
    assert response.headers["allow"] == "POST"


async def test_head_gets_405_with_allow_post(http: httpx.AsyncClient) -> None:
    """RFC 6749 §3.2: HEAD is not POST either; its answer carries no body to check."""
    response = await http.head(TOKEN)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert_no_store(response)


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND"])
async def test_unlisted_methods_also_get_an_oauth_405(http: httpx.AsyncClient, method: str) -> None:
    """RFC 6749 §3.2, §5.2: any method but POST gets the OAuth 405 (not framework JSON)."""
    response = await http.request(method, TOKEN)
    assert_oauth_error(response, 405, "invalid_request", "Only POST is allowed at this endpoint")
    assert response.headers["allow"] == "POST"
