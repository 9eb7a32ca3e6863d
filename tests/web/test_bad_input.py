"""Bad input of any kind at the OAuth endpoints gets a clear 4xx OAuth error, never a 5xx,
and loses nothing already stored (DESIGN.md §5; RFC 6749 §3.2, §5.2; RFC 7009 §2.2.1).

Property tests: the examples of one test share one running app and database, so every
example also checks that earlier garbage broke nothing.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.protocol.params import declares_only_utf8, is_form_content_type
from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    FORM,
    REVOKE,
    TOKEN,
    assert_invalid_client,
    assert_issued,
    assert_no_store,
    assert_oauth_4xx,
    assert_oauth_error,
    basic,
)
from tests.support import Registered, property_settings

pytestmark = pytest.mark.anyio

MAX_BODY_BYTES = 16384  # the default of Settings.max_body_bytes
GRANT = b"grant_type=client_credentials"


async def raw_post(
    http: httpx.AsyncClient,
    url: str,
    content: bytes,
    headers: dict[str, str | bytes],
) -> httpx.Response:
    return await http.post(url, content=content, headers=raw_headers(headers))


def raw_headers(headers: dict[str, str | bytes] | dict[str, bytes]) -> list[tuple[bytes, bytes]]:
    """Header values as the bytes to send (text as latin-1, as HTTP/1.1 carries it)."""
    return [
        (name.encode("ascii"), value if isinstance(value, bytes) else value.encode("latin-1"))
        for name, value in headers.items()
    ]


# --- strategies -------------------------------------------------------------------------

# What an HTTP parser lets through in a field value: no CR, LF or NUL.
header_bytes = st.binary(max_size=120).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)
# Text as Starlette sees it (headers are decoded as latin-1).
latin1_text = st.text(
    alphabet=st.characters(min_codepoint=0x01, max_codepoint=0xFF, exclude_characters="\r\n"),
    max_size=60,
)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


not_utf8 = st.binary(min_size=1, max_size=60).filter(_not_utf8)

authorization_values = st.one_of(
    header_bytes,
    latin1_text.map(lambda t: t.encode("latin-1")),
    st.binary(max_size=80).map(lambda b: b"Basic " + b64encode(b)),
    st.tuples(latin1_text, latin1_text).map(
        lambda pair: ("Basic " + b64encode(":".join(pair).encode()).decode()).encode()
    ),
    not_utf8.map(lambda b: ("Basic " + b64encode(b"id:" + b).decode()).encode()),
    not_utf8.map(lambda b: ("Basic " + b64encode(b"id:" + quote(b).encode()).decode()).encode()),
    st.sampled_from(
        [b"Basic", b"Basic ", b"Bearer x", b"basic ====", b"Basic YQ==", b"Basic Og=="]
    ),
)


# --- arbitrary bodies -------------------------------------------------------------------


@property_settings
@given(
    body=st.one_of(
        st.binary(max_size=600),
        st.lists(st.tuples(latin1_text, latin1_text), max_size=8).map(
            lambda pairs: urlencode(pairs).encode()
        ),
    ),
    path=st.sampled_from([TOKEN, REVOKE]),
)
async def test_arbitrary_form_bodies_without_credentials_get_an_oauth_4xx(
    http: httpx.AsyncClient, body: bytes, path: str
) -> None:
    """RFC 6749 §5.2 / RFC 7009 §2.2.1: any body gets a 4xx OAuth error, never a 5xx."""
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


# --- arbitrary headers ------------------------------------------------------------------


@property_settings
@given(authorization=authorization_values, path=st.sampled_from([TOKEN, REVOKE]))
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


# --- encodings --------------------------------------------------------------------------


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


# --- repeated parameters ----------------------------------------------------------------


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


# --- huge bodies ------------------------------------------------------------------------


def padded(size: int) -> bytes:
    """A valid token request body of exactly ``size`` bytes."""
    prefix = GRANT + b"&pad="
    return prefix + b"x" * (size - len(prefix))


async def test_a_body_of_exactly_max_body_bytes_is_read(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2: a body at the limit (16384 bytes) is an ordinary request."""
    response = await raw_post(
        http,
        TOKEN,
        padded(MAX_BODY_BYTES),
        {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
    )
    assert_issued(response, "profiles:read")


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 10 * MAX_BODY_BYTES, 1_000_000])
@pytest.mark.parametrize("path", [TOKEN, REVOKE])
async def test_a_declared_body_over_the_limit_is_413(
    http: httpx.AsyncClient, registered: Registered, size: int, path: str
) -> None:
    """A body over max_body_bytes is refused with 413 invalid_request, however valid."""
    response = await raw_post(
        http,
        path,
        padded(size),
        {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
    )
    assert_oauth_error(response, 413, "invalid_request", "The request body is too large")


@pytest.mark.parametrize("chunk_size", [1000, MAX_BODY_BYTES + 1])
async def test_a_streamed_body_over_the_limit_is_413(
    http: httpx.AsyncClient, registered: Registered, chunk_size: int
) -> None:
    """Without a Content-Length (chunked), the limit is enforced while reading."""

    async def chunks() -> AsyncIterator[bytes]:
        body = padded(4 * MAX_BODY_BYTES)
        for start in range(0, len(body), chunk_size):
            yield body[start : start + chunk_size]

    request = http.build_request(
        "POST",
        TOKEN,
        content=chunks(),
        headers={
            "Content-Type": FORM,
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert "content-length" not in request.headers
    response = await http.send(request)
    assert_oauth_error(response, 413, "invalid_request", "The request body is too large")


# --- a mixed barrage, then the server still works -------------------------------------


@dataclass(frozen=True)
class RawRequest:
    method: str
    url: str
    headers: dict[str, bytes]
    content: bytes


# Stands for the other client's valid Basic credentials (known only inside the test).
OTHER_CLIENT_AUTH = b"<other client>"


def _raw_requests() -> st.SearchStrategy[RawRequest]:
    headers = st.fixed_dictionaries(
        {},
        optional={
            "Content-Type": st.one_of(st.just(FORM.encode()), header_bytes),
            "Authorization": st.one_of(st.just(OTHER_CLIENT_AUTH), authorization_values),
            "Content-Length": st.one_of(
                st.integers(0, 10**6).map(lambda n: str(n).encode()), header_bytes
            ),
        },
    )
    bodies = st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.tuples(
                st.sampled_from(["grant_type", "scope", "token", "token_type_hint", "client_id"]),
                st.text(max_size=20),
            ),
            max_size=6,
        ).map(lambda pairs: urlencode(pairs).encode()),
    )
    return st.builds(
        RawRequest,
        method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]),
        url=st.sampled_from([TOKEN, REVOKE, TOKEN + "?token=x", REVOKE + "?a=b"]),
        headers=headers,
        content=bodies,
    )


@pytest.fixture
async def baseline_token(http: httpx.AsyncClient, registered: Registered) -> str:
    """A token issued before any garbage arrives."""
    return assert_issued(
        await raw_post(
            http,
            TOKEN,
            GRANT,
            {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
        ),
        "profiles:read",
    )


@property_settings
@given(barrage=st.lists(_raw_requests(), min_size=1, max_size=8))
async def test_after_a_barrage_of_bad_requests_the_server_still_works(
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
    baseline_token: str,
    barrage: list[RawRequest],
) -> None:
    """DESIGN.md §5: garbage from any client gets 4xx OAuth errors (or, by chance, a
    well-formed answer), never a 5xx; afterwards a token issued earlier is still stored
    and active, another client cannot revoke it, and a normal request still succeeds."""
    other_auth = basic(other_client.client_id, other_client.secret).encode()
    for raw in barrage:
        headers = {
            name: other_auth if value == OTHER_CLIENT_AUTH else value
            for name, value in raw.headers.items()
        }
        response = await http.request(
            raw.method, raw.url, headers=raw_headers(headers), content=raw.content
        )
        if response.status_code == 200:  # e.g. the other client revoking garbage
            assert_no_store(response)
        else:
            assert_oauth_4xx(response)
    refused = await raw_post(
        http,
        REVOKE,
        f"token={baseline_token}".encode(),
        {"Content-Type": FORM, "Authorization": other_auth},
    )
    assert_oauth_error(
        refused, 400, "unauthorized_client", "The token was not issued to this client"
    )
    record = await sql.tokens.get_token(access_token_digest(baseline_token))
    assert record is not None
    assert record.client_id == registered.client_id
    assert record.revoked_at is None
    assert record.is_active(clock.now())
    fresh = await raw_post(
        http,
        TOKEN,
        GRANT,
        {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
    )
    assert (
        await sql.tokens.get_token(access_token_digest(assert_issued(fresh, "profiles:read")))
        is not None
    )
