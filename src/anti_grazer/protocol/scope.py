"""Access token scope (RFC 6749 §3.3): grammar, allow-lists and defaults."""

from __future__ import annotations

import re

from anti_grazer.protocol.errors import InvalidScopeError
from anti_grazer.protocol.models import Scopes

# scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def is_scope_token(token: str) -> bool:
    """True if ``token`` matches the §3.3 ``scope-token`` grammar."""
    return _SCOPE_TOKEN.fullmatch(token) is not None


def parse_scope(value: str) -> Scopes:
    """Parse a space-delimited scope string; raise ``InvalidScopeError`` if malformed."""
    tokens = value.split(" ")
    if not all(is_scope_token(token) for token in tokens):
        raise InvalidScopeError("The scope parameter is malformed")
    return frozenset(tokens)


def render_scope(scopes: Scopes) -> str:
    """Render scopes as the space-delimited string of §3.3, in a stable (sorted) order."""
    return " ".join(sorted(scopes))


def grant_scope(requested: str | None, allowed: Scopes, default: Scopes) -> Scopes:
    """The scope to grant (§3.3): the request's if every token is allowed, else
    ``InvalidScopeError``; when ``scope`` was omitted, ``default`` (the client's
    ``effective_default_scopes``, which may be empty: a token with no scope)."""
    if requested is None:
        return default
    scopes = parse_scope(requested)
    if not scopes <= allowed:
        raise InvalidScopeError()
    return scopes
