"""Calls of the authorization server's tests: requests with a client's credentials, and
the record a token left in the store."""

from __future__ import annotations

from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.memory import MemoryStores
from tests.http_helpers import CLIENT_CREDENTIALS, basic
from tests.support import Registered


def body_credentials(who: Registered, **params: str) -> dict[str, str]:
    """A token request with ``who``'s credentials in the body (RFC 6749 §2.3.1)."""
    return {**CLIENT_CREDENTIALS, "client_id": who.client_id, "client_secret": who.secret, **params}


async def issue(server: AuthorizationServer, who: Registered) -> str:
    """A token for ``who`` (HTTP Basic credentials)."""
    return (await server.token(CLIENT_CREDENTIALS, basic(who.client_id, who.secret))).access_token


async def revoke(server: AuthorizationServer, who: Registered, **params: str) -> str:
    """A revocation request of ``who`` (HTTP Basic credentials) with ``params``."""
    caller = await server.revoke(params, basic(who.client_id, who.secret))
    return caller.client.client_id


async def stored(stores: MemoryStores, token: str) -> TokenRecord:
    """The record of ``token`` (it must be stored)."""
    record = await stores.tokens.get_token(access_token_digest(token))
    assert record is not None
    return record
