"""Token introspection (RFC 7662): which tokens a caller may learn about, and what it
learns of one.  ``AuthorizationServer.introspect`` runs the request; the members of an
active token are built here only, from its ``TokenRecord``, so that a token format with
more claims adds them in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from anti_grazer.protocol.audience import audience_claim
from anti_grazer.protocol.models import BEARER, Client, TokenRecord
from anti_grazer.protocol.scope import render_scope
from anti_grazer.protocol.tokens import token_id

Members = Mapping[str, str | int | bool | list[str]]

# §2.2: an inactive token, or one the caller may not know about (§4), is exactly this:
# nothing about why.  (A Mapping to its users: read-only.)
INACTIVE: Final[Members] = {"active": False}


@dataclass(frozen=True, slots=True)
class IntrospectionResponse:
    """The §2.2 response to the authenticated client ``client_id``."""

    client_id: str
    members: Members
    secret_id: str | None = None  # the secret that authenticated (for the access log)


def may_introspect(caller: Client, record: TokenRecord) -> bool:
    """§2.1, §4: a client may learn about its own tokens; a resource server (registered
    with ``can_introspect``) about any token."""
    return caller.can_introspect or record.client_id == caller.client_id


def _seconds(instant: datetime) -> int:
    """§2.2 NumericDate: whole seconds since 1970-01-01T00:00:00Z."""
    return int(instant.timestamp())


def active_members(record: TokenRecord, issuer: str | None) -> Members:
    """§2.2 members of an active token: ``scope`` (left out for a token without scope,
    as in its token response), ``client_id``, ``token_type``, ``exp``, ``iat``, ``nbf``
    (valid from issue), ``sub`` (a client_credentials token speaks for its client),
    ``aud`` (the resources the token is for, RFC 8707 §2, shaped as in a JWT: one string,
    or an array of several; left out for a token without a specific audience), ``iss``
    (when the server has an issuer) and ``jti`` (a JWT's own; for an opaque token,
    ``token_id``)."""
    members: dict[str, str | int | bool | list[str]] = {"active": True}
    if record.scopes:
        members["scope"] = render_scope(record.scopes)
    issued_at = _seconds(record.issued_at)
    members |= {
        "client_id": record.client_id,
        "token_type": BEARER,
        "exp": _seconds(record.expires_at),
        "iat": issued_at,
        "nbf": issued_at,
        "sub": record.client_id,
    }
    if record.audience:
        members["aud"] = audience_claim(record.audience)
    if issuer is not None:
        members["iss"] = issuer
    members["jti"] = record.jti if record.jti is not None else token_id(record.digest)
    return members
