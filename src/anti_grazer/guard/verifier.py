"""Verifying our own opaque access tokens against the token store: checksum first (no
lookup for a malformed token), then one digest lookup, expiry and revocation."""

from __future__ import annotations

from anti_grazer.protocol.errors import InvalidTokenError
from anti_grazer.protocol.models import Principal
from anti_grazer.protocol.ports import Clock, TokenStore
from anti_grazer.protocol.tokens import access_token_digest, is_well_formed_access_token


class StoreTokenVerifier:
    """A ``TokenVerifier`` backed by a ``TokenStore``: at most one lookup per token."""

    def __init__(self, tokens: TokenStore, clock: Clock) -> None:
        self.tokens = tokens
        self.clock = clock

    async def verify(self, token: str) -> Principal:
        if not is_well_formed_access_token(token):
            raise InvalidTokenError()
        record = await self.tokens.get_token(access_token_digest(token))
        if record is None or not record.is_active(self.clock.now()):
            raise InvalidTokenError()
        return Principal(record.client_id, record.scopes, record.expires_at)
