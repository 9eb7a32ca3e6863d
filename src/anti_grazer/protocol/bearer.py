"""Bearer token usage (RFC 6750): the Authorization header (§2.1), the ban on tokens in
URIs and bodies (§2.2, §2.3, DESIGN.md §4.8), and WWW-Authenticate challenges (§3)."""

from __future__ import annotations

import re

from anti_grazer.protocol.errors import (
    InsufficientScopeError,
    InvalidRequestError,
    MissingTokenError,
    OAuthError,
)

# b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
TOKEN_PARAMETER = "access_token"  # noqa: S105 - a parameter name


def parse_bearer_header(authorization: str | None) -> str:
    """The token in ``Authorization: Bearer <token>`` (scheme case-insensitive).

    No header, or another scheme, is a request without authentication (§3.1: challenge
    without an error code); a Bearer header that is not ``Bearer 1*SP b64token`` (§2.1)
    is an ``invalid_request``.
    """
    if authorization is None:
        raise MissingTokenError()
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise MissingTokenError()
    credentials = credentials.lstrip(" ")  # credentials = "Bearer" 1*SP b64token
    if _B64TOKEN.fullmatch(credentials) is None:
        raise InvalidRequestError("The Authorization header is not 'Bearer <token>'")
    return credentials


def refuse_token_outside_header(found: bool) -> None:
    """§2.2/§2.3 methods are disabled here: a token ``found`` in the URI or a form body is
    refused with ``invalid_request`` (a URI leaks into logs and histories)."""
    if found:
        raise InvalidRequestError("Send the access token in the Authorization header only")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_challenge(realm: str, error: OAuthError | None = None) -> str:
    """The ``WWW-Authenticate: Bearer ...`` value for ``error`` (§3)."""
    parts = [f"realm={_quote(realm)}"]
    if error is not None and not isinstance(error, MissingTokenError):
        parts.append(f"error={_quote(error.code)}")
        parts.append(f"error_description={_quote(error.description)}")
        if isinstance(error, InsufficientScopeError):
            parts.append(f"scope={_quote(error.required_scope)}")
    return "Bearer " + ", ".join(parts)
