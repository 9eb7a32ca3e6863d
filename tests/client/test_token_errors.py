"""The client against a live server: the token endpoint's refusals (RFC 6749 §5.2)
raise ``TokenEndpointError`` with the OAuth code and description, never the secret;
``client_secret_post`` works as Basic does; no log line at DEBUG, ``repr`` or error
message holds the secret or a token."""

from __future__ import annotations

import logging
from base64 import b64encode

import pytest

from anti_grazer.client import TokenEndpointError
from tests.client.callers import Caller
from tests.client.conftest import LiveServer, auth_for
from tests.client.refusing_api import refusing_api
from tests.client.test_retry import INVALID_TOKEN
from tests.e2e.process import CreatedClient

pytestmark = pytest.mark.slow

# A logger of the HTTP library under each caller that logs at DEBUG.
LIBRARY_LOGGER = {
    "httpx": "httpcore.http11",
    "httpx-async": "httpcore.http11",
    "requests": "urllib3.connectionpool",
}


def test_a_wrong_secret_raises_invalid_client(live: LiveServer, caller: Caller) -> None:
    wrong = CreatedClient(live.client.client_id, "ag_cs_" + "w" * 43)
    with pytest.raises(TokenEndpointError) as raised:
        caller.get(auth_for(live, wrong))
    error = raised.value
    assert (error.status_code, error.error, error.description) == (
        401,
        "invalid_client",
        "Client authentication failed",
    )
    assert str(error) == (
        f"the token endpoint {live.token_url} answered 401 invalid_client: "
        "Client authentication failed"
    )
    assert wrong.client_secret not in repr(error.args)


def test_a_scope_outside_the_clients_raises_invalid_scope(live: LiveServer, caller: Caller) -> None:
    before = live.tokens_issued(live.client)
    with pytest.raises(TokenEndpointError) as raised:
        caller.get(auth_for(live, live.client, scope="admin"))
    error = raised.value
    assert (error.status_code, error.error, error.description) == (
        400,
        "invalid_scope",
        "The requested scope is invalid or not allowed for this client",
    )
    assert live.tokens_issued(live.client) == before


def test_client_secret_post(live: LiveServer, caller: Caller) -> None:
    """RFC 6749 §2.3.1: the credentials in the request body instead of Basic."""
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client, auth_method="client_secret_post")
    assert [caller.get(auth).status for _ in range(2)] == [200, 200]
    assert live.tokens_issued(live.client) == before + 1


def test_no_secret_or_token_in_logs_reprs_or_errors(
    live: LiveServer, caller: Caller, caplog: pytest.LogCaptureFixture
) -> None:
    """DESIGN.md §4.8, through every path: a fetch, a revoked token replaced, a fresh
    token refused too, a wrong secret; httpx's, httpcore's and urllib3's DEBUG lines
    included."""
    caplog.set_level(logging.DEBUG)
    client = live.client
    auth = auth_for(live, client)
    first = caller.get(auth)
    live.revoke(client, first.token)
    second = caller.get(auth)
    with refusing_api(INVALID_TOKEN) as api:
        refused = type(caller)(api.base_url, live.token_url).get(auth)
    wrong = auth_for(live, CreatedClient(client.client_id, client.client_secret + "x"))
    with pytest.raises(TokenEndpointError) as raised:
        caller.get(wrong)
    assert "fetched an access token" in caplog.text  # our own lines were captured
    assert LIBRARY_LOGGER[caller.name] in {record.name for record in caplog.records}
    assert "refused a fresh access token too" in caplog.text
    basic = b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
    secrets = {client.client_secret, basic, *first.tokens, *second.tokens, *refused.tokens}
    shown = [caplog.text, repr(auth), str(auth), repr(wrong), str(raised.value)]
    shown.append(repr(raised.value.args))
    for text in shown:
        for secret in secrets:
            assert secret not in text
        assert "ag_at_" not in text
        assert "ag_cs_" not in text
