"""``ClientCredentialsAuth`` as built: its ``repr`` names the client and never the
secret; settings that would leak the secret or mean nothing are refused; which request
bodies can be sent a second time."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
import requests

from anti_grazer.client import ClientCredentialsAuth
from anti_grazer.client.auth import can_resend


def test_repr_names_the_client_only() -> None:
    auth = ClientCredentialsAuth(
        "https://as.example/oauth/token", "ag_ci_x", "ag_cs_s3cr3t", scope="profiles:read"
    )
    assert repr(auth) == (
        "ClientCredentialsAuth(token_url='https://as.example/oauth/token', "
        "client_id='ag_ci_x', scope='profiles:read', auth_method='client_secret_basic')"
    )


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("http://as.example/oauth/token", {}),  # RFC 6749 §2.3.1: TLS for the secret
        ("https://as.example/oauth/token", {"timeout_seconds": 0}),
        ("https://as.example/oauth/token", {"leeway_seconds": -1}),
    ],
)
def test_the_constructor_refuses_unsafe_or_meaningless_settings(
    url: str, options: dict[str, float]
) -> None:
    with pytest.raises(ValueError, match=r"https|seconds"):
        ClientCredentialsAuth(url, "ag_ci_x", "ag_cs_s3cr3t", **options)  # type: ignore[arg-type]


def _httpx(**body: object) -> httpx.Request:
    return httpx.Request("POST", "https://api.example/v1/reports", **body)  # type: ignore[arg-type]


def _requests(**body: object) -> requests.PreparedRequest:
    return requests.Request("POST", "https://api.example/v1/reports", **body).prepare()  # type: ignore[arg-type]


def _chunks() -> Iterator[bytes]:
    yield b"{}"


@pytest.mark.parametrize(
    ("request_", "resent"),
    [
        (httpx.Request("GET", "https://api.example/"), True),
        (_httpx(content=b"{}"), True),
        (_httpx(data={"a": "b"}), True),
        (_httpx(json={"a": "b"}), True),
        (_httpx(content=_chunks()), False),
        (_httpx(content=io.BytesIO(b"{}")), False),
        (_httpx(files={"f": io.BytesIO(b"{}")}), False),  # httpx streams multipart
        (requests.Request("GET", "https://api.example/").prepare(), True),
        (_requests(data=b"{}"), True),
        (_requests(json={"a": "b"}), True),
        (_requests(files={"f": io.BytesIO(b"{}")}), True),  # requests encodes it in memory
        (_requests(data=_chunks()), False),
        (_requests(data=io.BytesIO(b"{}")), False),
    ],
)
def test_only_a_body_held_in_memory_is_resent(
    request_: httpx.Request | requests.PreparedRequest, resent: bool
) -> None:
    assert can_resend(request_) is resent
