"""``private_key_jwt`` client authentication (RFC 7523 §2.2, RFC 7521 §4.2) at the token,
revocation and introspection endpoints, through HTTP: the accepted assertions, one
method per request, the parameters' rules, and what the access log names."""

from __future__ import annotations

import io

import httpx
import pytest
from joserfc.jwk import Key

from anti_grazer.protocol.models import Client
from anti_grazer.store.runtime import OpenedStores
from tests.client_assertions import (
    ISSUER,
    TOKEN_ENDPOINT,
    assertion_claims,
    assertion_form,
    auth_form,
    ed25519_key,
    es256_key,
    public_jwks,
    register_keys,
    rsa_key,
    sign_assertion,
)
from tests.clock import FrozenClock
from tests.guard.stand_in_server import rs256_by_hand
from tests.http_helpers import (
    INTROSPECT,
    REVOKE,
    TOKEN,
    assert_active,
    assert_inactive,
    assert_invalid_client,
    assert_issued,
    assert_oauth_error,
    assert_revoked_ok,
    basic,
)
from tests.support import log_events

MORE_THAN_ONE = ("invalid_request", "The client used more than one authentication method")


def fresh(key: Key, client: Client, clock: FrozenClock, **changes: object) -> str:
    return sign_assertion(key, assertion_claims(client.client_id, clock.now(), **changes))


async def test_an_assertion_authenticates_the_client(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock
) -> None:
    """RFC 7523 §2.2 / §3: a valid assertion signed by the registered key, ``aud`` the
    issuer, gets a token (RFC 6749 §5.1), to the client of ``iss``/``sub``."""
    response = await http.post(TOKEN, data=assertion_form(fresh(key, client, clock)))
    token = assert_issued(response, "profiles:read")
    introspected = await http.post(
        INTROSPECT, data=auth_form(fresh(key, client, clock), token=token)
    )
    assert assert_active(introspected)["client_id"] == client.client_id


@pytest.mark.parametrize(
    ("make_key", "alg"),
    [(es256_key, "ES256"), (ed25519_key, "EdDSA"), (rsa_key, "RS256"), (rsa_key, "PS256")],
)
async def test_every_allowed_algorithm(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, make_key: object, alg: str
) -> None:
    """RFC 7523 §3 item 9 with RFC 7518 §3.3-3.5 and RFC 8037 §3.1: ES256, EdDSA, RS256
    and PS256 (the metadata's ``token_endpoint_auth_signing_alg_values_supported``)."""
    assert callable(make_key)
    signer = make_key()
    client = await register_keys(sql.clients, clock, jwks=public_jwks(signer))
    assertion = sign_assertion(signer, assertion_claims(client.client_id, clock.now()), alg=alg)
    assert_issued(await http.post(TOKEN, data=assertion_form(assertion)), "profiles:read")


async def test_a_header_parameter_not_understood_is_ignored(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7515 §4: a header parameter not understood (and not listed in ``crit``) "MUST
    be ignored"; ``typ`` JWT as RFC 7523 §3 allows."""
    signer = rsa_key()
    client = await register_keys(sql.clients, clock, jwks=public_jwks(signer))
    header = {"alg": "RS256", "kid": signer.kid, "typ": "JWT", "x-vendor": [1, 2]}
    assertion = rs256_by_hand(signer, header, assertion_claims(client.client_id, clock.now()))
    assert_issued(await http.post(TOKEN, data=assertion_form(assertion)), "profiles:read")


@pytest.mark.parametrize("aud", [TOKEN_ENDPOINT, [ISSUER], ["https://other.example", ISSUER]])
async def test_the_token_endpoint_url_and_arrays_are_audiences(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock, aud: object
) -> None:
    """RFC 7523 §3 item 3: the token endpoint URL MAY be the audience; ``aud`` may be an
    array that contains the server's identifier (RFC 7519 §4.1.3)."""
    assertion = fresh(key, client, clock, aud=aud)
    assert_issued(await http.post(TOKEN, data=assertion_form(assertion)), "profiles:read")


async def test_a_client_id_parameter_must_name_the_assertions_client(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock
) -> None:
    """RFC 7521 §4.2: ``client_id`` is optional; when sent it identifies the client the
    assertion is from, so another id is refused ``invalid_client`` (RFC 7523 §3.2)."""
    same = assertion_form(fresh(key, client, clock), client_id=client.client_id)
    assert_issued(await http.post(TOKEN, data=same), "profiles:read")
    other = assertion_form(fresh(key, client, clock), client_id="ag_ci_someone_else")
    assert_invalid_client(await http.post(TOKEN, data=other))


async def test_an_assertion_with_basic_is_more_than_one_method(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock
) -> None:
    """RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request"."""
    form = assertion_form(fresh(key, client, clock))
    headers = {"Authorization": basic(client.client_id, "ag_cs_anything")}
    assert_oauth_error(await http.post(TOKEN, data=form, headers=headers), 400, *MORE_THAN_ONE)
    with_secret = {**assertion_form(fresh(key, client, clock)), "client_secret": "x"}
    assert_oauth_error(await http.post(TOKEN, data=with_secret), 400, *MORE_THAN_ONE)


@pytest.mark.parametrize("left_out", ["client_assertion", "client_assertion_type"])
async def test_both_assertion_parameters_are_required(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock, left_out: str
) -> None:
    """RFC 7521 §4.2: ``client_assertion_type`` and ``client_assertion`` are both
    REQUIRED: one alone is an ``invalid_request`` (RFC 6749 §5.2, a missing parameter),
    as is one sent empty (§3.2: "as if they were omitted")."""
    form = assertion_form(fresh(key, client, clock))
    del form[left_out]
    assert_oauth_error(
        await http.post(TOKEN, data={**form, left_out: ""}),
        400,
        "invalid_request",
        "client_assertion and client_assertion_type must be sent together",
    )
    assert_oauth_error(
        await http.post(TOKEN, data=form),
        400,
        "invalid_request",
        "client_assertion and client_assertion_type must be sent together",
    )


@pytest.mark.parametrize(
    "assertion_type",
    ["urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "jwt-bearer"],
)
async def test_another_assertion_type_is_invalid_client(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock, assertion_type: str
) -> None:
    """RFC 6749 §5.2: an unsupported authentication method is ``invalid_client``; RFC
    7523 §2.2 defines the one type (``...:client-assertion-type:jwt-bearer``)."""
    form = {**assertion_form(fresh(key, client, clock)), "client_assertion_type": assertion_type}
    assert_invalid_client(await http.post(TOKEN, data=form))


async def test_a_key_client_has_no_secret(
    http: httpx.AsyncClient, client: Client, clock: FrozenClock
) -> None:
    """A client has a secret or keys: Basic with an empty or any secret fails alike."""
    assert client.secrets == ()
    for secret in ("", "ag_cs_guess"):
        response = await http.post(
            TOKEN,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(client.client_id, secret)},
        )
        assert_invalid_client(response)


async def test_a_secret_client_cannot_use_an_assertion(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, key: Key
) -> None:
    """A client registered with a secret has no key: any assertion in its name fails."""
    from tests.support import register  # noqa: PLC0415 - only here

    secret_client = await register(sql.clients, clock)
    assertion = sign_assertion(key, assertion_claims(secret_client.client_id, clock.now()))
    assert_invalid_client(await http.post(TOKEN, data=assertion_form(assertion)))


async def test_revocation_with_private_key_jwt(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock
) -> None:
    """RFC 7009 §2.1: the client authenticates as at the token endpoint (RFC 7523 §2.2),
    here with ``aud`` the token endpoint URL; §2.2: 200 and an empty body."""
    token = assert_issued(
        await http.post(TOKEN, data=assertion_form(fresh(key, client, clock))), "profiles:read"
    )
    revoke = auth_form(fresh(key, client, clock, aud=TOKEN_ENDPOINT), token=token)
    assert_revoked_ok(await http.post(REVOKE, data=revoke))
    again = auth_form(fresh(key, client, clock), token=token)
    assert_inactive(await http.post(INTROSPECT, data=again))
    bad = auth_form(fresh(key, client, clock, aud=ISSUER + "/oauth/revoke"), token=token)
    assert_invalid_client(await http.post(REVOKE, data=bad))


async def test_introspection_with_private_key_jwt_refusal(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock
) -> None:
    """RFC 7662 §2.1 with RFC 7523 §3.2: a bad assertion at introspection is the same 401
    ``invalid_client``, never an answer about the token."""
    expired = fresh(key, client, clock, exp=int(clock.now().timestamp()) - 120)
    assert_invalid_client(await http.post(INTROSPECT, data=auth_form(expired, token="x")))


async def test_the_access_log_names_the_client_and_its_key(
    http: httpx.AsyncClient, client: Client, key: Key, clock: FrozenClock, log_stream: io.StringIO
) -> None:
    """The access line names the client and, in ``secret_id``, the credential:
    ``private_key_jwt:<kid>``; never the assertion.  A refusal logs its reason."""
    assertion = fresh(key, client, clock)
    assert_issued(await http.post(TOKEN, data=assertion_form(assertion)), "profiles:read")
    replayed = await http.post(TOKEN, data=assertion_form(assertion))
    assert_invalid_client(replayed)
    events = log_events(log_stream)
    ok, refused = [e for e in events if e["event"] == "request"]
    assert ok["client_id"] == client.client_id
    assert ok["secret_id"] == f"private_key_jwt:{key.kid}"
    assert "client_id" not in refused
    (reason,) = [e for e in events if e["event"] == "client assertion refused"]
    assert reason["reason"] == "jti already used (a replay)"
    assert reason["client_id"] == client.client_id
    assert assertion.split(".")[2] not in log_stream.getvalue()
