"""``JwtVerifier``: the RFC 9068 §4 validation of a JWT access token, against a stand-in
authorization server's published keys (tokens signed by the test with joserfc)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from joserfc.jwk import ECKey

from anti_grazer.guard.jwt_verifier import JwtVerifier
from anti_grazer.protocol.errors import InvalidTokenError
from anti_grazer.protocol.models import Principal
from tests.clock import FrozenClock
from tests.guard.stand_in_server import (
    AUDIENCE,
    JWKS,
    METADATA,
    StandInServer,
    access_claims,
    ec_key,
    ed_key,
    hs256,
    sign,
    unsigned,
)


async def refused(verifier: JwtVerifier, token: str) -> None:
    """The verifier answers ``invalid_token`` (RFC 6750 §3.1, 401 through HTTP)."""
    with pytest.raises(InvalidTokenError):
        await verifier.verify(token)


async def test_a_valid_token_gives_its_principal(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §4: a token that passes every check speaks for its ``client_id`` with its
    ``scope`` (§2.2.3) until its ``exp``."""
    token = sign(stand_in.keys[0], access_claims(stand_in.issuer, clock.now()))
    assert await jwt_verifier.verify(token) == Principal(
        "ag_ci_partner",
        frozenset({"profiles:read", "reports:write"}),
        clock.now().replace(microsecond=0) + timedelta(hours=1),
    )


async def test_eddsa_tokens_verify(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """EdDSA (RFC 8037 §3.1) is allowed by default beside ES256."""
    stand_in.keys.append(ed_key())
    token = sign(stand_in.keys[1], access_claims(stand_in.issuer, clock.now()))
    assert (await jwt_verifier.verify(token)).client_id == "ag_ci_partner"


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
async def test_typ_at_jwt_is_accepted_in_any_case(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock, typ: str
) -> None:
    """RFC 9068 §4: ``typ`` is ``at+jwt`` or ``application/at+jwt``; media types are
    case-insensitive (RFC 7515 §4.1.9)."""
    token = sign(stand_in.keys[0], access_claims(stand_in.issuer, clock.now()), typ=typ)
    assert (await jwt_verifier.verify(token)).client_id == "ag_ci_partner"


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "at+jwe", "application/jwt"])
async def test_any_other_typ_is_refused(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock, typ: object
) -> None:
    """RFC 9068 §4: the resource server MUST reject a token whose ``typ`` is not
    ``at+jwt`` (an ID token or another JWT, signed by the same keys, is no access
    token)."""
    token = sign(stand_in.keys[0], access_claims(stand_in.issuer, clock.now()), typ=typ)
    await refused(jwt_verifier, token)


async def test_alg_none_is_refused_before_any_key_is_fetched(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §4: ``alg`` MUST NOT be ``none``; refused from its header alone."""
    header: dict[str, object] = {"typ": "at+jwt", "alg": "none", "kid": stand_in.keys[0].kid}
    await refused(jwt_verifier, unsigned(header, access_claims(stand_in.issuer, clock.now())))
    assert stand_in.hits == {}


async def test_hs256_is_refused_even_keyed_with_the_public_key(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """A MAC is no signature of the issuer: an HS256 token whose secret is the issuer's
    public key (the algorithm-confusion forgery) is refused."""
    key = stand_in.keys[0]
    header: dict[str, object] = {"typ": "at+jwt", "alg": "HS256", "kid": key.kid}
    claims = access_claims(stand_in.issuer, clock.now())
    for secret in (key.as_pem(private=False), json.dumps(key.as_dict(private=False)).encode()):
        await refused(jwt_verifier, hs256(secret, header, claims))
    assert stand_in.hits == {}  # refused by its header: no key was even looked for


async def test_an_algorithm_outside_the_allow_list_is_refused(
    stand_in: StandInServer, clock: FrozenClock
) -> None:
    """``algorithms`` limits what is accepted: EdDSA from an issuer configured for ES256
    only is refused, though its key is published."""
    stand_in.keys.append(ed_key())
    token = sign(stand_in.keys[1], access_claims(stand_in.issuer, clock.now()))
    async with JwtVerifier(stand_in.issuer, AUDIENCE, algorithms=["ES256"], clock=clock) as only:
        await refused(only, token)


@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], ["ES256", "HS512"], [], ["XX1"]])
def test_none_mac_or_unknown_algorithms_cannot_be_allowed(algorithms: list[str]) -> None:
    """The allow-list holds signature algorithms only (RFC 9068 §4: never ``none``)."""
    with pytest.raises(ValueError, match="algorithms"):
        JwtVerifier("https://as.example", AUDIENCE, algorithms=algorithms)


async def test_a_signature_by_another_key_is_refused(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §4 (RFC 7515 §5.2): the signature must verify with the issuer's key that
    the ``kid`` names; a forger's key under that ``kid`` fails."""
    forger = ECKey.generate_key("P-256")
    claims = access_claims(stand_in.issuer, clock.now())
    await refused(jwt_verifier, sign(forger, claims, kid=stand_in.keys[0].kid))


async def test_a_wrong_issuer_is_refused(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §4: ``iss`` MUST exactly match the issuer (a trailing slash differs)."""
    for issuer in ("https://evil.example", stand_in.issuer + "/", None):
        claims = access_claims(stand_in.issuer, clock.now(), iss=issuer)
        await refused(jwt_verifier, sign(stand_in.keys[0], claims))


async def test_the_audience_must_be_named(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §4: ``aud`` MUST contain the resource server's identifier; as a string
    or among an array (RFC 7519 §4.1.3)."""
    key, issuer = stand_in.keys[0], stand_in.issuer
    among = access_claims(issuer, clock.now(), aud=["https://other.test", AUDIENCE])
    assert (await jwt_verifier.verify(sign(key, among))).client_id == "ag_ci_partner"
    for aud in ("https://other.test", ["https://other.test"], None, AUDIENCE + "/"):
        await refused(jwt_verifier, sign(key, access_claims(issuer, clock.now(), aud=aud)))


async def test_an_expired_token_is_refused_after_the_leeway(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §4: the current time MUST be before ``exp``; RFC 7519 §4.1.4 allows a
    small leeway for clock skew (30 s by default)."""
    token = sign(stand_in.keys[0], access_claims(stand_in.issuer, clock.now()))
    clock.advance(3600 + 29)
    assert (await jwt_verifier.verify(token)).client_id == "ag_ci_partner"
    clock.advance(1)
    await refused(jwt_verifier, token)


async def test_a_verified_token_is_remembered_for_60_seconds_never_past_exp(
    stand_in: StandInServer, clock: FrozenClock
) -> None:
    """Only the time checks run again for a token verified in the last 60 s: its
    signature is not checked again, so a key withdrawn (and the set fetched again for
    another token's unknown kid) still lets it through until then; a cached token is
    refused all the same once its exp (and leeway) has passed."""
    key, issuer = stand_in.keys[0], stand_in.issuer
    async with JwtVerifier(
        issuer, AUDIENCE, clock=clock, monotonic=clock.monotonic, jwks_refresh_interval_seconds=0
    ) as verifier:
        token = sign(key, access_claims(issuer, clock.now()))
        assert (await verifier.verify(token)).client_id == "ag_ci_partner"
        stand_in.keys[:] = [ec_key()]
        await refused(verifier, sign(ec_key(), access_claims(issuer, clock.now())))
        assert stand_in.hits[JWKS] == 2  # the set without the first key is held now
        clock.advance(59)
        assert (await verifier.verify(token)).client_id == "ag_ci_partner"
        clock.advance(1)
        await refused(verifier, token)
    async with JwtVerifier(
        issuer, AUDIENCE, clock=clock, monotonic=clock.monotonic, verified_cache_seconds=3600
    ) as remembering:
        stand_in.keys[:] = [key]
        token = sign(key, access_claims(issuer, clock.now()))
        assert (await remembering.verify(token)).client_id == "ag_ci_partner"
        clock.advance(3600 + 30)
        await refused(remembering, token)


async def test_exp_is_required_and_numeric(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §2.2: ``exp`` is REQUIRED; RFC 7519 §2: a NumericDate is a number."""
    for exp in (None, "4102444800", True, 10**20):
        claims = access_claims(stand_in.issuer, clock.now(), exp=exp)
        await refused(jwt_verifier, sign(stand_in.keys[0], claims))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_a_token_from_the_future_is_refused_after_the_leeway(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock, claim: str
) -> None:
    """RFC 7519 §4.1.5: not accepted before ``nbf``; nor is a token issued (``iat``) in
    the future; both with the same small leeway."""
    now = int(clock.now().timestamp())
    within = access_claims(stand_in.issuer, clock.now(), **{claim: now + 30})
    assert (await jwt_verifier.verify(sign(stand_in.keys[0], within))).client_id
    beyond = access_claims(stand_in.issuer, clock.now(), **{claim: now + 31})
    await refused(jwt_verifier, sign(stand_in.keys[0], beyond))


@pytest.mark.parametrize(
    "changes",
    [{"sub": None}, {"client_id": None}, {"client_id": ""}, {"client_id": 7}, {"scope": "a  b"}],
    ids=["no-sub", "no-client_id", "empty-client_id", "numeric-client_id", "bad-scope"],
)
async def test_required_claims_must_be_well_formed(
    jwt_verifier: JwtVerifier,
    stand_in: StandInServer,
    clock: FrozenClock,
    changes: dict[str, object],
) -> None:
    """RFC 9068 §2.2: ``sub`` and ``client_id`` are REQUIRED; ``scope`` (§2.2.3) is the
    RFC 6749 §3.3 list."""
    claims = access_claims(stand_in.issuer, clock.now(), **changes)
    await refused(jwt_verifier, sign(stand_in.keys[0], claims))


async def test_a_token_without_scope_has_no_scopes(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 9068 §2.2.3: ``scope`` is present only when scopes were granted."""
    claims = access_claims(stand_in.issuer, clock.now(), scope=None)
    assert (await jwt_verifier.verify(sign(stand_in.keys[0], claims))).scopes == frozenset()


@pytest.mark.parametrize(
    "token",
    ["ag_at_notajwt", "a.b", "a.b.c", "a.b.c.d.e", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"],
    ids=["opaque", "two-parts", "garbage", "jwe-shaped", "no-typ"],
)
async def test_what_is_no_signed_jwt_is_refused_without_a_fetch(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, token: str
) -> None:
    """RFC 9068 §4: only a JWS in compact form can be one of these tokens; refused from
    its shape or header, the authorization server never asked."""
    await refused(jwt_verifier, token)
    assert stand_in.hits == {}


async def test_a_token_without_kid_uses_the_only_key(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 7515 §4.1.4: ``kid`` is optional; with one published key, that key verifies,
    with two, a token naming none is refused."""
    claims = access_claims(stand_in.issuer, clock.now())
    assert (await jwt_verifier.verify(sign(stand_in.keys[0], claims, kid=None))).client_id
    stand_in.keys.append(ed_key())
    clock.advance(300)  # the keys are fetched again once old
    await refused(jwt_verifier, sign(stand_in.keys[0], claims, kid=None))


@pytest.mark.parametrize(
    "header",
    [
        {"typ": "at+jwt", "alg": ["ES256"]},
        {"typ": "at+jwt", "alg": "ES256", "kid": 7},
        {"typ": ["at+jwt"], "alg": "ES256"},
        {"typ": "at+jwt", "alg": "ES256", "crit": ["x"], "x": 1},
        {"typ": "at+jwt", "alg": "ES256", "kid": "unknown", "jku": "https://evil.example/k"},
    ],
    ids=["alg-list", "kid-number", "typ-list", "unknown-crit", "foreign-key"],
)
async def test_malformed_headers_are_refused(
    jwt_verifier: JwtVerifier,
    stand_in: StandInServer,
    clock: FrozenClock,
    header: dict[str, object],
) -> None:
    """RFC 7515 §4.1: ``alg`` and ``kid`` are strings, an unknown ``crit`` extension
    MUST be refused (§4.1.11); a key the header points to (``jku``) is not taken: only
    the issuer's published keys verify."""
    token = unsigned(header, access_claims(stand_in.issuer, clock.now())) + "c2ln"
    await refused(jwt_verifier, token)
    assert set(stand_in.hits) <= {METADATA, JWKS}
