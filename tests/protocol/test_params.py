"""Form-encoded request parameters (RFC 6749 §3.2, Appendix B)."""

from __future__ import annotations

import pytest

from anti_grazer.protocol.errors import InvalidRequestError
from anti_grazer.protocol.params import (
    MAX_PARAMETERS,
    is_form_content_type,
    parse_form,
    values_of,
)
from tests.http_helpers import FORM


@pytest.mark.parametrize(
    "content_type",
    [
        FORM,
        "application/x-www-form-urlencoded; charset=utf-8",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "  application/x-www-form-urlencoded  ;x=y",
    ],
)
def test_form_content_types(content_type: str) -> None:
    """RFC 6749 §3.2: the form media type, case-insensitive, parameters allowed."""
    assert is_form_content_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/json", "multipart/form-data", "text/plain", FORM + "x", "x" + FORM],
)
def test_other_content_types(content_type: str | None) -> None:
    """RFC 6749 §3.2: nothing else is a form."""
    assert not is_form_content_type(content_type)


def test_parse_form_decodes_per_appendix_b() -> None:
    """RFC 6749 Appendix B: ``+`` is a space, percent-escapes are UTF-8 octets."""
    params = parse_form(b"a=x+y&b=%3A%2B%C3%A9&c=%E2%82%AC", FORM)
    assert params == {"a": "x y", "b": ":+é", "c": "€"}


def test_empty_values_are_omitted() -> None:
    """RFC 6749 §3.2: parameters sent without a value are treated as omitted."""
    assert parse_form(b"grant_type=client_credentials&scope=&x", FORM) == {
        "grant_type": "client_credentials"
    }


def test_an_empty_body_has_no_parameters() -> None:
    assert parse_form(b"", FORM) == {}


@pytest.mark.parametrize("body", [b"a=1&a=2", b"a=1&b=2&a=1", b"a=&a=1", b"a&a", b"a=1&%61=2"])
def test_a_repeated_parameter_is_invalid_request(body: bytes) -> None:
    """RFC 6749 §3.2: parameters MUST NOT be included more than once (also when one
    copy is empty or percent-escaped)."""
    with pytest.raises(InvalidRequestError) as raised:
        parse_form(body, FORM)
    assert raised.value.description == "A parameter is included more than once"
    assert raised.value.status == 400


def test_a_parameter_the_endpoint_names_may_repeat() -> None:
    """RFC 8707 §2: ``resource`` "may be used multiple times" where an endpoint lets it:
    every value in order (an empty one omitted, RFC 6749 §3.2), kept apart from the
    single-valued parameters."""
    body = b"grant_type=client_credentials&resource=https%3A%2F%2Fa&resource=&resource=b"
    form = parse_form(body, FORM, frozenset({"resource"}))
    assert form == {"grant_type": "client_credentials"}
    assert values_of(form, "resource") == ("https://a", "b")
    assert values_of(form, "grant_type") == ("client_credentials",)
    assert values_of(form, "scope") == ()
    assert values_of(parse_form(b"resource=", FORM, frozenset({"resource"})), "resource") == ()


def test_values_of_a_plain_mapping_are_its_one_value() -> None:
    assert values_of({"resource": "https://a"}, "resource") == ("https://a",)
    assert values_of({}, "resource") == ()


@pytest.mark.parametrize("body", [b"resource=a&resource=b", b"a=1&resource=x&a=2"])
def test_only_the_named_parameters_may_repeat(body: bytes) -> None:
    """RFC 6749 §3.2 still holds for every other parameter, and for ``resource`` where
    the endpoint does not name it."""
    repeatable = frozenset({"resource"}) if body.startswith(b"a=") else frozenset()
    with pytest.raises(InvalidRequestError) as raised:
        parse_form(body, FORM, repeatable)
    assert raised.value.description == "A parameter is included more than once"


@pytest.mark.parametrize("body", [b"a=\xff", b"\xc3=1", b"a=%FF", b"%C3=1", b"a=%ED%A0%80"])
def test_bytes_or_escapes_that_are_not_utf8_are_invalid_request(body: bytes) -> None:
    """RFC 6749 Appendix B: names and values are UTF-8."""
    with pytest.raises(InvalidRequestError) as raised:
        parse_form(body, FORM)
    assert raised.value.description == "The request body is not a valid UTF-8 form"


def test_too_many_parameters_are_invalid_request() -> None:
    """A form with more than MAX_PARAMETERS fields is refused before it is built, and
    says so (it is not an encoding problem)."""
    many = "&".join(f"p{i}=v" for i in range(MAX_PARAMETERS + 1)).encode()
    with pytest.raises(InvalidRequestError) as raised:
        parse_form(many, FORM)
    assert raised.value.description == (
        f"The request body has more than {MAX_PARAMETERS} parameters"
    )
    enough = "&".join(f"p{i}=v" for i in range(MAX_PARAMETERS)).encode()
    assert len(parse_form(enough, FORM)) == MAX_PARAMETERS


def test_another_content_type_is_invalid_request() -> None:
    """RFC 6749 §3.2: the body must be form-encoded."""
    with pytest.raises(InvalidRequestError) as raised:
        parse_form(b"grant_type=client_credentials", "application/json")
    assert raised.value.description == (
        "The request body must be application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize(
    "content_type",
    [
        FORM + ";charset=utf-8",
        FORM + "; charset=UTF-8",
        FORM + ' ; Charset="utf-8"',
        FORM + '; charset="UTF-8"; x=y',
        FORM + "; x=y ;charset=Utf-8",
    ],
)
def test_a_utf8_charset_is_accepted(content_type: str) -> None:
    """RFC 6749 Appendix B: the form is UTF-8; RFC 9110 §8.3.1: the ``charset`` name
    and value are case-insensitive and the value may be a quoted-string."""
    assert parse_form(b"a=%C3%A9", content_type) == {"a": "é"}


@pytest.mark.parametrize(
    "content_type",
    [
        FORM + "; charset=iso-8859-1",
        FORM + "; CHARSET=windows-1252",
        FORM + '; charset="latin1"',
        FORM + "; charset=utf8",
        FORM + "; charset=",
        FORM + "; charset=utf-8; charset=iso-8859-1",
    ],
)
def test_another_charset_is_invalid_request(content_type: str) -> None:
    """RFC 6749 Appendix B: the form is UTF-8; a body declared in another charset is
    refused rather than read as UTF-8 (even one whose bytes would also be UTF-8)."""
    with pytest.raises(InvalidRequestError) as raised:
        parse_form(b"a=1", content_type)
    assert raised.value.description == "The request body must be encoded in UTF-8"
    assert raised.value.status == 400
