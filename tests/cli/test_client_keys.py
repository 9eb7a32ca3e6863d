"""``anti-grazer clients create --jwks-file / --jwks-uri`` and ``clients set-keys``:
``private_key_jwt`` clients (RFC 7523 §2.2) have public keys and no secret; the JWK Set
is checked when it is registered (RFC 7517 §5: public signature keys, unique kids)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc.jwk import OctKey

from tests.cli.helpers import Cli, create, describe
from tests.client_assertions import ed25519_key, es256_key, public_jwks, rsa_key


def jwks_file(tmp_path: Path, text: str, name: str = "keys.json") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def create_with_keys(run: Cli, *options: str) -> dict[str, object]:
    result = run("clients", "create", "svc", "--scope", "a", *options, "--json")
    assert result.exit_code == 0, result.output
    created: dict[str, object] = json.loads(result.stdout)
    return created


def test_create_with_a_jwks_file_prints_no_secret(run: Cli, tmp_path: Path) -> None:
    key = es256_key()
    created = create_with_keys(run, "--jwks-file", jwks_file(tmp_path, public_jwks(key)))
    client = run.client(str(created["client_id"]))
    assert client is not None
    assert client.secrets == ()
    assert "client_secret" not in created
    assert created == describe(client)
    assert created["token_endpoint_auth_method"] == "private_key_jwt"
    assert created["jwks_kids"] == [key.kid]
    text = run("clients", "create", "svc2", "--jwks-file", jwks_file(tmp_path, public_jwks(key)))
    assert text.exit_code == 0
    assert "client_secret" not in text.output
    assert "private_key_jwt (no secret)" in text.output


def test_create_with_a_jwks_uri_and_show_and_list(run: Cli) -> None:
    created = create_with_keys(run, "--jwks-uri", "https://partner.example/jwks.json")
    client_id = str(created["client_id"])
    shown = json.loads(run("clients", "show", client_id, "--json").stdout)
    assert shown["jwks_uri"] == "https://partner.example/jwks.json"
    assert shown["token_endpoint_auth_method"] == "private_key_jwt"
    assert shown["secrets"] == []
    listed = json.loads(run("clients", "list", "--json").stdout)
    assert [c["token_endpoint_auth_method"] for c in listed] == ["private_key_jwt"]
    assert "private_key_jwt" in run("clients", "list").output
    secret_client = create(run)
    assert secret_client["token_endpoint_auth_method"] == "client_secret_basic"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "the JWK Set is not JSON"),
        ('{"keys": []}', 'the JWK Set must be a JSON object with a non-empty "keys" array'),
        ("[1]", 'the JWK Set must be a JSON object with a non-empty "keys" array'),
        (
            json.dumps({"keys": [es256_key().as_dict(private=True)]}),
            "key 1 holds private key material: register public keys",
        ),
        (
            json.dumps({"keys": [OctKey.generate_key(256).as_dict()]}),
            "key 1: kty must be one of EC, OKP, RSA",
        ),
        (
            public_jwks(rsa_key(1024)),
            "key 1 fits none of ES256, EdDSA, PS256, RS256 (EC P-256, OKP Ed25519, or RSA "
            "of at least 2048 bits)",
        ),
        (
            json.dumps({"keys": [dict(es256_key().as_dict(private=False), kid="a")] * 2}),
            "the keys' kids must be unique",
        ),
        (
            json.dumps({"keys": [{**es256_key().as_dict(private=False), "kid": None}] * 2}),
            "every key needs a kid when there are several",
        ),
        (
            json.dumps({"keys": [{**es256_key().as_dict(private=False), "alg": "HS256"}]}),
            "key 1: alg must be one of ES256, EdDSA, PS256, RS256",
        ),
        (
            json.dumps({"keys": [{**es256_key().as_dict(private=False), "use": "enc"}]}),
            "key 1: use must be sig",
        ),
        (json.dumps({"keys": [{"kty": "EC", "crv": "P-256"}]}), "key 1 is not a valid JWK"),
    ],
    ids=[
        "not JSON",
        "no keys",
        "not an object",
        "private key",
        "symmetric key",
        "small RSA key",
        "duplicate kids",
        "kids missing",
        "HMAC alg",
        "encryption key",
        "incomplete key",
    ],
)
def test_create_refuses_an_unusable_jwk_set(
    run: Cli, tmp_path: Path, document: str, message: str
) -> None:
    result = run("clients", "create", "svc", "--jwks-file", jwks_file(tmp_path, document))
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"
    assert json.loads(run("clients", "list", "--json").stdout) == []


@pytest.mark.parametrize(
    "uri",
    ["http://partner.example/jwks", "ftp://partner.example/jwks", "https://u:p@h/jwks", "jwks"],
)
def test_create_refuses_a_jwks_uri_that_is_not_https(run: Cli, uri: str) -> None:
    """http only to a loopback host (local use): the keys would travel unprotected."""
    result = run("clients", "create", "svc", "--jwks-uri", uri)
    assert result.exit_code == 1
    assert result.output.startswith("Error: the jwks_uri ")


def test_create_takes_one_kind_of_keys_and_no_secret_options(run: Cli, tmp_path: Path) -> None:
    path = jwks_file(tmp_path, public_jwks(es256_key()))
    both = run("clients", "create", "svc", "--jwks-file", path, "--jwks-uri", "https://h/k")
    assert both.exit_code == 2
    assert "give --jwks-file or --jwks-uri, not both" in both.output
    ttl = run("clients", "create", "svc", "--jwks-file", path, "--secret-ttl", "1d")
    assert ttl.exit_code == 2
    missing = run("clients", "create", "svc", "--jwks-file", str(tmp_path / "none.json"))
    assert missing.exit_code == 1
    assert "cannot read" in missing.output


def test_rotate_secret_refuses_a_key_client(run: Cli, tmp_path: Path) -> None:
    created = create_with_keys(run, "--jwks-file", jwks_file(tmp_path, public_jwks(es256_key())))
    client_id = str(created["client_id"])
    result = run("clients", "rotate-secret", client_id)
    assert result.exit_code == 1
    assert "authenticates with private_key_jwt: it has no secret" in result.output
    client = run.client(client_id)
    assert client is not None
    assert client.secrets == ()


def test_set_keys_replaces_the_keys(run: Cli, tmp_path: Path) -> None:
    old, new = es256_key(), ed25519_key()
    created = create_with_keys(run, "--jwks-file", jwks_file(tmp_path, public_jwks(old)))
    client_id = str(created["client_id"])
    both = jwks_file(tmp_path, public_jwks(old, new), "both.json")
    result = run("clients", "set-keys", client_id, "--jwks-file", both)
    assert result.exit_code == 0, result.output
    assert json.loads(run("clients", "show", client_id).stdout)["jwks_kids"] == [old.kid, new.kid]
    moved = run("clients", "set-keys", client_id, "--jwks-uri", "https://partner.example/k")
    assert moved.exit_code == 0
    shown = json.loads(run("clients", "show", client_id).stdout)
    assert shown["jwks_uri"] == "https://partner.example/k"
    assert "jwks_kids" not in shown


def test_set_keys_refuses_a_secret_client_and_a_bad_set(run: Cli, tmp_path: Path) -> None:
    secret_client = str(create(run)["client_id"])
    keys = jwks_file(tmp_path, public_jwks(es256_key()))
    refused = run("clients", "set-keys", secret_client, "--jwks-file", keys)
    assert refused.exit_code == 1
    assert "authenticates with a secret" in refused.output
    created = create_with_keys(run, "--jwks-file", keys)
    bad = jwks_file(tmp_path, "{}", "bad.json")
    result = run("clients", "set-keys", str(created["client_id"]), "--jwks-file", bad)
    assert result.exit_code == 1
    unknown = run("clients", "set-keys", "ag_ci_nobody", "--jwks-file", keys)
    assert unknown.output == "Error: no client with id 'ag_ci_nobody'\n"
