"""``anti-grazer trust ...`` (cli/trust.py) on a SQLite file: trusting an external issuer
for workload identity federation, checked by fetching its keys as the server will
(OpenID Connect Discovery 1.0 §4, or ``--jwks-uri``) unless ``--no-check``; listing;
removing, refused while clients are bound unless ``--cascade``.  Every refusal is one
clear line with status 1 that changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import Result

from tests.cli.helpers import Cli, create
from tests.client_assertions import rsa_key
from tests.guard.stand_in_server import (
    JWKS,
    OPENID_CONFIGURATION,
    Answer,
    StandInServer,
    closed_port_url,
    serving,
)

AUDIENCE = "https://auth.anti-grazer.test"


@pytest.fixture
def issuer() -> Iterator[StandInServer]:
    """An OpenID issuer on 127.0.0.1 with two RSA keys."""
    with serving(StandInServer(keys=[rsa_key(), rsa_key()])) as server:
        yield server


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def trusted(run: Cli) -> list[Any]:
    listed: list[Any] = ok(run("trust", "list", "--json"))
    return listed


def test_add_fetches_the_keys_by_discovery_and_prints_them(run: Cli, issuer: StandInServer) -> None:
    added = ok(run("trust", "add", issuer.issuer, "--audience", AUDIENCE, "--json"))
    created_at = added.pop("created_at")
    assert added == {
        "issuer": issuer.issuer,
        "audience": AUDIENCE,
        "jwks_uri": None,
        "clients": [],
        "kids": [key.kid for key in issuer.keys],
    }
    assert issuer.hits == {OPENID_CONFIGURATION: 1, JWKS: 1}
    listed = {k: v for k, v in added.items() if k != "kids"}
    assert trusted(run) == [{**listed, "created_at": created_at}]


def test_add_prints_a_line_without_json(run: Cli, issuer: StandInServer) -> None:
    result = run("trust", "add", issuer.issuer, "--audience", AUDIENCE)
    assert result.exit_code == 0, result.output
    expected = f"{issuer.issuer} trusted for audience {AUDIENCE} (2 signing key(s) found)\n"
    assert result.stdout == expected


def test_a_given_jwks_uri_is_fetched_instead_of_discovery(run: Cli, issuer: StandInServer) -> None:
    jwks_uri = issuer.issuer + JWKS
    added = ok(
        run("trust", "add", issuer.issuer, "--audience", AUDIENCE, "--jwks-uri", jwks_uri, "--json")
    )
    assert added["jwks_uri"] == jwks_uri
    assert issuer.hits == {JWKS: 1}


def test_an_unreachable_issuer_is_refused_unless_no_check(run: Cli) -> None:
    """The check catches a wrong URL at once (the usual mistake: a trailing '/' that the
    tokens' iss does not have); --no-check trusts an issuer this host cannot reach."""
    url = closed_port_url()
    refused(
        run("trust", "add", url, "--audience", AUDIENCE),
        f"cannot fetch the signing keys of {url} (ConnectError at "
        f"{url}{OPENID_CONFIGURATION}): the issuer must be exactly its tokens' iss, and "
        f"serve its discovery document at {url}{OPENID_CONFIGURATION}; --no-check trusts "
        "it without fetching",
    )
    assert trusted(run) == []
    added = ok(run("trust", "add", url, "--audience", AUDIENCE, "--no-check", "--json"))
    assert added["kids"] is None
    assert [item["issuer"] for item in trusted(run)] == [url]


def test_a_discovery_document_of_another_issuer_is_refused(run: Cli, issuer: StandInServer) -> None:
    """OpenID Connect Discovery 1.0 §4.3: the document's issuer must be the one asked."""
    result = run("trust", "add", issuer.issuer + "/", "--audience", AUDIENCE)
    assert result.exit_code == 1
    assert "(discovery document names another issuer at " in result.stderr
    assert trusted(run) == []


def test_an_issuer_without_signing_keys_is_refused(run: Cli, issuer: StandInServer) -> None:
    issuer.answers[JWKS] = Answer(body=b'{"keys": []}')
    refused(
        run("trust", "add", issuer.issuer, "--audience", AUDIENCE),
        f"{issuer.issuer} publishes no usable signing key at {issuer.issuer}{OPENID_CONFIGURATION}",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("http://issuer.example", "--audience", "a"),
            "the issuer must use https (http only for a loopback host)",
        ),
        (
            ("https://issuer.example?x=1", "--audience", "a"),
            "the issuer must have no query or fragment (RFC 8414 §2)",
        ),
        (
            ("https://issuer.example", "--audience", " a"),
            "the audience must be printable text without surrounding spaces",
        ),
        (
            ("https://issuer.example", "--audience", "a", "--jwks-uri", "http://keys.example/k"),
            "the jwks_uri must be an https URL (http only to a loopback host)",
        ),
    ],
)
def test_unusable_input_is_refused(run: Cli, args: tuple[str, ...], message: str) -> None:
    refused(run("trust", "add", *args, "--no-check"), message)
    assert trusted(run) == []


def test_an_issuer_is_added_once(run: Cli) -> None:
    url = "https://issuer.example"
    ok(run("trust", "add", url, "--audience", "a", "--no-check", "--json"))
    refused(run("trust", "add", url, "--audience", "b", "--no-check"), f"{url} is trusted already")
    assert [item["audience"] for item in trusted(run)] == ["a"]


def test_list_names_the_bound_clients(run: Cli) -> None:
    url = "https://issuer.example"
    ok(run("trust", "add", url, "--audience", "aud", "--no-check", "--json"))
    client_id = str(create(run)["client_id"])
    ok(run("clients", "bind", client_id, "--issuer", url, "--claim", "sub=x", "--json"))
    assert [item["clients"] for item in trusted(run)] == [[client_id]]
    result = run("trust", "list")
    assert result.stdout == f"{url}  audience aud  1 client(s)\n"


def test_remove_is_refused_while_clients_are_bound_unless_cascade(run: Cli) -> None:
    """Removing an issuer cuts its workloads off at once: the operator names them."""
    url = "https://issuer.example"
    ok(run("trust", "add", url, "--audience", "aud", "--no-check", "--json"))
    client_id = str(create(run)["client_id"])
    ok(run("clients", "bind", client_id, "--issuer", url, "--claim", "sub=x", "--json"))
    refused(
        run("trust", "remove", url),
        f"{client_id} is bound to {url}: unbind them first, or remove the issuer with its "
        "bindings (--cascade)",
    )
    assert len(trusted(run)) == 1
    removed = ok(run("trust", "remove", url, "--cascade", "--json"))
    assert removed == {"issuer": url, "removed": True, "unbound": [client_id]}
    assert trusted(run) == []
    assert "bindings" not in ok(run("clients", "show", client_id, "--json"))
    refused(run("trust", "remove", url), f"{url} is not a trusted issuer")
