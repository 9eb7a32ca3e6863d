"""Reading the members of a JWT's claims (RFC 7519 §4.1, RFC 9068 §2.2) or of an
introspection answer (RFC 7662 §2.2): the guard's remote verifiers and the client
assertions of ``protocol.client_assertion`` read them alike; ``aud`` is checked by
``protocol.audience.audience_contains``."""

from __future__ import annotations

from datetime import UTC, datetime

from anti_grazer.protocol.errors import InvalidScopeError
from anti_grazer.protocol.models import Scopes
from anti_grazer.protocol.scope import parse_scope


def numeric_date(value: object) -> datetime | None:
    """A NumericDate (RFC 7519 §2: seconds since the epoch, a JSON number) as a UTC
    datetime; None when absent; ``ValueError`` for anything else (a boolean, a string, a
    number out of range)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError) as error:
        raise ValueError("NumericDate out of range") from error


def claimed_scope(scope: object) -> Scopes:
    """A ``scope`` member (RFC 7662 §2.2, RFC 9068 §2.2.3): absent (or empty) is no
    scope; else the RFC 6749 §3.3 space-delimited list, or ``InvalidScopeError``."""
    if scope is None or scope == "":
        return frozenset()
    if not isinstance(scope, str):
        raise InvalidScopeError("scope is not a string")
    return parse_scope(scope)


def non_empty_string(value: object) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None
