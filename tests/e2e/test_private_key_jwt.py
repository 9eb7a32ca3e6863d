"""``private_key_jwt`` (RFC 7523 §2.2) with a real ``anti-grazer serve`` and a real
third-party client: Authlib's ``PrivateKeyJWT`` signs the assertions, for a client
registered through the CLI with a JWK Set file or a ``jwks_uri`` on 127.0.0.1.

Authlib signs assertions valid for an hour by default, beyond the server's
CLIENT_ASSERTION_MAX_LIFETIME_SECONDS (300): the README's ``ShortLivedPrivateKeyJWT``
asks for 60 s, and the default is refused, as the setting says.  The README's joserfc
example runs here too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import Key

from tests.client_assertions import es256_key, public_jwks, rsa_key
from tests.e2e.conftest import E2EServer
from tests.e2e.process import read_token, run_cli
from tests.guard.stand_in_server import JWKS, StandInServer, serving
from tests.readme import example

pytestmark = pytest.mark.slow


@pytest.fixture
def published() -> Iterator[StandInServer]:
    """The client's own server on 127.0.0.1, publishing its JWK Set."""
    with serving(StandInServer(keys=[])) as server:
        yield server


def create_key_client(server: E2EServer, *options: str) -> str:
    completed = run_cli(["clients", "create", "pkjwt", *options, "--json"], server.env)
    assert completed.returncode == 0, completed.stderr
    created = json.loads(completed.stdout)
    assert "client_secret" not in created
    assert created["token_endpoint_auth_method"] == "private_key_jwt"
    client_id: str = created["client_id"]
    return client_id


def readme_example(name: str, **replacements: str) -> dict[str, Any]:
    """The README's example ``name`` run, its names; each replacement's key (a line of
    the example) replaced by its value first."""
    code = example(name)
    for old, new in replacements.items():
        assert old in code
        code = code.replace(old, new)
    namespace: dict[str, Any] = {"__name__": name}
    exec(code, namespace)  # noqa: S102 - the README's own example
    return namespace


def session(client_id: str, key: Key, alg: str, server: E2EServer) -> OAuth2Session:
    """Authlib signing with ``key`` (the README's ``ShortLivedPrivateKeyJWT``: 60 s
    assertions); ``aud`` the token endpoint URL (RFC 7523 §3 item 3), at the revocation
    endpoint too."""
    token_url = f"{server.base_url}/oauth/token"
    make: Any = readme_example("private-key-jwt-authlib")["ShortLivedPrivateKeyJWT"]
    method = make(token_url, alg=alg)
    return OAuth2Session(
        client_id,
        key,
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
    )


def test_the_readme_joserfc_example(e2e_server: E2EServer, tmp_path: Path) -> None:
    """The README's joserfc client: its key registered with --jwks-file, its assertion
    gets a token (RFC 7523 §2.2, RFC 6749 §5.1)."""
    token_url = f"{e2e_server.base_url}/oauth/token"
    names = readme_example(
        "private-key-jwt-joserfc",
        **{'TOKEN_URL = "http://127.0.0.1:8000/oauth/token"': f"TOKEN_URL = {token_url!r}"},
    )
    keys_path = tmp_path / "jwks.json"
    keys_path.write_text(json.dumps(names["public_jwks"]))
    client_id = create_key_client(e2e_server, "--jwks-file", str(keys_path))
    token = names["fetch_token"](client_id)
    assert token["token_type"] == "Bearer"
    assert read_token(e2e_server.database_path, token["access_token"]) is not None


@pytest.mark.parametrize(("make_key", "alg"), [(es256_key, "ES256"), (rsa_key, "RS256")])
def test_authlib_private_key_jwt_fetches_and_revokes(
    e2e_server: E2EServer, tmp_path: Path, make_key: object, alg: str
) -> None:
    """RFC 7523 §2.2 at the token endpoint (RFC 6749 §4.4, §5.1) and the revocation
    endpoint (RFC 7009 §2.1-2.2), each request a fresh assertion (a new ``jti``)."""
    assert callable(make_key)
    key = make_key()
    keys_path = tmp_path / "keys.json"
    keys_path.write_text(public_jwks(key))
    client_id = create_key_client(e2e_server, "--jwks-file", str(keys_path))
    with session(client_id, key, alg, e2e_server) as oauth:
        token = oauth.fetch_token(
            f"{e2e_server.base_url}/oauth/token", grant_type="client_credentials"
        )
        for _ in range(2):  # each request signs anew: no replay
            oauth.fetch_token(f"{e2e_server.base_url}/oauth/token", grant_type="client_credentials")
        access_token = token["access_token"]
        assert token["token_type"] == "Bearer"
        record = read_token(e2e_server.database_path, access_token)
        assert record is not None
        assert record.client_id == client_id
        revoked = oauth.revoke_token(f"{e2e_server.base_url}/oauth/revoke", access_token)
        assert revoked.status_code == 200
        assert revoked.content == b""
    record = read_token(e2e_server.database_path, access_token)
    assert record is not None
    assert record.revoked_at is not None


def test_authlib_with_keys_at_a_jwks_uri(e2e_server: E2EServer, published: StandInServer) -> None:
    """RFC 7591 §2 ``jwks_uri``: the server fetches the client's set once and holds it;
    a replayed assertion is refused (RFC 7523 §3 item 7)."""
    key = es256_key()
    published.keys = [key]
    client_id = create_key_client(e2e_server, "--jwks-uri", published.issuer + JWKS)
    token_url = f"{e2e_server.base_url}/oauth/token"
    with session(client_id, key, "ES256", e2e_server) as oauth:
        for _ in range(2):
            token = oauth.fetch_token(token_url, grant_type="client_credentials")
            assert token["token_type"] == "Bearer"
    assert published.hits == {JWKS: 1}


def test_authlibs_one_hour_default_is_refused(e2e_server: E2EServer, tmp_path: Path) -> None:
    """RFC 7523 §3 item 4: the server MAY limit how far ahead ``exp`` is
    (CLIENT_ASSERTION_MAX_LIFETIME_SECONDS, 300 s): Authlib's default of one hour is
    refused ``invalid_client``."""
    key = es256_key()
    keys_path = tmp_path / "keys.json"
    keys_path.write_text(public_jwks(key))
    client_id = create_key_client(e2e_server, "--jwks-file", str(keys_path))
    token_url = f"{e2e_server.base_url}/oauth/token"
    method = PrivateKeyJWT(token_url, alg="ES256")
    with (
        OAuth2Session(client_id, key, token_endpoint_auth_method=method) as oauth,
        pytest.raises(OAuthError) as refused,
    ):
        oauth.fetch_token(token_url, grant_type="client_credentials")
    assert refused.value.error == "invalid_client"
