"""``GET /oauth/jwks``: the JWK Set (RFC 7517 §5) of the published signing keys, public
members only, cacheable (``Cache-Control: public, max-age``); a key is published from
its creation until every token it signed has expired.  Several instances on one database
agree on the active key within the cache TTL."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from anti_grazer.protocol.key_admin import activate_key, retire_key
from anti_grazer.protocol.models import EDDSA, JWT
from anti_grazer.protocol.signing_keys import signing_key
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.web.edge import Edge
from anti_grazer.web.jwks_route import JwksEndpoint
from tests.clock import FrozenClock
from tests.http_helpers import JWKS, assert_oauth_error, read_profile
from tests.jwt_helpers import KEK_BYTES, NO_WAIT, first_key, header_of, jwt_settings, new_key
from tests.support import create_app, issue, register, running, settings_for

JWK_SET = "application/jwk-set+json"


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(jwt_settings(database_url), clock=clock)


def kids(response: httpx.Response) -> list[str]:
    return [key["kid"] for key in response.json()["keys"]]


async def test_the_key_set_holds_public_members_only(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7517 §5 JWK Set; §4.2-4.4 ``use``, ``alg``, ``kid``; RFC 7518 §6.2.1 and RFC
    8037 §2 public members.  The private member ``d`` (RFC 7518 §6.2.2) never appears,
    nor its value."""
    es = await first_key(sql.signing_keys, clock)
    clock.advance(1)  # listed oldest first
    ed = await new_key(sql.signing_keys, clock, EDDSA)
    response = await http.get(JWKS)
    assert response.status_code == 200
    assert response.headers["content-type"] == JWK_SET
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    es_jwk, ed_jwk = response.json()["keys"]
    assert set(es_jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (es_jwk["kty"], es_jwk["crv"], es_jwk["alg"], es_jwk["use"]) == (
        "EC",
        "P-256",
        "ES256",
        "sig",
    )
    assert set(ed_jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (ed_jwk["kty"], ed_jwk["crv"], ed_jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert [es_jwk["kid"], ed_jwk["kid"]] == [es.kid, ed.kid]
    for key in (es, ed):
        private = signing_key(key, KEK_BYTES).as_dict(private=True)
        assert str(private["d"]) not in response.text
    assert '"d"' not in response.text


async def test_a_key_is_published_before_it_signs_and_until_its_tokens_expired(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """Rotation with overlap (issue 16 item 4): new → published; activated → the previous
    key retired but published; retired → published until its last token expired."""
    assert (await http.get(JWKS)).json() == {"keys": []}
    old = await first_key(sql.signing_keys, clock)
    clock.advance(1)
    new = await new_key(sql.signing_keys, clock)
    assert kids(await http.get(JWKS)) == [old.kid, new.kid]
    await activate_key(sql.signing_keys, clock, NO_WAIT, KEK_BYTES, new.kid)
    assert kids(await http.get(JWKS)) == [old.kid, new.kid]
    clock.advance(NO_WAIT.max_token_ttl_seconds - 1)
    assert kids(await http.get(JWKS)) == [old.kid, new.kid]
    clock.advance(1)
    assert kids(await http.get(JWKS)) == [new.kid]


async def test_a_withdrawn_key_leaves_the_set_at_once(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """A key retired before it ever signed needs no publishing."""
    key = await new_key(sql.signing_keys, clock)
    assert kids(await http.get(JWKS)) == [key.kid]
    await retire_key(sql.signing_keys, clock, NO_WAIT, key.kid)
    assert kids(await http.get(JWKS)) == []


async def test_max_age_is_the_setting_and_no_key_encryption_key_is_needed(
    database_url: str, sql: OpenedStores, clock: FrozenClock
) -> None:
    """Verifiers may cache the set ``JWKS_MAX_AGE_SECONDS``; publishing reads public
    keys only, so a server without the key-encryption key publishes them too."""
    key = await first_key(sql.signing_keys, clock)
    app = create_app(settings_for(database_url, jwks_max_age_seconds=60), clock=clock)
    async with running(app) as http:
        response = await http.get(JWKS)
    assert response.headers["cache-control"] == "public, max-age=60"
    assert kids(response) == [key.kid]


async def test_head_answers_the_headers_only(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 9110 §9.3.2: HEAD is GET without the content."""
    await first_key(sql.signing_keys, clock)
    full = await http.get(JWKS)
    head = await http.head(JWKS)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(full.content))
    assert head.headers["cache-control"] == full.headers["cache-control"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_the_set_is_read_only(http: httpx.AsyncClient, method: str) -> None:
    """RFC 9110 §15.5.6: 405 with ``Allow``; the body an OAuth-style error, no-store."""
    response = await http.request(method, JWKS, content=b"x=1")
    assert_oauth_error(response, 405, "invalid_request", "Only GET is allowed at this endpoint")
    assert response.headers["allow"] == "GET, HEAD"


async def test_the_openapi_document_lists_the_key_set(http: httpx.AsyncClient) -> None:
    operation = (await http.get("/openapi.json")).json()["paths"][JWKS]["get"]
    assert list(operation["responses"]["200"]["content"]) == [JWK_SET]


async def test_two_instances_agree_on_the_active_key_within_the_cache_ttl(
    database_url: str, sql: OpenedStores, clock: FrozenClock
) -> None:
    """Issue 16 item 4: two applications on one database, each caching the keys for
    ``CACHE_TTL_SECONDS``: after an activation both sign with the new key within that
    time, and each verifies the other's tokens."""
    ttl = 0.3
    old = await first_key(sql.signing_keys, clock)
    client = await register(sql.clients, clock, token_format=JWT)
    settings = jwt_settings(database_url, cache_ttl_seconds=ttl)
    async with (
        running(create_app(settings, clock=clock)) as one,
        running(create_app(settings, clock=clock)) as two,
    ):
        assert {header_of(await issue(http, client))["kid"] for http in (one, two)} == {old.kid}
        clock.advance(1)
        new = await new_key(sql.signing_keys, clock)
        await activate_key(sql.signing_keys, clock, NO_WAIT, KEK_BYTES, new.kid)
        await asyncio.sleep(ttl * 1.5)
        tokens = [await issue(http, client) for http in (one, two)]
        assert {header_of(token)["kid"] for token in tokens} == {new.kid}
        for token, other in zip(tokens, (two, one), strict=True):
            assert (await read_profile(other, token)).status_code == 200
        assert kids(await one.get(JWKS)) == kids(await two.get(JWKS)) == [old.kid, new.kid]


async def test_keys_that_cannot_be_read_are_a_503_to_retry() -> None:
    """The database away: 503 temporarily_unavailable with Retry-After (RFC 9110
    §15.6.4), which verifiers retry, never a 500."""

    class Unreadable:
        async def jwks(self) -> dict[str, object]:
            raise ConnectionError("the database went away")

    endpoint = JwksEndpoint(Unreadable, 300)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get(JWKS)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {
        "error": "temporarily_unavailable",
        "error_description": "The keys cannot be read now",
    }
