"""Access token scope (RFC 6749 §3.3): grammar, rendering and granting rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from anti_grazer.protocol.errors import InvalidScopeError
from anti_grazer.protocol.models import Client
from anti_grazer.protocol.scope import grant_scope, is_scope_token, parse_scope, render_scope

ALLOWED = frozenset({"profiles:read", "reports:write"})
DEFAULT = frozenset({"profiles:read"})


@pytest.mark.parametrize(
    "token", ["a", "profiles:read", "!", "#", "[", "]", "~", "x/y", "a=b", "https://x.y/z"]
)
def test_scope_tokens_in_the_grammar(token: str) -> None:
    """RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )."""
    assert is_scope_token(token)


@pytest.mark.parametrize("token", ["", " ", '"', "\\", "a b", "a\tb", "é", "\x7f", "\x00", "a\n"])
def test_scope_tokens_outside_the_grammar(token: str) -> None:
    """RFC 6749 §3.3: no space, DQUOTE, backslash, control or non-ASCII character."""
    assert not is_scope_token(token)


def test_every_printable_ascii_character_but_dquote_and_backslash_is_allowed() -> None:
    """RFC 6749 §3.3: the exact %x21 / %x23-5B / %x5D-7E set."""
    allowed = {chr(c) for c in range(0x80) if is_scope_token(chr(c))}
    assert allowed == {chr(c) for c in range(0x21, 0x7F)} - {'"', "\\"}


def test_parse_scope_splits_on_single_spaces() -> None:
    """RFC 6749 §3.3: a list of space-delimited, case-sensitive strings; order and
    repetition carry no meaning."""
    assert parse_scope("b a") == frozenset({"a", "b"})
    assert parse_scope("a a") == frozenset({"a"})
    assert parse_scope("A a") == frozenset({"A", "a"})


@pytest.mark.parametrize("value", ["", " ", "a  b", " a", "a ", "a\tb", 'a "b"', "a\\b"])
def test_malformed_scope_strings_are_invalid_scope(value: str) -> None:
    """RFC 6749 §3.3: scope = scope-token *( SP scope-token ); nothing else."""
    with pytest.raises(InvalidScopeError) as raised:
        parse_scope(value)
    assert raised.value.code == "invalid_scope"
    assert raised.value.status == 400
    assert raised.value.description == "The scope parameter is malformed"


def test_render_scope_is_sorted_and_space_delimited() -> None:
    """RFC 6749 §3.3, §5.1: the granted scope as one space-delimited string."""
    assert render_scope(frozenset({"reports:write", "profiles:read"})) == (
        "profiles:read reports:write"
    )
    assert render_scope(frozenset()) == ""


def test_an_omitted_scope_gets_the_default() -> None:
    """RFC 6749 §3.3: with scope omitted, the server uses a pre-defined default."""
    assert grant_scope(None, ALLOWED, DEFAULT) == DEFAULT


def test_an_omitted_scope_with_an_empty_default_grants_no_scope() -> None:
    """RFC 6749 §3.3: the default of a client with no scope at all is no scope (the
    response then leaves ``scope`` out, §5.1); it is not an invalid_scope."""
    assert grant_scope(None, frozenset(), frozenset()) == frozenset()


def client_with(allowed: str, default: str) -> Client:
    """A client allowed ``allowed``, with ``default`` stored as its default scope."""
    return Client(
        client_id="ag_ci_scope",
        name="scope test",
        allowed_scopes=frozenset(allowed.split()),
        default_scopes=frozenset(default.split()),
        token_ttl_seconds=None,
        enabled=True,
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
        updated_at=datetime(2026, 6, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("allowed", "default", "effective"),
    [
        ("a b", "a", "a"),
        ("a b", "a b", "a b"),
        ("a b", "", "a b"),
        ("a", "", "a"),
        ("", "", ""),
    ],
)
def test_the_effective_default_is_the_stored_default_else_every_allowed_scope(
    allowed: str, default: str, effective: str
) -> None:
    """RFC 6749 §3.3 pre-defined default, DESIGN.md §4.5: a client registered without a
    default scope has all of its allowed scopes as its default; an explicit default (a
    subset) is kept as it is."""
    assert client_with(allowed, default).effective_default_scopes == frozenset(effective.split())


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        ("profiles:read", {"profiles:read"}),
        ("reports:write profiles:read", {"profiles:read", "reports:write"}),
        ("reports:write", {"reports:write"}),
    ],
)
def test_an_allowed_scope_is_granted_as_requested(requested: str, granted: set[str]) -> None:
    """RFC 6749 §3.3: any subset of the client's allowed scope is granted."""
    assert grant_scope(requested, ALLOWED, DEFAULT) == frozenset(granted)


@pytest.mark.parametrize("requested", ["admin", "profiles:read admin", "Profiles:read"])
def test_a_scope_beyond_the_allowed_set_is_invalid_scope(requested: str) -> None:
    """RFC 6749 §3.3, §5.2: scope values are case-sensitive; anything not allowed fails."""
    with pytest.raises(InvalidScopeError) as raised:
        grant_scope(requested, ALLOWED, DEFAULT)
    assert raised.value.description == (
        "The requested scope is invalid or not allowed for this client"
    )
