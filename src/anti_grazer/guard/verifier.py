"""Verifying our own access tokens against the token store: an opaque token by its
format and checksum first (no lookup for a malformed token); a JWT access token (RFC
9068 §4) by its type, signature, issuer and audience (``JwtAccessTokenValidator``, with
the published keys); then either by one digest lookup of its record, which must be
neither expired nor revoked: a revoked JWT is refused at once, like an opaque token.

With the ``audience`` of the API it protects, a token meant for another API is refused
(RFC 9700 §2.3: "access tokens SHOULD be audience-restricted to a specific resource
server"; RFC 8707 §2, RFC 9068 §4): a JWT by its ``aud`` claim, an opaque token by the
audience its record was issued for."""

from __future__ import annotations

from anti_grazer.protocol.errors import InvalidTokenError
from anti_grazer.protocol.jwt_access_tokens import JwtAccessTokenValidator, looks_like_jwt
from anti_grazer.protocol.models import Principal, TokenRecord
from anti_grazer.protocol.ports import Clock, TokenStore
from anti_grazer.protocol.tokens import access_token_digest, is_well_formed_access_token


class StoreTokenVerifier:
    """A ``TokenVerifier`` backed by a ``TokenStore``: at most one lookup per token.
    Without ``jwt`` it accepts opaque tokens only.

    Without ``audience`` it accepts a token whatever its audience.  With it, a token must
    name ``audience``; an opaque token without any specific audience (one of a client
    registered without audiences that asked for none) passes too when
    ``accept_unrestricted``: such tokens were valid at every API before audiences
    existed, and the server's own ``/v1`` API keeps accepting them unless
    ``API_AUDIENCE`` is set (``web.app``)."""

    def __init__(
        self,
        tokens: TokenStore,
        clock: Clock,
        jwt: JwtAccessTokenValidator | None = None,
        *,
        audience: str | None = None,
        accept_unrestricted: bool = False,
    ) -> None:
        self.tokens = tokens
        self.clock = clock
        self.jwt = jwt
        self.audience = audience
        self.accept_unrestricted = accept_unrestricted

    async def verify(self, token: str) -> Principal:
        opaque = is_well_formed_access_token(token)
        if opaque:
            digest = access_token_digest(token)
        elif self.jwt is not None and looks_like_jwt(token):
            digest = await self.jwt.digest(token, self.audience)  # its aud claim checked
        else:
            raise InvalidTokenError()
        record = await self.tokens.get_token(digest)
        if record is None or not record.is_active(self.clock.now()):
            raise InvalidTokenError()
        if opaque and not self._is_for_us(record):
            raise InvalidTokenError()
        return Principal(record.client_id, record.scopes, record.expires_at)

    def _is_for_us(self, record: TokenRecord) -> bool:
        """The opaque token of ``record`` may be used here (its audience names ours)."""
        if self.audience is None:
            return True
        if not record.audience:
            return self.accept_unrestricted
        return self.audience in record.audience
