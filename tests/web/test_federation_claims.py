"""The claims of a workload's platform token through HTTP: RFC 7523 §3's checks of a JWT
that authenticates a client (items 1, 3-6), against the trusted issuer, each refusal the
one ``invalid_client`` 401 (RFC 7521 §4.2.1) with its precise reason in the log."""

from __future__ import annotations

import io

import httpx
import pytest

from anti_grazer.protocol.jwt_assertion import LEEWAY as ASSERTION_LEEWAY
from anti_grazer.protocol.trust_admin import bind_client
from tests.client_assertions import refusal_reasons, rsa_key
from tests.guard.stand_in_server import StandInServer, serving
from tests.http_helpers import assert_invalid_client, assert_issued
from tests.support import create_app, running, settings_for
from tests.web.federation_helpers import Federation, present, the_one
from tests.workload_tokens import AUDIENCE, kubernetes_claims, platform_token

HOUR = 3600
# Seconds of clock skew allowed each way (every client assertion's).
LEEWAY = int(ASSERTION_LEEWAY.total_seconds())


async def refused_for(
    http: httpx.AsyncClient, stream: io.StringIO, federation: Federation, token: str
) -> str:
    """The token is refused with the seed's exact 401; the one reason logged."""
    assert_invalid_client(await present(http, federation.client_id, token))
    return the_one(refusal_reasons(stream))


@pytest.mark.parametrize(
    ("aud", "accepted"),
    [
        (AUDIENCE, True),
        ([AUDIENCE], True),
        (["https://kubernetes.default.svc", AUDIENCE], True),
        ("https://kubernetes.default.svc", False),
        ([], False),
        (AUDIENCE + "/", False),
        (AUDIENCE.upper(), False),
        (7, False),
    ],
)
async def test_aud_must_name_the_configured_audience(
    fed_http: httpx.AsyncClient, federation: Federation, aud: object, accepted: bool
) -> None:
    """RFC 7523 §3 item 3, RFC 7519 §4.1.3: ``aud`` is the configured audience, or an
    array holding it, compared exactly; anything else is refused."""
    response = await present(fed_http, federation.client_id, federation.kubernetes_token(aud=aud))
    if accepted:
        assert_issued(response, "profiles:read")
    else:
        assert_invalid_client(response)


async def test_an_expired_token_is_refused(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7523 §3 item 4 / RFC 7519 §4.1.4: refused from ``exp`` on (plus the leeway)."""
    token = federation.kubernetes_token(exp=int(federation.clock.now().timestamp()) + 600)
    federation.clock.advance(600 + LEEWAY - 1)
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    federation.clock.advance(1)
    reason = await refused_for(fed_http, log_stream, federation, token)
    assert reason == "expired"


async def test_a_token_without_exp_is_refused(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7523 §3 item 4: "The JWT MUST contain an exp (expiration time) claim"."""
    token = federation.kubernetes_token(exp=None)
    assert await refused_for(fed_http, log_stream, federation, token) == "exp is missing"


async def test_a_token_older_than_the_maximum_age_is_refused(
    log_stream: io.StringIO, database_url: str, federation: Federation
) -> None:
    """RFC 7523 §3 item 6: a token whose ``iat`` is older than
    ``FEDERATED_TOKEN_MAX_AGE_SECONDS`` (here 600 s) is refused though not expired."""
    settings = settings_for(database_url, federated_token_max_age_seconds=600)
    async with running(create_app(settings, clock=federation.clock)) as http:
        token = federation.kubernetes_token()
        federation.clock.advance(600)
        assert_issued(await present(http, federation.client_id, token), "profiles:read")
        federation.clock.advance(1)
        reason = await refused_for(http, log_stream, federation, token)
    assert reason.endswith("more than 600 s ago")


async def test_a_token_without_iat_is_refused(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """Its age cannot be known, so it is refused (RFC 7523 §3 item 6)."""
    token = federation.kubernetes_token(iat=None)
    reason = await refused_for(fed_http, log_stream, federation, token)
    assert reason == "iat is missing: the token's age is unknown"


async def test_a_token_from_the_future_is_refused(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7523 §3 item 5 / RFC 7519 §4.1.5: not before ``nbf``; and an ``iat`` ahead of
    the clock by more than the leeway is no token of now."""
    now = int(federation.clock.now().timestamp())
    ahead = now + LEEWAY + 1
    early = federation.kubernetes_token(nbf=ahead)
    issued_later = federation.kubernetes_token(iat=ahead, nbf=None)
    for token in (early, issued_later):
        assert_invalid_client(await present(fed_http, federation.client_id, token))
    skewed = federation.kubernetes_token(nbf=now + LEEWAY, iat=now + LEEWAY)
    assert_issued(await present(fed_http, federation.client_id, skewed), "profiles:read")


@pytest.mark.parametrize(
    ("claim", "value"),
    [("exp", "tomorrow"), ("exp", True), ("iat", "now"), ("nbf", [1]), ("exp", 1e300)],
)
async def test_a_time_that_is_no_numeric_date_is_refused(
    fed_http: httpx.AsyncClient, federation: Federation, claim: str, value: object
) -> None:
    """RFC 7519 §2: a NumericDate is a JSON number of seconds; anything else refuses."""
    claims = kubernetes_claims(federation.issuer.issuer, federation.clock.now())
    claims[claim] = value
    token = platform_token(federation.issuer.keys[0], claims)
    assert_invalid_client(await present(fed_http, federation.client_id, token))


async def test_iss_must_be_the_bound_issuer_exactly(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7523 §3 item 1 / RFC 7519 §4.1.1: ``iss`` is compared exactly: a trailing
    ``/`` or another case is another issuer, which nothing trusts."""
    base = federation.issuer.issuer
    for iss in (base + "/", base.upper(), "https://evil.example"):
        token = federation.kubernetes_token(iss=iss)
        assert_invalid_client(await present(fed_http, federation.client_id, token))
    reasons = refusal_reasons(log_stream)
    assert reasons == ["the client is not bound to the token's issuer"] * 3


async def test_a_trusted_issuer_the_client_is_not_bound_to_is_refused(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """Another trusted issuer (another cluster) signs a matching token: the client is
    bound to the first only, so it is refused, whoever signed."""
    with serving(StandInServer(keys=[rsa_key()])) as other:
        await federation.trust(other.issuer)
        claims = kubernetes_claims(other.issuer, federation.clock.now())
        token = platform_token(other.keys[0], claims)
        assert_invalid_client(await present(fed_http, federation.client_id, token))
        await bind_client(
            federation.sql.trust, federation.clock, federation.client_id, other.issuer, ["sub=*"]
        )
        assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")


async def test_a_token_signed_by_another_issuers_key_is_refused(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7523 §3 item 9: the signature must be the trusted issuer's: a key of the same
    ``kid`` that it does not publish forges nothing."""
    forger = rsa_key()
    claims = kubernetes_claims(federation.issuer.issuer, federation.clock.now())
    token = platform_token(forger, claims, kid=federation.issuer.keys[0].kid)
    reason = await refused_for(fed_http, log_stream, federation, token)
    assert reason == "signature"


async def test_a_large_leeway_is_not_granted_to_the_maximum_age(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """The maximum age (an hour by default) is counted from ``iat`` without leeway: an
    hour-old token whose ``exp`` is still ahead is refused one second past the hour."""
    token = federation.kubernetes_token(exp=int(federation.clock.now().timestamp()) + 2 * HOUR)
    federation.clock.advance(HOUR)
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    federation.clock.advance(1)
    assert_invalid_client(await present(fed_http, federation.client_id, token))
