"""What protocol/jwt_access_tokens.py decides from a token alone: the shape check, and the
digest a presented JWT's record is found under (no key needed; garbage finds nothing)."""

from __future__ import annotations

import json
from base64 import urlsafe_b64encode
from typing import Any

import pytest

from anti_grazer.protocol.jwt_access_tokens import (
    jwt_claims,
    looks_like_jwt,
    presented_jwt_digest,
)
from anti_grazer.protocol.token_lookup import presented_token_digest
from anti_grazer.protocol.tokens import (
    access_token_digest,
    generate_access_token,
    jwt_access_token_digest,
)
from tests.support import T0, make_token


def b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return urlsafe_b64encode(raw).rstrip(b"=").decode()


def token_with(claims: Any) -> str:
    return f"{b64({'alg': 'ES256', 'typ': 'at+jwt'})}.{b64(claims)}.{b64(b'signature')}"


def test_a_presented_jwt_is_found_by_its_iat_and_its_whole_string() -> None:
    token = token_with({"iat": 1_780_000_000, "sub": "x"})
    assert presented_jwt_digest(token) == jwt_access_token_digest(token, 1_780_000_000)
    assert presented_token_digest(token) == presented_jwt_digest(token)
    digest = presented_jwt_digest(token)
    assert digest is not None
    assert len(digest) == 64


def test_an_opaque_token_is_found_as_before() -> None:
    token = generate_access_token(T0)
    assert presented_token_digest(token) == access_token_digest(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9",  # two segments
        "eyJ.eyJ.sig.extra",
        "eyJhbGc!.eyJpYXQiOjF9.c2ln",  # outside base64url
        "e" + "yJ" * 3000 + ".eyJ.x",  # longer than any token of ours
        token_with({"sub": "no iat"}),
        token_with({"iat": "1780000000"}),
        token_with({"iat": True}),
        token_with({"iat": -1}),
        token_with({"iat": 10**30}),
        token_with([1, 2]),
        f"{b64({'alg': 'ES256'})}.eyJub3QganNvbg.c2ln",
    ],
)
def test_anything_else_has_no_digest(token: str) -> None:
    assert presented_token_digest(token) is None


def test_only_jwt_shaped_text_looks_like_a_jwt() -> None:
    assert looks_like_jwt(token_with({"iat": 1}))
    assert not looks_like_jwt(generate_access_token(T0))


def test_an_opaque_record_has_no_jwt_claims() -> None:
    with pytest.raises(ValueError, match="not the record of a JWT access token"):
        jwt_claims(make_token("opaque"), "https://as.example")
