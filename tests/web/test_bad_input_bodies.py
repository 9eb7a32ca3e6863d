"""Bad form bodies at the OAuth endpoints get a clear 4xx OAuth error, never a 5xx
(DESIGN.md §5; RFC 6749 §3.2, §4.4.2, §5.2, Appendix B; RFC 7009 §2.2.1): arbitrary bytes
and parameters, text that is not UTF-8, and repeated parameters.

The property tests' examples share one running app and database, so every example
also checks that earlier garbage broke nothing.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.http_helpers import (
    FORM,
    OAUTH_ENDPOINTS,
    TOKEN,
    assert_invalid_client,
    assert_oauth_4xx,
    assert_oauth_error,
    basic,
)
from tests.support import Registered, property_settings
from tests.web.bad_input import GRANT, latin1_text, not_utf8, raw_post

pytestmark = pytest.mark.anyio


@property_settings
@given(
    body=st.one_of(
        st.binary(max_size=600),
        st.lists(st.tuples(latin1_text, latin1_text), max_size=8).map(
            lambda pairs: urlencode(pairs).encode()
        ),
    ),
    path=st.sampled_from(OAUTH_ENDPOINTS),
)
async def test_arbitrary_form_bodies_without_credentials_get_an_oauth_4xx(
    http: httpx.AsyncClient, body: bytes, path: str
) -> None:
    """RFC 6749 §5.2 / RFC 7009 §2.2.1 / RFC 7662 §2.3: any body gets a 4xx OAuth error,
    never a 5xx."""
    response = await raw_post(http, path, body, {"Content-Type": FORM})
    assert_oauth_4xx(response)


@property_settings
@given(
    params=st.dictionaries(
        st.one_of(
            st.sampled_from(["grant_type", "scope", "client_id", "client_secret"]),
            st.text(max_size=12),
        ),
        st.one_of(st.sampled_from(["client_credentials", "password", ""]), st.text(max_size=30)),
        max_size=10,
    )
)
async def test_arbitrary_token_parameters_without_credentials_get_the_expected_error(
    http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    """RFC 6749 §4.4.2, §5.2: grant_type is checked first (missing → invalid_request,
    unknown → unsupported_grant_type); then, with no valid credentials, invalid_client."""
    response = await raw_post(http, TOKEN, urlencode(params).encode(), {"Content-Type": FORM})
    grant_type = params.get("grant_type") or None
    if grant_type is None:
        assert_oauth_error(response, 400, "invalid_request", "The grant_type parameter is missing")
    elif grant_type != "client_credentials":
        assert_oauth_error(
            response, 400, "unsupported_grant_type", "The grant type is not supported"
        )
    else:
        assert_invalid_client(response)


@property_settings
@given(junk=not_utf8, where=st.sampled_from(["value", "name", "raw"]))
async def test_bodies_that_are_not_utf8_are_invalid_request(
    http: httpx.AsyncClient, registered: Registered, junk: bytes, where: str
) -> None:
    """RFC 6749 Appendix B: form values are UTF-8 before percent-encoding; raw bytes or
    percent-escapes that are not UTF-8 are refused as invalid_request."""
    escaped = quote(junk, safe="").encode()
    body = {
        "value": GRANT + b"&scope=" + escaped,
        "name": GRANT + b"&" + escaped + b"=x",
        "raw": GRANT + b"&scope=" + junk,
    }[where]
    response = await raw_post(
        http,
        TOKEN,
        body,
        {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
    )
    assert_oauth_error(
        response, 400, "invalid_request", "The request body is not a valid UTF-8 form"
    )


@property_settings
@given(
    name=st.one_of(
        st.sampled_from(["grant_type", "scope", "client_id", "client_secret", "token"]),
        st.text(max_size=10),
    ),
    values=st.tuples(st.text(max_size=20), st.text(max_size=20)),
    order=st.permutations(range(3)),
)
async def test_any_repeated_parameter_is_invalid_request(
    http: httpx.AsyncClient,
    registered: Registered,
    name: str,
    values: tuple[str, str],
    order: list[int],
) -> None:
    """RFC 6749 §3.2: request parameters MUST NOT be included more than once, whatever
    the name, values (even empty) or position."""
    pairs = [(name, values[0]), (name, values[1]), ("grant_type", "client_credentials")]
    if name == "grant_type":
        pairs[2] = ("scope", "profiles:read")
    body = urlencode([pairs[i] for i in order]).encode()
    response = await raw_post(
        http,
        TOKEN,
        body,
        {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
    )
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")
