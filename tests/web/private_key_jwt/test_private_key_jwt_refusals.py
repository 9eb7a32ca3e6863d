"""Every assertion ``private_key_jwt`` refuses (RFC 7523 §3, §3.2; RFC 7521 §4.2.1): the
same 401 ``invalid_client`` each time, byte for byte, its precise reason in the log only;
keys an assertion points to (``jku``, ``x5u``) are never fetched."""

from __future__ import annotations

import io
import json
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime

import httpx
import pytest
from joserfc.jwk import Key

from anti_grazer.protocol.models import Client
from anti_grazer.store.runtime import OpenedStores
from tests.client_assertions import (
    ISSUER,
    assertion_claims,
    assertion_form,
    auth_form,
    es256_key,
    public_jwks,
    refusal_reasons,
    register_keys,
    rsa_key,
    sign_assertion,
    sign_payload,
)
from tests.clock import FrozenClock
from tests.guard.stand_in_server import JWKS, StandInServer, serving
from tests.http_helpers import INTROSPECT, TOKEN, assert_invalid_client, assert_issued

Build = Callable[[Key, str, datetime], str]
# RFC 7516 §7.1: five parts (header, encrypted key, IV, ciphertext, tag).
JWE_SHAPED = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn"


def _b64(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**changes: object) -> Build:
    return lambda key, client_id, now: sign_assertion(
        key, assertion_claims(client_id, now, **changes)
    )


def _at(offset: int, name: str) -> Build:
    return lambda key, client_id, now: sign_assertion(
        key, assertion_claims(client_id, now, **{name: int(now.timestamp()) + offset})
    )


def _header(**header: object) -> Build:
    return lambda key, client_id, now: sign_assertion(
        key, assertion_claims(client_id, now), **header
    )


def _forged(signature: str = "c2ln", **header: object) -> Build:
    """A JWS that no key signed (its header is refused before any key is looked for)."""

    def build(key: Key, client_id: str, now: datetime) -> str:
        protected = _b64(json.dumps({"kid": key.kid, **header}).encode())
        claims = _b64(json.dumps(assertion_claims(client_id, now)).encode())
        return f"{protected}.{claims}.{signature}"

    return build


def _other_key(key: Key, client_id: str, now: datetime) -> str:
    return sign_assertion(es256_key(), assertion_claims(client_id, now), kid=key.kid)


def _rsa_under_ec_kid(key: Key, client_id: str, now: datetime) -> str:
    return sign_assertion(rsa_key(), assertion_claims(client_id, now), kid=key.kid)


def _embedded_key(key: Key, client_id: str, now: datetime) -> str:
    """Signed by the attacker's key, which the header carries (``jwk``)."""
    attacker = es256_key()
    return sign_assertion(
        attacker, assertion_claims(client_id, now), jwk=attacker.as_dict(private=False)
    )


def _payload(data: bytes) -> Build:
    return lambda key, client_id, now: sign_payload(key, data)


CASES: dict[str, tuple[Build, str]] = {
    "expired": (_at(-61, "exp"), "expired"),
    "no exp": (_claims(exp=None), "exp is missing"),
    "exp too far ahead": (_at(362, "exp"), "exp is further ahead than the maximum lifetime"),
    "exp a string": (_claims(exp="2000000000"), "exp is not a NumericDate"),
    "exp a boolean": (_claims(exp=True), "exp is not a NumericDate"),
    "nbf in the future": (_at(61, "nbf"), "nbf is in the future"),
    "iat in the future": (_at(61, "iat"), "iat is in the future"),
    "iat a string": (_claims(iat="now"), "iat is not a NumericDate"),
    "aud another server": (
        _claims(aud="https://other.example"),
        "aud names neither the issuer nor the token endpoint",
    ),
    "aud the revocation endpoint": (
        _claims(aud=ISSUER + "/oauth/revoke"),
        "aud names neither the issuer nor the token endpoint",
    ),
    "no aud": (_claims(aud=None), "aud names neither the issuer nor the token endpoint"),
    "aud a number": (_claims(aud=7), "aud names neither the issuer nor the token endpoint"),
    "iss another client": (_claims(iss="ag_ci_other"), "iss and sub must be the same client id"),
    "no sub": (_claims(sub=None), "iss and sub must be the same client id"),
    "iss a number": (_claims(iss=5, sub=5), "iss and sub must be the same client id"),
    "no jti": (_claims(jti=None), "jti is missing or too long"),
    "jti a number": (_claims(jti=12), "jti is missing or too long"),
    "jti too long": (_claims(jti="j" * 257), "jti is missing or too long"),
    "unknown kid": (_header(kid="not-a-kid"), "no key of the client has this kid"),
    "kid a number": (_forged(alg="ES256", kid=3), "kid is not a string"),
    "another key": (_other_key, "signature"),
    "alg none": (_forged("", alg="none"), "alg not allowed"),
    "alg HS256": (_forged(alg="HS256"), "alg not allowed"),
    "alg ES512": (_forged(alg="ES512"), "alg not allowed"),
    "no alg": (_forged(), "not a JWS with a JSON payload"),  # joserfc requires alg
    "RSA signature under the EC key": (_rsa_under_ec_kid, "the key does not fit alg"),
    "crit": (_forged(alg="ES256", crit=["exp"], exp=1), "header crit refused"),
    "jwk in the header": (_embedded_key, "header jwk refused"),
    "x5c": (_header(x5c=["MIIB"]), "header x5c refused"),
    "nested JWT": (_header(cty="JWT"), "header cty refused"),
    "JWE": (
        lambda k, c, n: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
        "not a JWS in compact serialization",
    ),
    "huge": (lambda k, c, n: "a." * 4097 + "a", "longer than the maximum length"),
    "not base64": (lambda k, c, n: "!!.??.**", "not a JWS with a JSON payload"),
    "payload not JSON": (_payload(b"hello"), "not a JWS with a JSON payload"),
    "payload not UTF-8": (_payload(b"\xff\xfe"), "not a JWS with a JSON payload"),
    "payload an array": (_payload(b"[1, 2]"), "header or payload is not a JSON object"),
    "payload deeply nested": (_payload(b"[" * 3000), "not a JWS with a JSON payload"),
    "header deeply nested": (
        lambda k, c, n: _b64(b"[" * 2000 + b"]" * 2000) + ".e30.c2ln",
        "not a JWS with a JSON payload",
    ),
    "signature too long": (
        lambda k, c, n: _b64(json.dumps({"alg": "ES256"}).encode()) + ".e30." + "A" * 5000,
        "not a JWS with a JSON payload",
    ),
    "not ASCII": (lambda k, c, n: "é.é.é", "not a JWS in compact serialization"),
    "iss an infinite number": (
        _payload(b'{"iss": 1e999}'),
        "iss and sub must be the same client id",
    ),
}


@pytest.fixture
def counting() -> Iterator[StandInServer]:
    """A server on 127.0.0.1 that counts every request (none must reach it)."""
    with serving(StandInServer()) as server:
        yield server


@pytest.mark.parametrize("case", list(CASES))
async def test_every_bad_assertion_is_the_same_invalid_client(
    http: httpx.AsyncClient,
    client: Client,
    key: Key,
    clock: FrozenClock,
    log_stream: io.StringIO,
    case: str,
) -> None:
    """RFC 7523 §3.2 / RFC 7521 §4.2.1: an assertion that is not valid is ``invalid_client``
    (RFC 6749 §5.2: 401, the seed's body, the Basic challenge), whatever is wrong; the
    reason goes to the log (never the response), and nothing of the assertion does."""
    build, reason = CASES[case]
    assertion = build(key, client.client_id, clock.now())
    assert_invalid_client(await http.post(TOKEN, data=assertion_form(assertion)))
    assert refusal_reasons(log_stream) == [reason]
    if assertion.count(".") == 2 and len(assertion.split(".")[2]) > 8:
        assert assertion.split(".")[2] not in log_stream.getvalue()


@pytest.mark.parametrize("member", ["jku", "x5u"])
async def test_a_key_url_in_the_header_is_never_fetched(
    http: httpx.AsyncClient,
    client: Client,
    key: Key,
    clock: FrozenClock,
    counting: StandInServer,
    log_stream: io.StringIO,
    member: str,
) -> None:
    """RFC 7515 §4.1.2 / §4.1.5 ``jku``/``x5u`` point at keys; the client's keys are the
    registered ones (RFC 7523 §3 item 9), so the assertion is refused and the URL never
    asked, even with a header the client's own key signed."""
    header = {member: counting.issuer + JWKS}
    assertion = sign_assertion(key, assertion_claims(client.client_id, clock.now()), **header)
    assert_invalid_client(await http.post(TOKEN, data=assertion_form(assertion)))
    assert counting.hits == {}
    assert refusal_reasons(log_stream) == [f"header {member} refused"]


async def test_a_jti_is_used_once_across_endpoints(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock
) -> None:
    """RFC 7523 §3 item 7: the server MAY ensure a JWT is not replayed by its ``jti``;
    the token, revocation and introspection endpoints share one memory of them."""
    assertion = sign_assertion(key, assertion_claims(client.client_id, clock.now()))
    assert_issued(await http.post(TOKEN, data=assertion_form(assertion)), "profiles:read")
    assert_invalid_client(await http.post(INTROSPECT, data=auth_form(assertion, token="t")))


async def test_a_disabled_or_unknown_client_is_refused(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    client: Client,
    key: Key,
    clock: FrozenClock,
    log_stream: io.StringIO,
) -> None:
    """RFC 6749 §5.2: an unknown client and a disabled one fail as any other."""
    unknown = sign_assertion(key, assertion_claims("ag_ci_nobody", clock.now()))
    assert_invalid_client(await http.post(TOKEN, data=assertion_form(unknown)))
    await sql.clients.update_client(replace(client, enabled=False))
    disabled = sign_assertion(key, assertion_claims(client.client_id, clock.now()))
    assert_invalid_client(await http.post(TOKEN, data=assertion_form(disabled)))
    assert refusal_reasons(log_stream) == ["unknown or disabled client"] * 2


async def test_a_small_rsa_key_is_never_trusted(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, log_stream: io.StringIO
) -> None:
    """RSA keys under 2048 bits are refused at registration; one stored anyway (an older
    registration, a database edit) still verifies nothing."""
    small = rsa_key(1024)
    client = await register_keys(sql.clients, clock, jwks=public_jwks(rsa_key()))
    await sql.clients.update_client(replace(client, jwks=public_jwks(small)))
    assertion = sign_assertion(small, assertion_claims(client.client_id, clock.now()))
    assert_invalid_client(await http.post(TOKEN, data=assertion_form(assertion)))
    assert refusal_reasons(log_stream) == ["the key does not fit alg"]
