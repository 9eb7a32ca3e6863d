"""The framework-free guard core (RFC 6750): from an Authorization header and the scopes a
resource needs to a ``Principal``, or the RFC 6750 §3.1 error."""

from __future__ import annotations

from typing import Protocol

from anti_grazer.protocol.bearer import parse_bearer_header
from anti_grazer.protocol.errors import InsufficientScopeError
from anti_grazer.protocol.models import Principal, Scopes
from anti_grazer.protocol.scope import render_scope


class TokenVerifier(Protocol):
    """Turns an access token into the ``Principal`` it speaks for, or raises
    ``InvalidTokenError``."""

    async def verify(self, token: str) -> Principal: ...


class BearerGuard:
    """Checks bearer tokens for resources; ``realm`` names the protection space."""

    def __init__(self, verifier: TokenVerifier, realm: str = "anti-grazer") -> None:
        self.verifier = verifier
        self.realm = realm

    async def verify(self, authorization: str | None) -> Principal:
        """The principal of the ``Authorization`` header's bearer token (§2.1), or the
        §3.1 error: no token, a malformed header, an invalid token."""
        return await self.verifier.verify(parse_bearer_header(authorization))

    @staticmethod
    def check_scopes(principal: Principal, required: Scopes) -> None:
        """§3.1 ``insufficient_scope`` unless ``principal`` carries every ``required`` scope."""
        if not required <= principal.scopes:
            raise InsufficientScopeError(render_scope(required))

    async def authenticate(self, authorization: str | None, required: Scopes) -> Principal:
        """Verify the bearer token and that it carries every ``required`` scope."""
        principal = await self.verify(authorization)
        self.check_scopes(principal, required)
        return principal
