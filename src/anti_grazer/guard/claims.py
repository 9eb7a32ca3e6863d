"""Reading the members both remote verifiers read, from a JWT's claims (RFC 7519 §4.1,
RFC 9068 §2.2) or an introspection answer (RFC 7662 §2.2).  The NumericDate and audience
readers are ``protocol.jwt_claims``', shared with the workload federation."""

from __future__ import annotations

from anti_grazer.protocol.errors import InvalidScopeError
from anti_grazer.protocol.jwt_claims import audience_contains, numeric_date
from anti_grazer.protocol.models import Scopes
from anti_grazer.protocol.scope import parse_scope

__all__ = ["audience_contains", "claimed_scope", "non_empty_string", "numeric_date"]


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
