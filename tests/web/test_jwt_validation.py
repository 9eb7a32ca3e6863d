"""Our own resource server (the ``/v1`` guard, ``StoreTokenVerifier``) validating JWT
access tokens as RFC 9068 §4 says, then by their record: a revoked JWT (RFC 7009, through
``POST /oauth/revoke``) is refused at once, an expired one too, and so is every forgery —
a wrong ``typ``, issuer or audience, an unknown key, another key's algorithm, a tampered
signature — even when a record is stored under its digest."""

from __future__ import annotations

import json
from base64 import urlsafe_b64encode
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.protocol.key_admin import activate_key, withdraw_key
from anti_grazer.protocol.models import EDDSA, JWT, SigningKey, TokenRecord
from anti_grazer.protocol.tokens import jwt_access_token_digest
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.http_helpers import (
    INTROSPECT,
    REVOKE,
    assert_invalid_token,
    assert_oauth_error,
    assert_revoked_ok,
    read_profile,
)
from tests.jwt_helpers import (
    AUDIENCE,
    KEK_BYTES,
    NO_WAIT,
    claims_of,
    first_key,
    jwt_settings,
    new_key,
    sign,
)
from tests.support import Registered, altered, create_app, issue, property_settings, register

Forge = Callable[[dict[str, Any]], Awaitable[str]]


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(jwt_settings(database_url), clock=clock)


@pytest.fixture
async def key(sql: OpenedStores, clock: FrozenClock) -> SigningKey:
    return await first_key(sql.signing_keys, clock)


@pytest.fixture
async def jwt_client(sql: OpenedStores, clock: FrozenClock) -> Registered:
    return await register(sql.clients, clock, name="jwt client", token_format=JWT)


@pytest.fixture
async def token(http: httpx.AsyncClient, key: SigningKey, jwt_client: Registered) -> str:
    return await issue(http, jwt_client)


async def test_a_valid_jwt_opens_the_api(http: httpx.AsyncClient, token: str) -> None:
    """RFC 9068 §4 and RFC 6750 §2.1: a JWT access token is a bearer token."""
    assert (await read_profile(http, token)).status_code == 200


async def test_a_revoked_jwt_is_refused_at_once(
    http: httpx.AsyncClient, sql: OpenedStores, jwt_client: Registered, token: str
) -> None:
    """RFC 7009 §2.1-2.2: the client revokes its JWT like any token (200, empty); our
    guard refuses it on the next request (RFC 6750 §3.1 invalid_token)."""
    revoked = await http.post(
        REVOKE,
        data={"token": token, "token_type_hint": "access_token"},
        auth=(jwt_client.client_id, jwt_client.secret),
    )
    assert_revoked_ok(revoked)
    assert_invalid_token(await read_profile(http, token))
    again = await http.post(
        REVOKE, data={"token": token}, auth=(jwt_client.client_id, jwt_client.secret)
    )
    assert_revoked_ok(again)


async def test_another_client_cannot_revoke_a_jwt(
    http: httpx.AsyncClient, other_client: Registered, token: str
) -> None:
    """RFC 7009 §2.1: the token was not issued to the requesting client: refused, and the
    token stays valid (DESIGN.md §4.6)."""
    refused = await http.post(
        REVOKE, data={"token": token}, auth=(other_client.client_id, other_client.secret)
    )
    assert_oauth_error(
        refused, 400, "unauthorized_client", "The token was not issued to this client"
    )
    assert (await read_profile(http, token)).status_code == 200


async def test_an_expired_jwt_is_refused(
    http: httpx.AsyncClient, clock: FrozenClock, token: str
) -> None:
    """RFC 9068 §4: the current time is before ``exp``."""
    clock.advance(3599)
    assert (await read_profile(http, token)).status_code == 200
    clock.advance(1)
    assert_invalid_token(await read_profile(http, token))


async def test_a_retired_key_still_verifies_and_a_key_gone_verifies_nothing(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    clock: FrozenClock,
    key: SigningKey,
    token: str,
    jwt_client: Registered,
) -> None:
    """Rotation with overlap: the retired key stays published, so its tokens verify; a
    token whose key is no longer published is refused, even with a live record, and
    introspection (RFC 7662 §2.2) calls it inactive as the guard refuses it."""
    credentials = (jwt_client.client_id, jwt_client.secret)
    successor = await new_key(sql.signing_keys, clock, EDDSA)
    await activate_key(sql.signing_keys, clock, NO_WAIT, KEK_BYTES, successor.kid)
    assert (await read_profile(http, token)).status_code == 200
    introspected = await http.post(INTROSPECT, data={"token": token}, auth=credentials)
    assert introspected.json()["active"] is True
    assert await sql.signing_keys.delete_key(key.kid)
    assert_invalid_token(await read_profile(http, token))
    introspected = await http.post(INTROSPECT, data={"token": token}, auth=credentials)
    assert (introspected.status_code, introspected.json()) == (200, {"active": False})


async def test_a_withdrawn_key_verifies_nothing_at_once(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, key: SigningKey, token: str
) -> None:
    """``keys withdraw`` (a compromised key): its tokens, valid for hours more, are
    refused from now on, where a retired key stays published until they expire."""
    successor = await new_key(sql.signing_keys, clock, EDDSA)
    await activate_key(sql.signing_keys, clock, NO_WAIT, KEK_BYTES, successor.kid)
    assert (await read_profile(http, token)).status_code == 200
    await withdraw_key(sql.signing_keys, clock, key.kid)
    assert_invalid_token(await read_profile(http, token))


@pytest.fixture
def forge(sql: OpenedStores, key: SigningKey, jwt_client: Registered, token: str) -> Forge:
    """Signs ``token``'s claims changed as given (with ``header`` members under the
    ``_header`` entry) and stores a live record under the forged token's digest, so that
    only the §4 checks stand between it and the API."""
    base = claims_of(token)

    async def forged(changes: dict[str, Any]) -> str:
        header = changes.pop("_header", {})
        signer: SigningKey = changes.pop("_key", key)
        claims = {**base, **changes}
        value = sign(signer, claims, **header)
        record = await sql.tokens.get_token(jwt_access_token_digest(token, base["iat"]))
        assert record is not None
        await sql.tokens.add_token(
            TokenRecord(
                digest=jwt_access_token_digest(value, base["iat"]),
                client_id=record.client_id,
                scopes=record.scopes,
                issued_at=record.issued_at,
                expires_at=record.expires_at,
                jti=record.jti,
                audience=record.audience,
            )
        )
        return value

    return forged


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"_header": {"typ": "application/at+jwt"}}, id="typ-media-type"),
        pytest.param({"aud": ["https://other.example", AUDIENCE]}, id="aud-array-with-ours"),
    ],
)
async def test_what_rfc9068_4_accepts(
    http: httpx.AsyncClient, forge: Forge, changes: dict[str, Any]
) -> None:
    """§4: ``typ`` may be the full media type; ``aud`` may be an array that names us."""
    assert (await read_profile(http, await forge(changes))).status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"_header": {"typ": "JWT"}}, id="typ-JWT"),
        pytest.param({"_header": {"typ": None}}, id="typ-missing"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-issuer"),
        pytest.param({"aud": "https://other.example"}, id="wrong-audience"),
        pytest.param({"aud": ["https://other.example"]}, id="audience-array-without-us"),
        pytest.param({"_header": {"kid": "unknown-kid"}}, id="unknown-kid"),
        pytest.param({"_header": {"kid": None}}, id="no-kid"),
        pytest.param({"iat": "yesterday"}, id="iat-not-a-number"),
    ],
)
async def test_what_rfc9068_4_refuses(
    http: httpx.AsyncClient, forge: Forge, changes: dict[str, Any]
) -> None:
    """§4: the resource server MUST check ``typ``, the issuer, the audience and the
    signature with the issuer's key; each failure is RFC 6750 §3.1 invalid_token."""
    assert_invalid_token(await read_profile(http, await forge(changes)))


async def test_a_key_signs_only_with_its_own_algorithm(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, key: SigningKey, forge: Forge
) -> None:
    """RFC 9068 §4 / RFC 8725 §3.1: the ``alg`` must be the one of the key the ``kid``
    names: a token signed by another published key under this kid is refused."""
    other = await new_key(sql.signing_keys, clock, EDDSA)
    under_our_kid = await forge({"_key": other, "_header": {"kid": key.kid}})
    assert_invalid_token(await read_profile(http, under_our_kid))
    under_its_kid_with_our_alg = await forge({"_header": {"kid": other.kid}})
    assert_invalid_token(await read_profile(http, under_its_kid_with_our_alg))


async def test_a_tampered_or_unsigned_token_is_refused(
    http: httpx.AsyncClient, key: SigningKey, token: str
) -> None:
    """RFC 9068 §4: the signature MUST verify; ``alg: none`` is no signature."""
    head, body, signature = token.split(".")
    assert_invalid_token(await read_profile(http, f"{head}.{body}.{altered(signature)}"))
    unsigned = sign(key, claims_of(token)).split(".")
    none_header = _b64({"typ": "at+jwt", "alg": "none", "kid": key.kid})
    assert_invalid_token(await read_profile(http, f"{none_header}.{unsigned[1]}."))
    assert_invalid_token(await read_profile(http, f"{head}.{_b64({'sub': 'x'})}.{signature}"))


def _b64(value: dict[str, Any]) -> str:
    return urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_OUR_KID = "<the active key's kid>"  # replaced in the test: strategies cannot see fixtures
_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "typ": st.sampled_from(["at+jwt", "JWT", 1]),
        "alg": st.sampled_from(["ES256", "EdDSA", "none", "HS256", 7]),
        "kid": st.sampled_from([_OUR_KID, "other", ""]),
        "crit": st.just(["exp"]),
    },
)
_PAYLOADS = st.one_of(
    _JSON,
    st.fixed_dictionaries({"iat": st.integers(-(2**40), 2**70)}, optional={"iss": _JSON}),
)
_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SEGMENTS = st.one_of(
    _JSON.map(lambda value: ("json", value)),
    st.binary(max_size=48).map(lambda raw: ("raw", raw)),
    st.text(alphabet=_BASE64URL, max_size=24).map(lambda text: ("text", text)),
)


def _encode(part: tuple[str, Any]) -> str:
    kind, value = part
    if kind == "text":
        return str(value)
    raw = value if kind == "raw" else json.dumps(value).encode()
    return urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_a_deeply_nested_jwt_payload_is_unknown_never_a_500(
    http: httpx.AsyncClient, jwt_client: Registered
) -> None:
    """A payload of thousands of nested arrays (which JSON parsers refuse by recursion)
    is no JWT of ours: revocation answers RFC 7009 §2.2's 200, introspection RFC 7662
    §2.2's ``{"active": false}``, the guard RFC 6750 §3.1 invalid_token."""
    header = urlsafe_b64encode(b'{"alg":"ES256","typ":"at+jwt"}').rstrip(b"=").decode()
    nested = urlsafe_b64encode(b"[" * 2000).rstrip(b"=").decode()
    token = f"{header}.{nested}.c2ln"
    credentials = (jwt_client.client_id, jwt_client.secret)
    assert_revoked_ok(await http.post(REVOKE, data={"token": token}, auth=credentials))
    introspected = await http.post(INTROSPECT, data={"token": token}, auth=credentials)
    assert (introspected.status_code, introspected.json()) == (200, {"active": False})
    assert_invalid_token(await read_profile(http, token))


@property_settings
@given(
    header=st.one_of(_HEADERS.map(lambda h: ("json", h)), _SEGMENTS),
    payload=st.one_of(_PAYLOADS.map(lambda p: ("json", p)), _SEGMENTS),
    signature=_SEGMENTS,
)
async def test_jwt_shaped_garbage_is_invalid_token_never_a_500(
    http: httpx.AsyncClient,
    key: SigningKey,
    jwt_client: Registered,
    header: tuple[str, Any],
    payload: tuple[str, Any],
    signature: tuple[str, Any],
) -> None:
    """DESIGN.md §5: whatever a presented JWT holds, the guard answers RFC 6750 §3.1
    invalid_token and revocation RFC 7009 §2.2's 200 (an unknown token)."""
    if isinstance(header[1], dict) and header[1].get("kid") == _OUR_KID:
        header = ("json", {**header[1], "kid": key.kid})
    token = ".".join(_encode(part) for part in (header, payload, signature))
    assert_invalid_token(await read_profile(http, token))
    revoked = await http.post(
        REVOKE, data={"token": token}, auth=(jwt_client.client_id, jwt_client.secret)
    )
    assert_revoked_ok(revoked)
