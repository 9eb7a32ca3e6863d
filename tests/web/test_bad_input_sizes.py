"""Bodies at and over ``max_body_bytes`` at the OAuth endpoints: one of exactly the limit
is an ordinary request; one over it, declared or streamed, is a 413 ``invalid_request``
(DESIGN.md §5, §4.11)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.http_helpers import (
    FORM,
    OAUTH_ENDPOINTS,
    TOKEN,
    assert_issued,
    assert_oauth_error,
    basic,
)
from tests.support import Registered
from tests.web.bad_input import MAX_BODY_BYTES, padded, raw_post

pytestmark = pytest.mark.anyio


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
@pytest.mark.parametrize("path", OAUTH_ENDPOINTS)
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
