"""Bad headers at the OAuth endpoints get a clear 4xx OAuth error, never a 5xx
(DESIGN.md §5; RFC 6749 §2.3.1, §3.2, §5.2; RFC 9110 §8.6): any Authorization value
without the client's credentials, any Content-Type, any Content-Length.

The property tests' examples share one running app and database, so every example
also checks that earlier garbage broke nothing.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.protocol.params import declares_only_utf8, is_form_content_type
from tests.http_helpers import (
    FORM,
    OAUTH_ENDPOINTS,
    TOKEN,
    assert_invalid_client,
    assert_issued,
    assert_oauth_error,
    basic,
)
from tests.support import Registered, property_settings
from tests.web.bad_input import GRANT, MAX_BODY_BYTES, authorization_values, latin1_text, raw_post

pytestmark = pytest.mark.anyio


@property_settings
@given(authorization=authorization_values, path=st.sampled_from(OAUTH_ENDPOINTS))
async def test_arbitrary_authorization_headers_get_invalid_client(
    http: httpx.AsyncClient, registered: Registered, authorization: bytes, path: str
) -> None:
    """RFC 6749 §2.3.1, §5.2: any Authorization value that does not carry the client's
    credentials — not Basic, not base64, not UTF-8, bad escapes — is the same 401."""
    body = GRANT if path == TOKEN else b"token=ag_at_x"
    response = await raw_post(
        http, path, body, {"Content-Type": FORM, "Authorization": authorization}
    )
    assert_invalid_client(response)


@property_settings
@given(
    content_type=st.one_of(
        latin1_text,
        st.tuples(
            st.sampled_from(["", " ", "x", ";"]),
            st.sampled_from([FORM, FORM.upper(), "application/x-www-form", "application/json"]),
            st.sampled_from(
                [
                    *["", ";", "; charset=utf-8", ' ; charset="UTF-8"', "; charset=latin1"],
                    *[" ; q=1", "x", "/x"],
                ]
            ),
        ).map("".join),
    )
)
async def test_arbitrary_content_types(
    http: httpx.AsyncClient, registered: Registered, content_type: str
) -> None:
    """RFC 6749 §3.2, §4.4.2: only application/x-www-form-urlencoded (any case, any
    parameters but a charset other than UTF-8, Appendix B) is read; every other value is
    invalid_request."""
    response = await raw_post(
        http,
        TOKEN,
        GRANT,
        {
            "Content-Type": content_type.encode("latin-1"),
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    if is_form_content_type(content_type) and declares_only_utf8(content_type):
        assert_issued(response, "profiles:read")
    elif is_form_content_type(content_type):
        assert_oauth_error(
            response, 400, "invalid_request", "The request body must be encoded in UTF-8"
        )
    else:
        assert_oauth_error(
            response,
            400,
            "invalid_request",
            "The request body must be application/x-www-form-urlencoded",
        )


@property_settings
@given(
    declared=st.one_of(
        st.integers(min_value=0, max_value=10**25).map(str),
        st.from_regex(r"0{0,40}[0-9]{1,6}", fullmatch=True),
        st.integers(min_value=4290, max_value=6000).map(lambda n: "9" * n),
        latin1_text,
        st.sampled_from(["-1", "+5", "1e3", "0x10", "²", "³", "١٢", " 29", "29 ", ""]),
    )
)
async def test_arbitrary_content_length_values(http: httpx.AsyncClient, declared: str) -> None:
    """RFC 9110 §8.6 Content-Length = 1*DIGIT: a malformed value is invalid_request, a
    value above max_body_bytes is 413 invalid_request, never a 5xx."""
    headers: dict[str, str | bytes] = {
        "Content-Type": FORM,
        "Content-Length": declared.encode("latin-1", errors="replace"),
    }
    response = await raw_post(http, TOKEN, GRANT, headers)
    sent = declared.encode("latin-1", errors="replace").decode("latin-1")
    if not (sent.isascii() and sent.isdigit()):
        assert_oauth_error(
            response, 400, "invalid_request", "The Content-Length header is malformed"
        )
    elif Decimal(sent) > MAX_BODY_BYTES:
        assert_oauth_error(response, 413, "invalid_request", "The request body is too large")
    else:  # the body itself is fine; no credentials were sent
        assert_invalid_client(response)
