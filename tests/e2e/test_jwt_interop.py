"""JWT access tokens (RFC 9068) from a live ``anti-grazer serve``, verified by third-party
code: PyJWT's ``PyJWKClient``, and node's ``jose`` (``createRemoteJWKSet`` +
``jwtVerify``, run with the machine's node from ``node_jose/``), each fetch
``/oauth/jwks`` (RFC 7517) and check the signature, the issuer (the served base URL,
ISSUER being unset) and the audience.  The key
is the one ``db upgrade`` made; a rotation with the CLI while the server runs is seen
within the cache TTL, and both keys' tokens keep verifying.  A JWT revoked through the
revocation endpoint (RFC 7009) is refused by our API at once; an offline verifier, which
only checks the signature, sees it valid until it expires."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    run_cli,
    serving,
    sqlite_url,
)
from tests.http_helpers import JWKS, PROFILE, REVOKE, TOKEN, assert_revoked_ok, bearer
from tests.jwt_helpers import KEY_ENCRYPTION_KEY, assert_issued_jwt, header_of

pytestmark = pytest.mark.slow

CACHE_TTL_SECONDS = 0.2
NODE_PROJECT = Path(__file__).parent / "node_jose"
NODE_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="session")
def node_jose() -> Path:
    """The node project that verifies tokens with ``jose``, its locked dependencies
    installed (``npm ci``) on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the node jose check (.ci/run installs them)")
    if not (NODE_PROJECT / "node_modules" / "jose").is_dir():
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_PROJECT,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr
    return NODE_PROJECT / "verify.mjs"


@dataclass(frozen=True)
class JwtServer:
    """A live server with a JWT client and the key ``db upgrade`` created."""

    server: ServerProcess
    client: CreatedClient
    first_kid: str
    env: dict[str, str]

    def token(self) -> str:
        response = httpx.post(
            self.server.base_url + TOKEN,
            data={"grant_type": "client_credentials"},
            auth=(self.client.client_id, self.client.client_secret),
        )
        return assert_issued_jwt(response, "profiles:read")

    def verify(self, token: str) -> dict[str, object]:
        """PyJWT, as any Python resource server would verify our token."""
        keys = jwt.PyJWKClient(self.server.base_url + JWKS)
        claims: dict[str, object] = jwt.decode(
            token,
            keys.get_signing_key_from_jwt(token).key,
            algorithms=["ES256", "EdDSA"],
            audience=self.server.base_url,
            issuer=self.server.base_url,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
        return claims

    def verify_with_node(self, script: Path, token: str, audience: str = "") -> dict[str, Any]:
        """node's ``jose``, as a node resource server would verify our token: the
        verified header and payload, or ``{"error": code}``."""
        base = self.server.base_url
        completed = subprocess.run(
            ["node", str(script), base + JWKS, base, audience or base, token],
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
        result: dict[str, Any] = json.loads(completed.stdout)
        assert completed.returncode == (1 if "error" in result else 0), completed.stderr
        return result


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JwtServer]:
    folder = tmp_path_factory.mktemp("e2e-jwt")
    env = cli_environment(
        sqlite_url(folder / "anti-grazer.db"),
        key_encryption_key=KEY_ENCRYPTION_KEY,
        cache_ttl_seconds=str(CACHE_TTL_SECONDS),
    )
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    kid = upgraded.stdout.split("signing key ")[1].split()[0]
    jwt_client = ["jwt e2e", "--scope", "profiles:read", "--token-format", "jwt", "--json"]
    created = run_cli(["clients", "create", *jwt_client], env)
    assert created.returncode == 0, created.stderr
    client = json.loads(created.stdout)
    with serving(env, folder / "server.log") as server:
        yield JwtServer(
            server, CreatedClient(client["client_id"], client["client_secret"]), kid, env
        )


def test_pyjwt_verifies_our_jwt_with_our_jwks(jwt_server: JwtServer) -> None:
    """RFC 9068 §2.1 header, §2.2 claims, §4 validation by a third-party verifier."""
    token = jwt_server.token()
    assert header_of(token) == {"typ": "at+jwt", "alg": "ES256", "kid": jwt_server.first_kid}
    claims = jwt_server.verify(token)
    assert claims["sub"] == claims["client_id"] == jwt_server.client.client_id
    assert claims["scope"] == "profiles:read"
    answer = httpx.get(jwt_server.server.base_url + PROFILE, headers=bearer(token))
    assert answer.status_code == 200


def test_a_revoked_jwt_is_refused_by_our_api_at_once(jwt_server: JwtServer) -> None:
    """RFC 7009 §2.1 through HTTP; the record refuses it, the signature alone cannot."""
    token = jwt_server.token()
    revoked = httpx.post(
        jwt_server.server.base_url + REVOKE,
        data={"token": token},
        auth=(jwt_server.client.client_id, jwt_server.client.client_secret),
    )
    assert_revoked_ok(revoked)
    answer = httpx.get(jwt_server.server.base_url + PROFILE, headers=bearer(token))
    assert answer.status_code == 401
    assert jwt_server.verify(token)["jti"]  # offline: valid until it expires (README)


def test_node_jose_verifies_our_jwts_and_refuses_forgeries(
    jwt_server: JwtServer, node_jose: Path
) -> None:
    """RFC 9068 §4 by a non-Python verifier: node's ``jose`` fetches our JWKS, checks
    ``typ`` (at+jwt), the signature, ``iss`` and ``aud``; a token altered after signing,
    or checked for another audience, is refused."""
    token = jwt_server.token()
    verified = jwt_server.verify_with_node(node_jose, token)
    assert verified["header"]["typ"] == "at+jwt"
    assert verified["payload"]["client_id"] == jwt_server.client.client_id
    assert verified["payload"] == jwt_server.verify(token)
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged = jwt_server.verify_with_node(node_jose, f"{head}.{payload}.{flipped}")
    assert forged == {"error": "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"}
    elsewhere = jwt_server.verify_with_node(node_jose, token, audience="https://other.example")
    assert elsewhere == {"error": "ERR_JWT_CLAIM_VALIDATION_FAILED"}


def test_a_rotation_with_the_cli_keeps_every_token_verifiable(jwt_server: JwtServer) -> None:
    """Issue 16 item 4: create (published), activate (the old key retired, published):
    the server signs with the new key within the cache TTL; both verify."""
    before = jwt_server.token()
    created = run_cli(["keys", "create", "--alg", "EdDSA", "--json"], jwt_server.env)
    assert created.returncode == 0, created.stderr
    kid = json.loads(created.stdout)["kid"]
    activated = run_cli(["keys", "activate", kid, "--force"], jwt_server.env)
    assert activated.returncode == 0, activated.stderr
    time.sleep(CACHE_TTL_SECONDS * 2)
    after = jwt_server.token()
    assert header_of(after) == {"typ": "at+jwt", "alg": "EdDSA", "kid": kid}
    for token in (before, after):
        assert jwt_server.verify(token)["client_id"] == jwt_server.client.client_id
        answer = httpx.get(jwt_server.server.base_url + PROFILE, headers=bearer(token))
        assert answer.status_code == 200


def test_node_jose_verifies_the_rotated_keys_tokens(jwt_server: JwtServer, node_jose: Path) -> None:
    """After the rotation above (the tests of this module share one server, in order):
    an EdDSA token (RFC 8037) from the new key verifies with node's ``jose`` too."""
    token = jwt_server.token()
    verified = jwt_server.verify_with_node(node_jose, token)
    assert verified["header"]["alg"] == "EdDSA"
    assert verified["payload"] == jwt_server.verify(token)
