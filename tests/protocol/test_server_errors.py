"""What the authorization server's errors say of the client (protocol/server.py
``attributed_to``), called directly over the memory stores — no HTTP: an error raised
after the client authenticated names it (for the access log), and an unexpected failure
becomes a ``server_error`` that keeps its cause for the log only (DESIGN.md §4.7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from anti_grazer.protocol.errors import InvalidClientError, OAuthError, ServerError
from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.protocol.tokens import generate_access_token
from anti_grazer.store.memory import MemoryStores
from tests.clock import FrozenClock
from tests.doubles import ForwardingTokenStore, RecordingTokenStore
from tests.http_helpers import basic
from tests.protocol.server_helpers import body_credentials, issue, revoke
from tests.support import Registered


async def test_a_client_disabled_after_authenticating_gets_no_token(
    stores: MemoryStores, tokens: RecordingTokenStore, clock: FrozenClock, client: Registered
) -> None:
    """RFC 6749 §5.2 invalid_client: a client disabled between its authentication and the
    token's storage gets none; it had authenticated, so the error names it."""

    class DisablingFirst(ForwardingTokenStore):
        async def add_token(self, record: TokenRecord) -> None:
            await stores.clients.update_client(replace(client.client, enabled=False))
            await self.inner.add_token(record)

    server = AuthorizationServer(stores.clients, DisablingFirst(tokens), clock)
    with pytest.raises(InvalidClientError) as raised:
        await server.token(body_credentials(client), None)
    assert raised.value.client_id == client.client_id
    assert raised.value.__cause__ is None
    assert tokens.added == []


# --- unexpected failures after authentication -------------------------------------------


class BrokenTokenStore(ForwardingTokenStore):
    """A token store whose every write and read fails as a lost database would."""

    failure = ConnectionError("the database went away")

    async def add_token(self, record: TokenRecord) -> None:
        raise self.failure

    async def get_token(self, digest: str) -> TokenRecord | None:
        raise self.failure


@pytest.mark.parametrize("endpoint", ["token", "revoke", "introspect"])
async def test_a_store_failure_after_authentication_is_a_server_error(
    stores: MemoryStores, clock: FrozenClock, client: Registered, endpoint: str
) -> None:
    """DESIGN.md §4.7: an unexpected failure becomes ``server_error`` (the code of RFC 6749
    §4.1.2.1; §5.2 lists none for it) with no detail, caused by the failure (kept for the
    log, never the response) and naming the authenticated client."""
    server = AuthorizationServer(stores.clients, BrokenTokenStore(stores.tokens), clock)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "token": lambda: server.token(body_credentials(client), None),
        "revoke": lambda: revoke(server, client, token=generate_access_token(clock.now())),
        "introspect": lambda: server.introspect(
            {"token": generate_access_token(clock.now())}, basic(client.client_id, client.secret)
        ),
    }
    with pytest.raises(ServerError) as raised:
        await calls[endpoint]()
    error = raised.value
    assert error.__cause__ is BrokenTokenStore.failure
    assert error.client_id == client.client_id
    assert error.body() == {
        "error": "server_error",
        "error_description": "The server encountered an internal error",
    }
    assert error.status == 500


async def test_every_oauth_error_after_authentication_names_the_client(
    server: AuthorizationServer, stores: MemoryStores, client: Registered, other: Registered
) -> None:
    """The access log names the client of a refused request once it authenticated: every
    OAuthError raised after authentication carries its ``client_id``."""
    await stores.clients.update_client(replace(other.client, grant_types=frozenset()))
    token = await issue(server, client)
    refusals: list[tuple[Callable[[], Awaitable[object]], Registered]] = [
        (lambda: server.token(body_credentials(client, scope="admin"), None), client),
        (lambda: server.token(body_credentials(other), None), other),
        (lambda: revoke(server, client), client),
        (lambda: revoke(server, client, token=token, token_type_hint="x"), client),
        (lambda: revoke(server, other, token=token), other),
    ]
    for call, who in refusals:
        with pytest.raises(OAuthError) as raised:
            await call()
        assert raised.value.client_id == who.client_id
