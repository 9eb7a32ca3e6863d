"""Bad client assertions of every kind at the token endpoint (issue 17): forged, unsigned
or MAC'd tokens, ``crit`` headers, keys the token brings along (never followed nor
used), huge, nested and non-JSON tokens, claims of the wrong types, and malformed
assertion parameters — each answered 401 ``invalid_client`` (RFC 7521 §4.2.1) or 400
``invalid_request``, never a 5xx."""

from __future__ import annotations

import base64
import io
import json
import warnings

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.errors import SecurityWarning
from joserfc.jwk import RSAKey

from anti_grazer.protocol.client_auth import JWT_BEARER
from tests.guard.stand_in_server import (
    JWKS,
    StandInServer,
    hs256,
    rs256_by_hand,
    rsa_key,
    serving,
    unsigned,
)
from tests.http_helpers import (
    TOKEN,
    assert_invalid_client,
    assert_issued,
    assert_oauth_4xx,
    assert_oauth_error,
    basic,
    post_form,
)
from tests.support import property_settings
from tests.web.federation_helpers import Federation, present, refusal_reasons, the_one
from tests.workload_tokens import assertion_form, kubernetes_claims, platform_token

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
    assert the_one(refusal_reasons(log_stream)) == "the issuer's RSA key is shorter than 2048 bits"


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
    reason = the_one(refusal_reasons(log_stream))
    assert reason == "the header has crit: no extension is understood"


@pytest.mark.parametrize("member", ["jku", "x5u"])
async def test_a_key_url_in_the_header_is_never_fetched(
    fed_http: httpx.AsyncClient, federation: Federation, member: str
) -> None:
    """RFC 7515 §4.1.2 / §4.1.5: ``jku`` and ``x5u`` name where keys are; the key must
    be the trusted issuer's, so a token signed by a forger's key whose set the header
    points at is refused, and the forger's server sees no request."""
    forger_key = rsa_key()
    with serving(StandInServer(keys=[forger_key])) as forger:
        header = {member: forger.issuer + JWKS}
        token = platform_token(forger_key, _claims(federation), **header)
        assert_invalid_client(await present(fed_http, federation.client_id, token))
        assert forger.hits == {}


async def test_a_key_embedded_in_the_header_is_not_used(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7515 §4.1.3: a ``jwk`` header member is the token's own claim about its key,
    which proves nothing: the forger's embedded key verifies nothing here, with or
    without the issuer's ``kid``."""
    forger = rsa_key()
    embedded = forger.as_dict(private=False)
    for kid in (forger.kid, federation.issuer.keys[0].kid):
        token = platform_token(forger, _claims(federation), jwk=embedded, kid=kid)
        assert_invalid_client(await present(fed_http, federation.client_id, token))


@pytest.mark.parametrize(
    "assertion",
    [
        ".",
        "..",
        "a.b.c",
        "eyJ.eyJ.",
        "not a jwt at all",
        "é.é.é",
        "x" * 9000,
        _b64(b'{"alg":"RS256"}') + "." + _b64(b"[" * 5000 + b"]" * 5000) + ".c2ln",
        _b64(b'{"alg":"RS256"}') + "." + _b64(b"not json") + ".c2ln",
        _b64(b'{"alg":"RS256"}') + "." + _b64(b"[1, 2]") + ".c2ln",
        _b64(b'{"alg":"RS256"}') + "." + _b64(b'{"iss": 1e999}') + ".c2ln",
        _b64(b'{"alg":"RS256"}') + "." + _b64(b'{"iss":"' + b"1" * 5000 + b'"}') + ".c2ln",
        _b64(b"[" * 5000 + b"]" * 5000) + "." + _b64(b"{}") + ".c2ln",
        _b64(b"\xff\xfe") + "." + _b64(b"{}") + ".c2ln",
        _b64(b'{"alg":"RS256"}') + "." + _b64(b"{}") + "." + "A" * 5000,
    ],
)
async def test_malformed_assertions_are_refused(
    fed_http: httpx.AsyncClient, federation: Federation, assertion: str
) -> None:
    """Not a JWS, huge, nested thousands deep, not JSON, not an object: 401, never 5xx."""
    assert_invalid_client(await present(fed_http, federation.client_id, assertion))


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


async def test_a_kid_that_is_no_string_is_refused(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7515 §4.1.4: ``kid`` is a string."""
    key = federation.issuer.keys[0]
    assert isinstance(key, RSAKey)
    token = rs256_by_hand(key, {"alg": "RS256", "kid": 7}, _claims(federation))
    assert_invalid_client(await present(fed_http, federation.client_id, token))


async def test_the_assertion_parameters_go_together(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7521 §4.2: ``client_assertion_type`` and ``client_assertion`` are both
    REQUIRED: one alone is an ``invalid_request``; another assertion type is an
    unsupported authentication method (``invalid_client``, RFC 6749 §5.2)."""
    token = federation.kubernetes_token()
    grant = {"grant_type": "client_credentials", "client_id": federation.client_id}
    halves = ({**grant, "client_assertion": token}, {**grant, "client_assertion_type": JWT_BEARER})
    for form in halves:
        assert_oauth_error(
            await post_form(fed_http, TOKEN, form),
            400,
            "invalid_request",
            "client_assertion and client_assertion_type go together",
        )
    saml = assertion_form(federation.client_id, token, client_assertion_type=SAML2_BEARER)
    assert_invalid_client(await post_form(fed_http, TOKEN, saml))


async def test_an_assertion_beside_a_secret_is_two_methods(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 6749 §2.3: a client MUST NOT use more than one authentication method: an
    assertion with Basic credentials, or with ``client_secret``, is an invalid_request."""
    form = assertion_form(federation.client_id, federation.kubernetes_token())
    credentials = basic(federation.client_id, federation.client.secret)
    both = await post_form(fed_http, TOKEN, form, credentials)
    with_secret = await post_form(
        fed_http, TOKEN, {**form, "client_secret": federation.client.secret}
    )
    for response in (both, with_secret):
        assert_oauth_error(
            response, 400, "invalid_request", "The client used more than one authentication method"
        )


@property_settings
@given(assertion=st.text(max_size=300) | st.binary(max_size=300).map(_b64))
async def test_any_text_as_an_assertion_gets_an_oauth_error(
    fed_http: httpx.AsyncClient, federation: Federation, assertion: str
) -> None:
    """Whatever the assertion: a 4xx OAuth error, never a 5xx (DESIGN.md §5); an empty
    one is no assertion (RFC 6749 §3.2: a parameter without a value is omitted)."""
    response = await present(fed_http, federation.client_id, assertion)
    expected = "invalid_request" if assertion == "" else "invalid_client"
    assert assert_oauth_4xx(response) == expected
