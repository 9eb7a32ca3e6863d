"""The client against a live server: a token is fetched once and reused (RFC 6749 §4.4),
replaced shortly before it expires, and fetched once for many concurrent callers.  The
token requests are counted where they land: the tokens the server stored."""

from __future__ import annotations

import time

import pytest

from tests.client.callers import Caller
from tests.client.conftest import SHORT_TTL_SECONDS, LiveServer, auth_for

pytestmark = pytest.mark.slow


def test_first_call_fetches_a_token_and_later_calls_reuse_it(
    live: LiveServer, caller: Caller
) -> None:
    before = live.tokens_issued(live.client)
    auth = auth_for(live, live.client)
    outcomes = [caller.get(auth) for _ in range(3)]
    assert [o.status for o in outcomes] == [200, 200, 200]
    assert live.tokens_issued(live.client) == before + 1
    assert len({o.token for o in outcomes}) == 1
    assert all(len(o.tokens) == 1 for o in outcomes)  # nothing was resent


def test_a_token_is_replaced_before_it_expires(live: LiveServer, caller: Caller) -> None:
    """A 2 s token is reused, then replaced once 90 % of its life has passed (the default
    leeway, 30 s, is longer than the whole of it): the API never sees it expired."""
    client = live.short_lived
    before = live.tokens_issued(client)
    auth = auth_for(live, client)
    started = time.monotonic()
    first = caller.get(auth)
    fetched = time.monotonic()  # the token was asked for between started and now
    second = caller.get(auth)
    assert time.monotonic() - started < SHORT_TTL_SECONDS * 0.9, "too slow to test reuse"
    assert second.token == first.token
    assert live.tokens_issued(client) == before + 1
    time.sleep(max(0.0, fetched + SHORT_TTL_SECONDS * 0.9 + 0.05 - time.monotonic()))
    third = caller.get(auth)
    assert third.status == 200
    assert third.tokens != [first.token]
    assert len(third.tokens) == 1  # fetched before the call, not after a refusal
    assert live.tokens_issued(client) == before + 2


def test_concurrent_callers_share_one_token_request(live: LiveServer, caller: Caller) -> None:
    """Single flight: 20 callers that start together with an empty cache make one token
    request between them, and all use its token."""
    before = live.tokens_issued(live.client)
    outcomes = caller.get_many(auth_for(live, live.client), 20)
    assert [o.status for o in outcomes] == [200] * 20
    assert len({o.token for o in outcomes}) == 1
    assert live.tokens_issued(live.client) == before + 1
