"""The digest a presented access token's record is stored under, whatever its format:
an opaque token (checksum first, no lookup for a mistyped one) or a JWT access token
(from the token alone, without checking its signature: a forged token's digest matches
no record).  Revocation (RFC 7009), the ``tokens revoke`` command and introspection
find a token's record with it."""

from __future__ import annotations

from anti_grazer.protocol.jwt_access_tokens import presented_jwt_digest
from anti_grazer.protocol.tokens import access_token_digest, is_well_formed_access_token


def presented_token_digest(token: str) -> str | None:
    """The storage digest of ``token``, or None when it is neither of our formats."""
    if is_well_formed_access_token(token):
        return access_token_digest(token)
    return presented_jwt_digest(token)
