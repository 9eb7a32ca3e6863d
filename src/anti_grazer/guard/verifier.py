"""Verifying our own access tokens against the token store: an opaque token by its
format and checksum first (no lookup for a malformed token); a JWT access token (RFC
9068 §4) by its type, signature, issuer and audience (``JwtAccessTokenValidator``, with
the published keys); then either by one digest lookup of its record, which must be
neither expired nor revoked: a revoked JWT is refused at once, like an opaque token."""

from __future__ import annotations

from anti_grazer.protocol.errors import InvalidTokenError
from anti_grazer.protocol.jwt_access_tokens import JwtAccessTokenValidator, looks_like_jwt
from anti_grazer.protocol.models import Principal
from anti_grazer.protocol.ports import Clock, TokenStore
from anti_grazer.protocol.tokens import access_token_digest, is_well_formed_access_token


class StoreTokenVerifier:
    """A ``TokenVerifier`` backed by a ``TokenStore``: at most one lookup per token.
    Without ``jwt`` it accepts opaque tokens only."""

    def __init__(
        self, tokens: TokenStore, clock: Clock, jwt: JwtAccessTokenValidator | None = None
    ) -> None:
        self.tokens = tokens
        self.clock = clock
        self.jwt = jwt

    async def verify(self, token: str) -> Principal:
        if is_well_formed_access_token(token):
            digest = access_token_digest(token)
        elif self.jwt is not None and looks_like_jwt(token):
            digest = await self.jwt.digest(token)
        else:
            raise InvalidTokenError()
        record = await self.tokens.get_token(digest)
        if record is None or not record.is_active(self.clock.now()):
            raise InvalidTokenError()
        return Principal(record.client_id, record.scopes, record.expires_at)
