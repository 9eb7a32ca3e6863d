"""The framework-free guard core (RFC 6750): from an Authorization header and the scopes a
resource needs to a ``Principal``, or the RFC 6750 §3.1 error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from anti_grazer.protocol.bearer import parse_bearer_header
from anti_grazer.protocol.errors import InsufficientScopeError
from anti_grazer.protocol.models import Principal, Scopes
from anti_grazer.protocol.scope import render_scope


class TokenVerifier(Protocol):
    """Turns an access token into the ``Principal`` it speaks for, or raises
    ``InvalidTokenError``."""

    async def verify(self, token: str) -> Principal: ...


OnVerified = Callable[[Principal], None]


def _ignore(_principal: Principal) -> None:
    """The default ``verified`` callback: nobody is told."""


class BearerGuard:
    """Checks bearer tokens for resources; ``realm`` names the protection space."""

    def __init__(self, verifier: TokenVerifier, realm: str = "anti-grazer") -> None:
        self.verifier = verifier
        self.realm = realm

    async def authenticate(
        self, authorization: str | None, required: Scopes, verified: OnVerified = _ignore
    ) -> Principal:
        """Verify the bearer token and that it carries every ``required`` scope.

        ``verified`` learns the principal before the scope check, so that an
        ``insufficient_scope`` refusal can still be attributed to its client."""
        principal = await self.verifier.verify(parse_bearer_header(authorization))
        verified(principal)
        if not required <= principal.scopes:
            raise InsufficientScopeError(render_scope(required))
        return principal
