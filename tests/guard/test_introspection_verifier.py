"""``IntrospectionVerifier``: RFC 7662 token introspection as a resource server asks it
(the request, the reading of the answer) and its cache, against a stand-in authorization
server whose answers the test sets and whose requests it counts."""

from __future__ import annotations

import asyncio
from base64 import b64decode
from datetime import timedelta

import httpx
import pytest

from anti_grazer.guard.introspection import IntrospectionVerifier
from anti_grazer.protocol.errors import InvalidTokenError, TemporarilyUnavailableError
from anti_grazer.protocol.models import Principal
from tests.clock import FrozenClock
from tests.guard.conftest import RS_CLIENT_ID, RS_SECRET
from tests.guard.stand_in_server import AUDIENCE, INTROSPECT, METADATA, StandInServer

TOKEN = "ag_at_some-opaque-token"


def active(clock: FrozenClock, **changes: object) -> dict[str, object]:
    """An RFC 7662 §2.2 answer for an active token expiring in an hour; a change of None
    leaves that member out."""
    answer: dict[str, object] = {
        "active": True,
        "client_id": "ag_ci_partner",
        "scope": "profiles:read reports:write",
        "token_type": "Bearer",
        "exp": int(clock.now().timestamp()) + 3600,
        "aud": AUDIENCE,
    }
    answer.update(changes)
    return {name: value for name, value in answer.items() if value is not None}


async def test_an_active_token_gives_its_principal(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 7662 §2.2: an active token speaks for its ``client_id`` with its ``scope``
    until its ``exp``."""
    stand_in.introspection = active(clock)
    assert await introspection_verifier.verify(TOKEN) == Principal(
        "ag_ci_partner",
        frozenset({"profiles:read", "reports:write"}),
        clock.now().replace(microsecond=0) + timedelta(hours=1),
    )


async def test_the_request_is_a_form_post_authenticated_with_basic(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 7662 §2.1: a form POST of ``token`` (with the hint ``access_token``) to the
    ``introspection_endpoint`` of the metadata (RFC 8414 §2), the resource server
    authenticated with HTTP Basic, id and secret form-urlencoded first (RFC 6749
    §2.3.1)."""
    stand_in.introspection = active(clock)
    await introspection_verifier.verify(TOKEN)
    [(authorization, form)] = stand_in.introspection_requests
    assert form == {"token": [TOKEN], "token_type_hint": ["access_token"]}
    assert authorization is not None
    scheme, _, credentials = authorization.partition(" ")
    assert scheme == "Basic"
    assert b64decode(credentials) == b"ag_ci_resource+server:ag_cs_s3cret%2B%2F%3D"
    assert stand_in.hits == {METADATA: 1, INTROSPECT: 1}


async def test_an_inactive_token_is_invalid(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer
) -> None:
    """RFC 7662 §2.2: ``{"active": false}`` (unknown, expired, revoked ...) is
    ``invalid_token`` (RFC 6750 §3.1)."""
    stand_in.introspection = {"active": False}
    with pytest.raises(InvalidTokenError):
        await introspection_verifier.verify(TOKEN)


async def test_an_overlong_bearer_value_is_invalid_without_asking(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer
) -> None:
    """RFC 6750 §3.1 ``invalid_token`` for a 6,000-character value, decided here: sent,
    its form would be refused as too large (413) and read as an unavailable server
    (503), one outbound request and one warning per junk request."""
    with pytest.raises(InvalidTokenError):
        await introspection_verifier.verify("/" * 6000)
    assert INTROSPECT not in stand_in.hits


@pytest.mark.parametrize(
    "changes",
    [
        {"token_type": "refresh_token"},
        {"token_type": "N_A"},
        {"token_type": "DPoP"},
        {"aud": "https://other.test"},
        {"aud": None},
    ],
    ids=["refresh", "n_a", "dpop", "other-audience", "no-audience"],
)
async def test_an_active_token_not_for_this_use_is_invalid(
    introspection_verifier: IntrospectionVerifier,
    stand_in: StandInServer,
    clock: FrozenClock,
    changes: dict[str, object],
) -> None:
    """RFC 7662 §2.2 ``token_type`` (when given) must be ``Bearer`` for a bearer request
    (RFC 6750); and with an ``audience`` set, ``aud`` must name it (RFC 7662 §4)."""
    stand_in.introspection = active(clock, **changes)
    async with IntrospectionVerifier(
        RS_CLIENT_ID, RS_SECRET, issuer=stand_in.issuer, audience=AUDIENCE, clock=clock
    ) as verifier:
        with pytest.raises(InvalidTokenError):
            await verifier.verify(TOKEN)


async def test_the_audience_is_checked_as_the_jwt_verifier_checks_it(
    stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9700 §2.3 with RFC 7662 §2.2 ``aud`` (RFC 7519 §4.1.3's shape): the API's
    audience as the string or among an array passes; anything else is refused, exactly
    the cases ``test_jwt_verifier.test_the_audience_must_be_named`` refuses."""
    async with IntrospectionVerifier(
        RS_CLIENT_ID,
        RS_SECRET,
        issuer=stand_in.issuer,
        audience=AUDIENCE,
        clock=clock,
        cache_ttl_seconds=0,
    ) as verifier:
        named: list[object] = [AUDIENCE, ["https://other.test", AUDIENCE]]
        for aud in named:
            stand_in.introspection = active(clock, aud=aud)
            assert (await verifier.verify(TOKEN)).client_id == "ag_ci_partner"
        others: list[object] = ["https://other.test", ["https://other.test"], None, AUDIENCE + "/"]
        for aud in others:
            stand_in.introspection = active(clock, aud=aud)
            with pytest.raises(InvalidTokenError):
                await verifier.verify(TOKEN)


async def test_token_type_is_case_insensitive_and_optional(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 6749 §5.1: the token type value is case-insensitive; RFC 7662 §2.2: it is
    OPTIONAL, and so are ``exp`` and ``scope``."""
    for token_type in ("bearer", "BEARER", None):
        stand_in.introspection = active(clock, token_type=token_type, exp=None, scope=None)
        principal = await introspection_verifier.verify(f"{TOKEN}-{token_type}")
        assert principal == Principal("ag_ci_partner", frozenset(), None)


async def test_an_answer_past_exp_is_invalid(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """An active answer whose ``exp`` has passed by this server's clock is refused."""
    stand_in.introspection = active(clock, exp=int(clock.now().timestamp()))
    with pytest.raises(InvalidTokenError):
        await introspection_verifier.verify(TOKEN)


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"active": "true"},
        {"active": 1},
        {"active": True, "scope": "profiles:read"},
        {"active": True, "client_id": "c", "scope": "a  b"},
        {"active": True, "client_id": "c", "scope": ["a"]},
        {"active": True, "client_id": "c", "exp": "tomorrow"},
    ],
    ids=["empty", "string", "number", "no-client_id", "bad-scope", "scope-list", "bad-exp"],
)
async def test_an_unusable_answer_is_temporarily_unavailable(
    introspection_verifier: IntrospectionVerifier,
    stand_in: StandInServer,
    answer: dict[str, object],
) -> None:
    """RFC 7662 §2.2: ``active`` is REQUIRED and boolean; an answer without it, or an
    active one whose members cannot be read, is the authorization server's fault: 503,
    not a verdict on the token, and nothing cached."""
    stand_in.introspection = answer
    for _ in range(2):
        with pytest.raises(TemporarilyUnavailableError):
            await introspection_verifier.verify(TOKEN)
    assert stand_in.hits[INTROSPECT] == 2


async def test_answers_are_cached_for_the_ttl(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """One introspection per token per ``cache_ttl_seconds`` (5 by default)."""
    stand_in.introspection = active(clock)
    for _ in range(4):
        await introspection_verifier.verify(TOKEN)
    assert stand_in.hits[INTROSPECT] == 1
    clock.advance(4.9)
    await introspection_verifier.verify(TOKEN)
    assert stand_in.hits[INTROSPECT] == 1
    clock.advance(0.1)
    await introspection_verifier.verify(TOKEN)
    assert stand_in.hits[INTROSPECT] == 2


async def test_inactive_answers_are_cached_no_longer_than_the_ttl(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """A token found inactive is refused from memory within the TTL, and asked about
    again after it (a token not yet known everywhere becomes usable)."""
    stand_in.introspection = {"active": False}
    for _ in range(3):
        with pytest.raises(InvalidTokenError):
            await introspection_verifier.verify(TOKEN)
    assert stand_in.hits[INTROSPECT] == 1
    stand_in.introspection = active(clock)
    clock.advance(5)
    assert (await introspection_verifier.verify(TOKEN)).client_id == "ag_ci_partner"
    assert stand_in.hits[INTROSPECT] == 2


async def test_a_revocation_is_seen_within_the_ttl(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """A token revoked at the authorization server is refused here at the latest one TTL
    later."""
    stand_in.introspection = active(clock)
    await introspection_verifier.verify(TOKEN)
    stand_in.introspection = {"active": False}
    clock.advance(5)
    with pytest.raises(InvalidTokenError):
        await introspection_verifier.verify(TOKEN)


async def test_a_cached_answer_never_outlives_the_token(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """An answer is cached for the TTL, but its token is refused from its ``exp`` on,
    without asking."""
    stand_in.introspection = active(clock, exp=int(clock.now().timestamp()) + 2)
    await introspection_verifier.verify(TOKEN)
    clock.advance(2)
    with pytest.raises(InvalidTokenError):
        await introspection_verifier.verify(TOKEN)
    assert stand_in.hits[INTROSPECT] == 1


async def test_the_cache_is_bounded_and_keyed_by_digest(
    stand_in: StandInServer, clock: FrozenClock
) -> None:
    """At most ``cache_max_entries`` answers, the oldest dropped first; the keys are
    digests: no token is held in memory past its request."""
    stand_in.introspection = active(clock)
    async with IntrospectionVerifier(
        RS_CLIENT_ID,
        RS_SECRET,
        endpoint=stand_in.issuer + INTROSPECT,
        cache_max_entries=2,
        clock=clock,
    ) as verifier:
        for token in ("token-1", "token-2", "token-3", "token-3", "token-2", "token-1"):
            await verifier.verify(token)
        assert stand_in.hits[INTROSPECT] == 4  # token-1 was dropped for token-3
        assert len(verifier.cache) == 2
        assert not any("token-" in key for key in verifier.cache._entries)
    assert METADATA not in stand_in.hits  # the endpoint was given: no discovery


async def test_a_ttl_of_zero_caches_nothing(stand_in: StandInServer, clock: FrozenClock) -> None:
    """``cache_ttl_seconds=0``: every request asks."""
    stand_in.introspection = active(clock)
    async with IntrospectionVerifier(
        RS_CLIENT_ID, RS_SECRET, issuer=stand_in.issuer, cache_ttl_seconds=0, clock=clock
    ) as verifier:
        for _ in range(3):
            await verifier.verify(TOKEN)
    assert stand_in.hits[INTROSPECT] == 3


def test_the_endpoint_or_the_issuer_is_given() -> None:
    """One way to find the endpoint: given, or from the issuer's metadata."""
    with pytest.raises(ValueError, match="not both"):
        IntrospectionVerifier(RS_CLIENT_ID, RS_SECRET)
    with pytest.raises(ValueError, match="not both"):
        IntrospectionVerifier(
            RS_CLIENT_ID, RS_SECRET, issuer="https://as.example", endpoint="https://as.example/i"
        )
    with pytest.raises(ValueError, match="endpoint"):
        IntrospectionVerifier(RS_CLIENT_ID, RS_SECRET, endpoint="http://as.example/introspect")


async def test_concurrent_requests_with_one_token_ask_once(
    introspection_verifier: IntrospectionVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """Requests with one token arriving together share one introspection request."""
    stand_in.introspection = active(clock)
    principals = await asyncio.gather(*(introspection_verifier.verify(TOKEN) for _ in range(20)))
    assert {principal.client_id for principal in principals} == {"ag_ci_partner"}
    assert stand_in.hits[INTROSPECT] == 1


async def test_a_given_http_client_is_used_and_left_open(
    stand_in: StandInServer, clock: FrozenClock
) -> None:
    """``http_client`` (e.g. one shared by the application) carries the requests; the
    verifier closes only a client it made itself."""
    stand_in.introspection = active(clock)
    async with httpx.AsyncClient() as shared:
        async with IntrospectionVerifier(
            RS_CLIENT_ID, RS_SECRET, issuer=stand_in.issuer, clock=clock, http_client=shared
        ) as verifier:
            assert verifier.remote.http is shared
            await verifier.verify(TOKEN)
        assert not shared.is_closed
    made = IntrospectionVerifier(RS_CLIENT_ID, RS_SECRET, issuer=stand_in.issuer)
    await made.aclose()
    assert made.remote.http.is_closed
