"""Bad platform tokens at the token endpoint (issue 17): unsigned or MAC'd tokens and
``crit`` headers refused before the issuer is asked for its keys, algorithms and keys
outside the allow-list, claims of the wrong types — each answered 401 ``invalid_client``
(RFC 7521 §4.2.1), never a 5xx.  Every client assertion is read by the same code
(``protocol.jwt_assertion``): its other refusals (keys the token points to or brings
along, huge, nested and non-JSON tokens, malformed assertion parameters) are
those of tests/web/private_key_jwt/."""

from __future__ import annotations

import base64
import io
import json
import warnings

import httpx
import pytest
from joserfc.errors import SecurityWarning
from joserfc.jwk import RSAKey

from tests.client_assertions import refusal_reasons, rsa_key
from tests.guard.stand_in_server import hs256, rs256_by_hand, unsigned
from tests.http_helpers import (
    assert_invalid_client,
    assert_issued,
)
from tests.web.federation_helpers import Federation, present, the_one
from tests.workload_tokens import kubernetes_claims, platform_token

# RFC 7522 §2.2: another assertion type, which this server does not support.
SAML2_BEARER = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def _claims(federation: Federation) -> dict[str, object]:
    return kubernetes_claims(federation.issuer.issuer, federation.clock.now())


async def test_alg_none_is_refused_before_any_key_is_fetched(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7523 §3 item 9: the JWT MUST be digitally signed; ``none`` is refused by its
    header alone (RFC 8725 §3.1)."""
    header = {"alg": "none", "kid": federation.issuer.keys[0].kid}
    token = unsigned(header, _claims(federation))
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert federation.issuer.hits == {}


async def test_hs256_keyed_with_the_issuers_public_key_is_refused(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """A MAC is not the issuer's signature (the algorithm-confusion forgery, RFC 8725
    §2.1): refused by its header, no key fetched."""
    key = federation.issuer.keys[0]
    header = {"alg": "HS256", "kid": key.kid}
    for secret in (key.as_pem(private=False), json.dumps(key.as_dict(private=False)).encode()):
        token = hs256(secret, header, _claims(federation))
        assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert federation.issuer.hits == {}


async def test_an_algorithm_outside_the_allow_list_is_refused(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """Only ES256, EdDSA, PS256 and RS256: an RS512 token of the issuer's own key is
    refused; PS256 with the same key is accepted."""
    key = federation.issuer.keys[0]
    refused = platform_token(key, _claims(federation), alg="RS512")
    assert_invalid_client(await present(fed_http, federation.client_id, refused))
    accepted = platform_token(key, _claims(federation), alg="PS256")
    assert_issued(await present(fed_http, federation.client_id, accepted), "profiles:read")


async def test_a_short_rsa_key_is_refused_though_published(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RSA keys of at least 2048 bits: a 1024-bit key in the issuer's set signs nothing
    we accept (joserfc warns as it reads it; the check is ours)."""
    weak = rsa_key(1024)
    federation.issuer.keys[:] = [weak]
    token = rs256_by_hand(weak, {"alg": "RS256", "kid": weak.kid}, _claims(federation))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        response = await present(fed_http, federation.client_id, token)
    assert_invalid_client(response)
    assert the_one(refusal_reasons(log_stream)) == "the key does not fit alg"


async def test_a_crit_header_is_refused(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7515 §4.1.11: a recipient that does not understand a critical extension MUST
    reject the JWS; we understand none (a well-signed token, refused before any key is
    fetched)."""
    key = federation.issuer.keys[0]
    header = {"alg": "RS256", "kid": key.kid, "crit": ["x-ext"], "x-ext": True}
    assert isinstance(key, RSAKey)
    token = rs256_by_hand(key, header, _claims(federation))
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert federation.issuer.hits == {}
    assert the_one(refusal_reasons(log_stream)) == "header crit refused"


@pytest.mark.parametrize(
    ("claim", "value"),
    [("iss", 7), ("iss", None), ("jti", 7), ("jti", ""), ("sub", ["system:serviceaccount"])],
)
async def test_claims_of_the_wrong_type_are_refused(
    fed_http: httpx.AsyncClient, federation: Federation, claim: str, value: object
) -> None:
    """RFC 7519 §4.1: ``iss`` and ``jti`` are strings; a rule compares strings only."""
    claims = _claims(federation)
    claims[claim] = value
    present_claims = {name: v for name, v in claims.items() if v is not None}
    token = platform_token(federation.issuer.keys[0], present_claims)
    assert_invalid_client(await present(fed_http, federation.client_id, token))


async def test_a_header_parameter_not_understood_is_ignored(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7515 §4: a header parameter not understood (and not ``crit``) "MUST be
    ignored": GitHub's ``x5t`` and ``typ`` beside a vendor's own member."""
    key = federation.issuer.keys[0]
    assert isinstance(key, RSAKey)
    header = {"alg": "RS256", "kid": key.kid, "typ": "JWT", "x5t": "abc", "x-vendor": {"n": 1}}
    token = rs256_by_hand(key, header, _claims(federation))
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
