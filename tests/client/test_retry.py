"""The client against a live server: a token the API refuses as ``invalid_token`` (RFC
6750 §3.1; here revoked through ``/oauth/revoke``, RFC 7009) is replaced and the request
sent once more; every other refusal is returned as it came, and a refused fresh token is
not tried again."""

from __future__ import annotations

import pytest

from tests.client.callers import REPORT, Caller
from tests.client.conftest import LiveServer, auth_for
from tests.client.refusing_api import refusing_api

pytestmark = pytest.mark.slow

INVALID_TOKEN = 'Bearer realm="api", error="invalid_token", error_description="The token expired"'


def test_a_revoked_token_is_replaced_and_the_request_resent_once(
    live: LiveServer, caller: Caller
) -> None:
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client)
    first = caller.get(auth)
    live.revoke(live.client, first.token)
    second = caller.get(auth)
    assert second.status == 200
    assert second.tokens[0] == first.token
    assert len(second.tokens) == 2
    assert second.token != first.token
    assert live.tokens_issued(live.client) == before + 2  # exactly one more token request
    third = caller.get(auth)
    assert third.tokens == [second.token]
    assert live.tokens_issued(live.client) == before + 2


def test_a_body_held_in_memory_is_resent(live: LiveServer, caller: Caller) -> None:
    auth = auth_for(live, live.client, scope="reports:write")
    first = caller.post_report(auth)
    assert first.status in {200, 201}  # 201 the first time this client reports it
    live.revoke(live.client, first.token)
    second = caller.post_report(auth)
    assert second.status == 200  # the same report again: the resent body arrived whole
    assert len(second.tokens) == 2


def test_a_streamed_body_is_not_resent(live: LiveServer, caller: Caller) -> None:
    """A generator's body is consumed by the first send: its 401 is returned as it came,
    and the refused token is dropped, so the next request fetches a fresh one."""
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client, scope="reports:write profiles:read")
    with refusing_api(INVALID_TOKEN) as api:
        refused = type(caller)(api.base_url, live.token_url).post_report(auth, streamed=True)
    assert refused.status == 401
    assert api.received == [f"Bearer {refused.token}"]
    assert api.bodies == [REPORT]  # it arrived whole, once
    assert live.tokens_issued(live.client) == before + 1
    after = caller.get(auth)
    assert after.status == 200
    assert after.tokens != refused.tokens
    assert live.tokens_issued(live.client) == before + 2


def test_concurrent_callers_refused_together_share_one_fresh_token(
    live: LiveServer, caller: Caller
) -> None:
    """20 callers all refused the revoked token at once fetch one fresh token between
    them (with httpx-async: on a second event loop, the first one gone)."""
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client)
    first = caller.get_many(auth, 20)
    live.revoke(live.client, first[0].token)
    second = caller.get_many(auth, 20)
    assert [o.status for o in second] == [200] * 20
    assert len({o.token for o in second}) == 1
    assert live.tokens_issued(live.client) == before + 2


def test_a_403_is_returned_without_a_new_token(live: LiveServer, caller: Caller) -> None:
    """RFC 6750 §3.1 ``insufficient_scope`` is 403: another token would not help."""
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client, scope="reports:write")
    outcome = caller.get(auth)
    assert outcome.status == 403
    assert len(outcome.tokens) == 1
    assert live.tokens_issued(live.client) == before + 1


@pytest.mark.parametrize(
    "challenge",
    [
        'Bearer realm="api"',
        'Bearer realm="api", error="invalid_request"',
        'Bearer realm="api", error="insufficient_scope", scope="x"',
        'Basic realm="api"',
        "Bearer error=INVALID_TOKEN",
        None,
    ],
)
def test_any_other_401_is_returned_and_the_token_kept(
    live: LiveServer, caller: Caller, challenge: str | None
) -> None:
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client)
    with refusing_api(challenge) as api:
        api_caller = type(caller)(api.base_url, live.token_url)
        outcome = api_caller.get(auth)
        again = api_caller.get(auth)
    assert outcome.status == 401
    assert len(outcome.tokens) == 1
    assert again.tokens == outcome.tokens  # still the cached token
    assert len(api.received) == 2
    assert live.tokens_issued(live.client) == before + 1


def test_a_refused_fresh_token_is_not_tried_again(live: LiveServer, caller: Caller) -> None:
    """An API that refuses every token as ``invalid_token`` sees the cached token and
    one fresh token, then the caller gets its 401: no loop."""
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client)
    caller.get(auth)  # a token in the cache, accepted by our API
    with refusing_api(INVALID_TOKEN) as api:
        outcome = type(caller)(api.base_url, live.token_url).get(auth)
    assert outcome.status == 401
    assert len(outcome.tokens) == 2
    assert outcome.tokens[0] != outcome.tokens[1]
    assert api.received == [f"Bearer {token}" for token in outcome.tokens]
    assert live.tokens_issued(live.client) == before + 2
