"""The trusted issuers' keys through HTTP: found by OpenID Connect discovery (Discovery
1.0 §4) or at a configured ``jwks_uri``, fetched again once when a token names a key
not held (a rotation), and an issuer that cannot be reached or does not answer makes its
workloads' requests fail with 401 ``invalid_client`` within the timeout (RFC 7521
§4.2.1), never a 5xx nor a hang."""

from __future__ import annotations

import io
import time

import httpx
import orjson
import pytest

from anti_grazer.protocol.trust_admin import bind_client
from tests.client_assertions import refusal_reasons, rsa_key
from tests.guard.stand_in_server import (
    JWKS,
    METADATA,
    OPENID_CONFIGURATION,
    Answer,
    closed_port_url,
)
from tests.http_helpers import assert_invalid_client, assert_issued
from tests.web.federation_helpers import (
    TIMEOUT_SECONDS,
    Federation,
    fetch_failures,
    present,
    the_one,
)
from tests.workload_tokens import kubernetes_claims, platform_token


async def test_keys_are_discovered_once_and_kept(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """The discovery document (not RFC 8414's) names the key set; both are asked once
    for many requests."""
    for _ in range(3):
        token = federation.kubernetes_token()
        assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    assert federation.issuer.hits == {OPENID_CONFIGURATION: 1, JWKS: 1}
    assert METADATA not in federation.issuer.hits


async def test_a_rotated_key_is_fetched_once(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """The issuer rotates: a token with the new ``kid`` makes one fetch of the key set
    and is accepted; a token naming an unknown ``kid`` right after makes none and is
    refused (at most one refresh per interval: 30 s)."""
    issuer = federation.issuer
    assert_issued(
        await present(fed_http, federation.client_id, federation.kubernetes_token()),
        "profiles:read",
    )
    assert issuer.hits[JWKS] == 1
    issuer.keys.insert(0, rsa_key())  # the new key signs; the old one stays published
    federation.clock.advance(30)
    assert_issued(
        await present(fed_http, federation.client_id, federation.kubernetes_token()),
        "profiles:read",
    )
    assert issuer.hits[JWKS] == 2
    stranger = rsa_key()
    token = platform_token(stranger, kubernetes_claims(issuer.issuer, federation.clock.now()))
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert issuer.hits[JWKS] == 2
    assert the_one(refusal_reasons(log_stream)) == (
        f"the issuer has no signing key {stranger.kid!r}"
    )


async def test_a_token_without_kid_uses_the_only_key(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7515 §4.1.4: ``kid`` is optional; an issuer with one key is unambiguous."""
    claims = kubernetes_claims(federation.issuer.issuer, federation.clock.now())
    token = platform_token(federation.issuer.keys[0], claims, kid=None)
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")


async def test_a_configured_jwks_uri_skips_discovery(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """``trust add --jwks-uri``: the keys come from there; no discovery document asked."""
    await federation.sql.trust.remove_issuer(federation.issuer.issuer, with_bindings=True)
    await federation.trust(jwks_uri=federation.issuer.issuer + JWKS)
    await federation.bind("sub=system:serviceaccount:prod:*")
    token = federation.kubernetes_token()
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    assert federation.issuer.hits == {JWKS: 1}


async def test_a_discovery_document_of_another_issuer_is_not_used(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """OpenID Connect Discovery 1.0 §4.3: its ``issuer`` MUST be the issuer asked
    about, or the document is not used: no key set is fetched from it."""
    document = {**federation.issuer.metadata(), "issuer": "https://elsewhere.example"}
    federation.issuer.answers[OPENID_CONFIGURATION] = Answer(body=orjson.dumps(document))
    token = federation.kubernetes_token()
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert JWKS not in federation.issuer.hits
    assert the_one(refusal_reasons(log_stream)) == "the issuer's keys cannot be fetched now"
    discovery = federation.issuer.issuer + OPENID_CONFIGURATION
    assert fetch_failures(log_stream) == [("discovery document names another issuer", discovery)]


async def test_an_unreachable_issuer_is_a_clear_401(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """Nobody listens at the issuer's address: 401 invalid_client at once, and the log
    says the keys could not be fetched, and why."""
    unreachable = closed_port_url()
    await federation.trust(unreachable)
    await bind_client(
        federation.sql.trust, federation.clock, federation.client_id, unreachable, ["sub=*"]
    )
    claims = kubernetes_claims(unreachable, federation.clock.now())
    token = platform_token(federation.issuer.keys[0], claims)
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert the_one(refusal_reasons(log_stream)) == "the issuer's keys cannot be fetched now"
    discovery = unreachable + OPENID_CONFIGURATION
    assert fetch_failures(log_stream) == [("ConnectError", discovery)]


async def test_an_issuer_that_does_not_answer_costs_no_more_than_the_timeout(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """The key set hangs: the request is answered 401 once the timeout has passed, not
    later; the next one, during the back-off, at once."""
    federation.issuer.answers[JWKS] = Answer(hang=True)
    token = federation.kubernetes_token()
    started = time.monotonic()
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    elapsed = time.monotonic() - started
    assert TIMEOUT_SECONDS <= elapsed < TIMEOUT_SECONDS + 2
    started = time.monotonic()
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert time.monotonic() - started < TIMEOUT_SECONDS
    assert federation.issuer.hits[JWKS] == 1


@pytest.mark.parametrize(
    "answer",
    [Answer(500, b"{}"), Answer(body=b'{"keys": 7}'), Answer(body=b"<html>"), Answer(body=b"[]")],
)
async def test_an_issuer_answering_an_error_or_no_key_set_is_a_401(
    fed_http: httpx.AsyncClient, federation: Federation, answer: Answer
) -> None:
    """A 500, a JSON that is no JWK Set, or no JSON object at all: 401, never a 5xx."""
    federation.issuer.answers[JWKS] = answer
    token = federation.kubernetes_token()
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert federation.issuer.hits[JWKS] == 1
