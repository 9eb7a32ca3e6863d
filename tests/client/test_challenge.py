"""Reading ``WWW-Authenticate`` (RFC 7235 §4.1 / RFC 9110 §11.6.1) for RFC 6750 §3.1's
``invalid_token``: the one refusal after which a client fetches a fresh token."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.client.challenge import parse_challenges, says_invalid_token


def test_rfc6750_section_3_1_example_is_read() -> None:
    value = (
        'Bearer realm="example", error="invalid_token", '
        'error_description="The access token expired"'
    )
    assert parse_challenges(value) == [
        (
            "bearer",
            {
                "realm": "example",
                "error": "invalid_token",
                "error_description": "The access token expired",
            },
        )
    ]
    assert says_invalid_token([value])


def test_challenges_in_one_value_and_in_several_values() -> None:
    """RFC 9110 §11.6.1: a value is a list of challenges; a scheme may come with a token68,
    with parameters, or alone."""
    value = (
        'Negotiate a87421000492aa874209af8bc028==, Basic realm="x", Bearer error="invalid_token"'
    )
    assert parse_challenges(value) == [
        ("negotiate", {}),
        ("basic", {"realm": "x"}),
        ("bearer", {"error": "invalid_token"}),
    ]
    assert says_invalid_token(['Basic realm="x"', 'Bearer realm="y", error="invalid_token"'])
    assert parse_challenges("Newauth, Bearer") == [("newauth", {}), ("bearer", {})]


@pytest.mark.parametrize(
    "value",
    [
        "Bearer error=invalid_token",  # a token, not a quoted-string: RFC 7235 allows both
        'bearer ERROR = "invalid_token"',  # scheme and parameter names are case-insensitive
        'Bearer realm="a \\"quoted\\", error=\\"x\\"", error="invalid_token"',
        ' ,Bearer\trealm="a",,  error="invalid_token" ,',  # empty list elements, tabs
    ],
)
def test_invalid_token_is_found_however_written(value: str) -> None:
    assert says_invalid_token([value])


@pytest.mark.parametrize(
    "value",
    [
        "",
        'Bearer realm="api"',  # §3.1: no error code when the request had no token
        'Bearer error="insufficient_scope", scope="a"',
        'Bearer error="invalid_request"',
        'Bearer error="INVALID_TOKEN"',  # values are case-sensitive
        'Basic realm="x", error="invalid_token"',  # another scheme's parameter
        'Bearer realm="a \\"error=\\"invalid_token\\""',  # inside a quoted value
        'Bearer realm="unterminated, error="invalid_token"',
        '"not a challenge" Bearer error="invalid_token"',
    ],
)
def test_anything_else_is_not_invalid_token(value: str) -> None:
    assert not says_invalid_token([value])


def test_a_quoted_pair_is_unescaped() -> None:
    assert parse_challenges('Bearer realm="a\\\\b\\"c"') == [("bearer", {"realm": 'a\\b"c'})]


def test_a_repeated_parameter_keeps_its_first_value() -> None:
    assert not says_invalid_token(['Bearer error="invalid_request", error="invalid_token"'])


@given(st.text())
def test_any_text_is_read_without_error(value: str) -> None:
    parse_challenges(value)
    says_invalid_token([value])
