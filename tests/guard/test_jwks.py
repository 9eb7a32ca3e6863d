"""How ``JwtVerifier`` finds and holds the issuer's keys: RFC 8414 discovery of the
``jwks_uri``, the JWK Set (RFC 7517 §5) held in memory, one refresh on an unknown ``kid``
(a key rotation) and no more than one per refresh interval; requests counted at the
stand-in authorization server."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from anti_grazer.guard.jwks import signing_keys
from anti_grazer.guard.jwt_verifier import JwtVerifier
from anti_grazer.guard.remote import metadata_url
from anti_grazer.protocol.errors import InvalidTokenError, TemporarilyUnavailableError
from tests.clock import FrozenClock
from tests.guard.stand_in_server import (
    AUDIENCE,
    JWKS,
    METADATA,
    Answer,
    StandInServer,
    access_claims,
    ec_key,
    sign,
)


def token_of(stand_in: StandInServer, clock: FrozenClock, key_index: int = -1) -> str:
    return sign(stand_in.keys[key_index], access_claims(stand_in.issuer, clock.now()))


@pytest.mark.parametrize(
    ("issuer", "url"),
    [
        ("https://as.example", "https://as.example/.well-known/oauth-authorization-server"),
        ("https://as.example/", "https://as.example/.well-known/oauth-authorization-server"),
        (
            "https://as.example/tenant/1",
            "https://as.example/.well-known/oauth-authorization-server/tenant/1",
        ),
    ],
)
def test_metadata_url_inserts_the_well_known_suffix_before_the_path(issuer: str, url: str) -> None:
    """RFC 8414 §3.1: the suffix goes between the host and the issuer's path component,
    once a terminating "/" is removed."""
    assert metadata_url(issuer) == url


async def test_keys_are_discovered_once_then_held(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 8414 §3: the metadata names the ``jwks_uri``; both are asked on first use
    only, every later token verified from memory."""
    for _ in range(3):
        assert (await jwt_verifier.verify(token_of(stand_in, clock))).client_id
    assert stand_in.hits == {METADATA: 1, JWKS: 1}


async def test_metadata_of_another_issuer_is_not_used(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 8414 §3.3: the ``issuer`` in the metadata MUST be the one its URL was made
    from, else the metadata MUST NOT be used: no key is fetched, the token cannot be
    checked (503)."""
    metadata = {**stand_in.metadata(), "issuer": "https://evil.example"}
    stand_in.answers[METADATA] = Answer(body=orjson.dumps(metadata))
    with pytest.raises(TemporarilyUnavailableError):
        await jwt_verifier.verify(token_of(stand_in, clock))
    assert JWKS not in stand_in.hits


async def test_a_rotated_key_is_fetched_once(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """A token signed by a key published after the set was fetched (a rotation) makes
    one refresh, then verifies; the old key's tokens keep verifying."""
    old = token_of(stand_in, clock)
    await jwt_verifier.verify(old)
    stand_in.keys.append(ec_key())
    rotated = token_of(stand_in, clock)
    clock.advance(30)  # the refresh interval since the first fetch
    assert (await jwt_verifier.verify(rotated)).client_id == "ag_ci_partner"
    assert (await jwt_verifier.verify(old)).client_id == "ag_ci_partner"
    assert (await jwt_verifier.verify(rotated)).client_id == "ag_ci_partner"
    assert stand_in.hits == {METADATA: 1, JWKS: 2}


async def test_unknown_kids_refetch_no_more_than_once_per_interval(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """The refresh on an unknown ``kid`` comes at most once per interval (30 s by
    default): tokens naming unpublished keys are refused without asking again, however
    many; after the interval, one fetch more."""
    await jwt_verifier.verify(token_of(stand_in, clock))
    clock.advance(30)
    stranger = ec_key()  # never published
    with pytest.raises(InvalidTokenError):
        await jwt_verifier.verify(sign(stranger, access_claims(stand_in.issuer, clock.now())))
    assert stand_in.hits[JWKS] == 2
    stand_in.keys.append(ec_key())  # published now, but the interval has not passed
    rotated = token_of(stand_in, clock)
    for _ in range(5):
        with pytest.raises(InvalidTokenError):
            await jwt_verifier.verify(rotated)
    clock.advance(29)
    with pytest.raises(InvalidTokenError):
        await jwt_verifier.verify(rotated)
    assert stand_in.hits[JWKS] == 2
    clock.advance(1)
    assert (await jwt_verifier.verify(rotated)).client_id == "ag_ci_partner"
    assert stand_in.hits[JWKS] == 3


async def test_a_withdrawn_key_stops_verifying_once_the_set_is_old(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """The set is fetched again when older than its maximum age (300 s by default, the
    server's JWKS max-age): a key the issuer withdrew stops verifying then, for a token
    already verified once that set is older and its verification no longer remembered
    (60 s)."""
    token = token_of(stand_in, clock)
    await jwt_verifier.verify(token)
    stand_in.keys[:] = [ec_key()]
    clock.advance(299)
    assert (await jwt_verifier.verify(token)).client_id  # verified again: the set is 299 s old
    clock.advance(59)
    assert (await jwt_verifier.verify(token)).client_id  # remembered for 60 s
    assert stand_in.hits[JWKS] == 1
    clock.advance(1)
    with pytest.raises(InvalidTokenError):
        await jwt_verifier.verify(token)
    assert stand_in.hits[JWKS] == 2


async def test_held_keys_keep_verifying_while_the_issuer_is_down(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """A failed refresh of an old set keeps the keys held: their tokens still verify
    (no 503 for a token that can be checked)."""
    token = token_of(stand_in, clock)
    await jwt_verifier.verify(token)
    stand_in.answers[JWKS] = Answer(503, b"down")
    clock.advance(300)
    assert (await jwt_verifier.verify(token)).client_id
    assert stand_in.hits[JWKS] == 2


async def test_after_a_failed_fetch_an_unknown_kid_is_503_without_asking(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """After a failed fetch, a token the held keys cannot check is answered 503 (it may
    be valid) without asking again for ``Retry-After`` seconds (5)."""
    stand_in.answers[JWKS] = Answer(500, b"{}")
    for _ in range(3):
        with pytest.raises(TemporarilyUnavailableError):
            await jwt_verifier.verify(token_of(stand_in, clock))
    assert stand_in.hits[JWKS] == 1
    del stand_in.answers[JWKS]
    clock.advance(5)
    assert (await jwt_verifier.verify(token_of(stand_in, clock))).client_id
    assert stand_in.hits[JWKS] == 2


def test_only_public_signature_keys_of_a_set_are_kept() -> None:
    """RFC 7517 §5: keys not understood are ignored, not the whole set; here also
    symmetric keys and keys whose ``use`` (§4.2) is not ``sig``."""
    good = ec_key().as_dict(private=False)
    document: dict[str, object] = {
        "keys": [
            good,
            {**ec_key().as_dict(private=False), "use": "enc"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "mac"},
            {"kty": "EC", "crv": "P-256", "x": "broken", "kid": "broken"},
            {"kty": "PQ", "kid": "future"},
            "not a key",
        ]
    }
    assert [key.kid for key in signing_keys(document) or []] == [good["kid"]]
    assert signing_keys({"keys": "none"}) is None
    assert signing_keys({}) is None


@pytest.mark.parametrize(
    "issuer",
    ["http://as.example", "ftp://as.example", "https://as.example/?tenant=1", "https://#x", "x"],
)
def test_the_issuer_must_be_an_https_url(issuer: str) -> None:
    """RFC 8414 §2: an issuer is an https URL with no query or fragment; plain http is
    taken for a loopback address only (as our own server, DESIGN.md §4.9)."""
    with pytest.raises(ValueError, match="issuer"):
        JwtVerifier(issuer, AUDIENCE)


async def test_insecure_http_is_allowed_only_when_asked() -> None:
    """``allow_insecure_http`` opts in to plain http elsewhere (behind a TLS proxy)."""
    async with JwtVerifier("http://as.internal", AUDIENCE, allow_insecure_http=True) as verifier:
        assert verifier.issuer == "http://as.internal"


async def test_concurrent_first_requests_fetch_once(
    jwt_verifier: JwtVerifier, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """Requests arriving together before any key is held share one discovery and one
    fetch of the set."""
    token = token_of(stand_in, clock)
    principals = await asyncio.gather(*(jwt_verifier.verify(token) for _ in range(20)))
    assert {principal.client_id for principal in principals} == {"ag_ci_partner"}
    assert stand_in.hits == {METADATA: 1, JWKS: 1}


@pytest.mark.parametrize(
    "metadata",
    [
        {"jwks_uri": None},
        {"jwks_uri": 7},
        {"jwks_uri": "http://as.example/keys"},
        {"jwks_uri": "https://as.example:99999/keys"},
    ],
    ids=["missing", "not-a-string", "insecure", "bad-port"],
)
async def test_metadata_without_a_usable_jwks_uri_is_503(
    jwt_verifier: JwtVerifier,
    stand_in: StandInServer,
    clock: FrozenClock,
    metadata: dict[str, object],
) -> None:
    """RFC 8414 §2: ``jwks_uri`` is a URL (https, as the issuer); without one no key can
    be found (503), and the metadata is asked again once fixed."""
    broken = {**stand_in.metadata(), **metadata}
    stand_in.answers[METADATA] = Answer(body=orjson.dumps(broken))
    with pytest.raises(TemporarilyUnavailableError):
        await jwt_verifier.verify(token_of(stand_in, clock))
    del stand_in.answers[METADATA]
    clock.advance(5)
    assert (await jwt_verifier.verify(token_of(stand_in, clock))).client_id
    assert stand_in.hits == {METADATA: 2, JWKS: 1}
