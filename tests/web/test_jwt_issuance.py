"""JWT access tokens (RFC 9068) from ``POST /oauth/token`` for a client registered with
the ``jwt`` token format: the RFC 6749 §5.1 answer, the header (§2.1), the claims (§2.2),
a signature that third-party code (PyJWT) verifies with our published key set (RFC 7517),
and a record stored like an opaque token's (DESIGN.md §4.3).  Without the key-encryption
key, or without an active key, such a request is a bare ``server_error`` whose log line
says why, and opaque clients are untouched."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from base64 import urlsafe_b64encode
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
import pytest

from anti_grazer.protocol.jwt_access_tokens import jwt_claims
from anti_grazer.protocol.key_admin import activate_key
from anti_grazer.protocol.models import EDDSA, JWT, SigningKey
from anti_grazer.protocol.tokens import jwt_access_token_digest
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.http_helpers import JWKS, assert_issued, assert_oauth_error
from tests.jwt_helpers import (
    AUDIENCE,
    ISSUER,
    KEK_BYTES,
    NO_WAIT,
    assert_issued_jwt,
    claims_of,
    first_key,
    header_of,
    jwt_settings,
    new_key,
)
from tests.support import (
    Registered,
    create_app,
    log_events,
    register,
    request_token,
    running,
    settings_for,
)

SERVER_ERROR = ("server_error", "The server encountered an internal error")


@pytest.fixture
def clock() -> FrozenClock:
    """Now, whole seconds: PyJWT checks ``exp`` and ``iat`` against the real time."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(jwt_settings(database_url), clock=clock)


@pytest.fixture
async def key(sql: OpenedStores, clock: FrozenClock) -> SigningKey:
    return await first_key(sql.signing_keys, clock)


@pytest.fixture
async def jwt_client(sql: OpenedStores, clock: FrozenClock) -> Registered:
    return await register(sql.clients, clock, name="jwt client", token_format=JWT)


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 §3.2-3.3 for an EC key, computed here without any JOSE library: the
    required members in lexicographic order, no whitespace, SHA-256, base64url."""
    required = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


async def test_the_answer_is_rfc6749_5_1_with_a_bearer_jwt(
    http: httpx.AsyncClient, key: SigningKey, jwt_client: Registered
) -> None:
    """RFC 9068 §2: the JWT is the access token of an ordinary §5.1 response."""
    response = await request_token(http, jwt_client.client_id, jwt_client.secret)
    assert_issued_jwt(response, "profiles:read")


async def test_the_header_is_at_jwt_es256_and_the_kid_is_the_thumbprint(
    http: httpx.AsyncClient, key: SigningKey, jwt_client: Registered
) -> None:
    """RFC 9068 §2.1: ``typ`` is ``at+jwt``; ``alg`` ES256 by default; the ``kid`` is the
    RFC 7638 thumbprint of the published key."""
    token = assert_issued_jwt(
        await request_token(http, jwt_client.client_id, jwt_client.secret), "profiles:read"
    )
    assert header_of(token) == {"typ": "at+jwt", "alg": "ES256", "kid": key.kid}
    (published,) = (await http.get(JWKS)).json()["keys"]
    assert thumbprint(published) == key.kid == published["kid"]


async def test_the_claims_are_rfc9068_2_2(
    http: httpx.AsyncClient, clock: FrozenClock, key: SigningKey, jwt_client: Registered
) -> None:
    """RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti (and nbf); §2.2.2: with no
    user, ``sub`` is the client; §2.2.3: ``scope``, the granted one."""
    response = await request_token(
        http, jwt_client.client_id, jwt_client.secret, "reports:write profiles:read"
    )
    token = assert_issued_jwt(response, "profiles:read reports:write")
    claims = claims_of(token)
    iat = int(clock.now().timestamp())
    jti = claims.pop("jti")
    assert claims == {
        "iss": ISSUER,
        "exp": iat + 3600,
        "aud": AUDIENCE,
        "sub": jwt_client.client_id,
        "client_id": jwt_client.client_id,
        "iat": iat,
        "nbf": iat,
        "scope": "profiles:read reports:write",
    }
    assert isinstance(jti, str)
    assert len(jti) == 22
    again = await request_token(http, jwt_client.client_id, jwt_client.secret)
    assert claims_of(assert_issued_jwt(again, "profiles:read"))["jti"] != jti


async def test_the_audience_defaults_to_the_issuer(
    database_url: str, clock: FrozenClock, sql: OpenedStores, jwt_client: Registered
) -> None:
    """RFC 9068 §2.2 ``aud``: the AUDIENCE setting, else the issuer."""
    await first_key(sql.signing_keys, clock)
    app = create_app(jwt_settings(database_url, audience=None), clock=clock)
    async with running(app) as http:
        response = await request_token(http, jwt_client.client_id, jwt_client.secret)
    assert claims_of(assert_issued_jwt(response, "profiles:read"))["aud"] == ISSUER


async def test_pyjwt_verifies_the_token_with_our_key_set(
    http: httpx.AsyncClient, key: SigningKey, jwt_client: Registered
) -> None:
    """RFC 9068 §4 by third-party code: PyJWT finds the key by ``kid`` in the JWK Set
    (RFC 7517 §5) and checks the signature, issuer, audience and times."""
    token = assert_issued_jwt(
        await request_token(http, jwt_client.client_id, jwt_client.secret), "profiles:read"
    )
    key_set = jwt.PyJWKSet.from_dict((await http.get(JWKS)).json())
    verified = jwt.decode(
        token,
        key_set[header_of(token)["kid"]],
        algorithms=["ES256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    assert verified == claims_of(token)


async def test_an_eddsa_key_signs_once_active(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    clock: FrozenClock,
    key: SigningKey,
    jwt_client: Registered,
) -> None:
    """EdDSA (RFC 8037 §3.1, Ed25519) is selectable per key; PyJWT verifies it too."""
    ed = await new_key(sql.signing_keys, clock, EDDSA)
    await activate_key(sql.signing_keys, clock, NO_WAIT, KEK_BYTES, ed.kid)
    token = assert_issued_jwt(
        await request_token(http, jwt_client.client_id, jwt_client.secret), "profiles:read"
    )
    assert header_of(token) == {"typ": "at+jwt", "alg": "EdDSA", "kid": ed.kid}
    key_set = jwt.PyJWKSet.from_dict((await http.get(JWKS)).json())
    verified = jwt.decode(token, key_set[ed.kid], algorithms=["EdDSA"], audience=AUDIENCE)
    assert verified["sub"] == jwt_client.client_id


async def test_the_record_is_stored_by_digest_with_its_jti_and_audience(
    http: httpx.AsyncClient, sql: OpenedStores, key: SigningKey, jwt_client: Registered
) -> None:
    """DESIGN.md §4.3: every JWT is recorded like an opaque token (by the digest of the
    token, never the token), and its record gives back its exact claims."""
    token = assert_issued_jwt(
        await request_token(http, jwt_client.client_id, jwt_client.secret), "profiles:read"
    )
    claims = claims_of(token)
    record = await sql.tokens.get_token(jwt_access_token_digest(token, claims["iat"]))
    assert record is not None
    assert (record.jti, record.audience, record.client_id) == (
        claims["jti"],
        (AUDIENCE,),
        jwt_client.client_id,
    )
    assert jwt_claims(record, ISSUER) == claims
    assert token not in record.digest


async def test_opaque_clients_keep_opaque_tokens(
    http: httpx.AsyncClient, key: SigningKey, registered: Registered
) -> None:
    """Opaque stays the default (DESIGN.md §4.2)."""
    response = await request_token(http, registered.client_id, registered.secret)
    assert_issued(response, "profiles:read")


async def test_without_the_key_encryption_key_a_jwt_client_gets_server_error(
    database_url: str,
    clock: FrozenClock,
    sql: OpenedStores,
    jwt_client: Registered,
    registered: Registered,
    log_stream: io.StringIO,
) -> None:
    """DESIGN.md §4.7: a bare ``server_error`` (500) for the client; the log line names
    the setting, with no traceback; opaque clients still get tokens."""
    await first_key(sql.signing_keys, clock)
    async with running(create_app(settings_for(database_url), clock=clock)) as http:
        refused = await request_token(http, jwt_client.client_id, jwt_client.secret)
        opaque = await request_token(http, registered.client_id, registered.secret)
    assert_oauth_error(refused, 500, *SERVER_ERROR)
    assert_issued(opaque, "profiles:read")
    (failure,) = [e for e in log_events(log_stream) if e["event"] == "OAuth endpoint failed"]
    assert failure["reason"] == (
        "JWT access tokens need ANTI_GRAZER_KEY_ENCRYPTION_KEY, which is not set"
    )
    assert "Traceback" not in log_stream.getvalue()
    (started,) = [e for e in log_events(log_stream) if e["event"] == "jwt_access_tokens_off"]
    assert "ANTI_GRAZER_KEY_ENCRYPTION_KEY is not set" in started["reason"]


async def test_without_an_active_key_a_jwt_client_gets_server_error(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    clock: FrozenClock,
    jwt_client: Registered,
    log_stream: io.StringIO,
) -> None:
    """A created but never activated key signs nothing; the log says what to run."""
    await new_key(sql.signing_keys, clock)
    refused = await request_token(http, jwt_client.client_id, jwt_client.secret)
    assert_oauth_error(refused, 500, *SERVER_ERROR)
    (failure,) = [e for e in log_events(log_stream) if e["event"] == "OAuth endpoint failed"]
    assert failure["reason"].startswith("no active signing key: run 'anti-grazer keys create'")


def test_a_server_without_jwt_clients_never_loads_joserfc_nor_cryptography(
    tmp_path: Path,
) -> None:
    """They cost a worker about 4 MiB: a served app that issued and checked an opaque
    token and published its (empty) key set has imported neither (a fresh interpreter)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'opaque.db'}"
    program = (
        "import asyncio, sys\n"
        "from anti_grazer.web.app import create_app\n"
        "from anti_grazer.settings import load_settings\n"
        "from anti_grazer.store.runtime import open_stores\n"
        "from tests.clock import FrozenClock\n"
        "from tests.http_helpers import read_profile\n"
        "from tests.support import issue, register, running\n"
        "async def main():\n"
        f"    async with open_stores({url!r}) as stores:\n"
        "        client = await register(stores.clients, FrozenClock())\n"
        f"    async with running(create_app(load_settings(database_url={url!r}))) as http:\n"
        "        token = await issue(http, client)\n"
        "        assert (await read_profile(http, token)).status_code == 200\n"
        "        assert (await http.get('/oauth/jwks')).json() == {'keys': []}\n"
        "asyncio.run(main())\n"
        "heavy = ('joserfc', 'cryptography')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "[]"  # after the start-up log lines
