"""Workload identity federation through HTTP (issue 17 item 2): a workload's platform
token, sent as the client assertion (RFC 7521 §4.2, RFC 7523 §2.2) with its bound
client's id, gets an access token without any secret when RFC 7523 §3's checks pass and
the binding's claim rules match; every refusal is the one ``invalid_client`` of RFC 6749
§5.2 (RFC 7521 §4.2.1) with its reason in the log only."""

from __future__ import annotations

import io

import httpx

from anti_grazer.protocol.client_admin import set_enabled
from anti_grazer.protocol.client_auth import JWT_BEARER
from anti_grazer.protocol.trust_admin import unbind_client
from tests.client_assertions import refusal_reasons
from tests.http_helpers import (
    INTROSPECT,
    REVOKE,
    assert_active,
    assert_invalid_client,
    assert_issued,
    assert_revoked_ok,
    post_form,
)
from tests.support import Registered, access_lines
from tests.web.federation_helpers import (
    Federation,
    present,
    the_one,
)
from tests.workload_tokens import github_claims, platform_token


async def test_a_bound_service_account_gets_a_token_without_a_secret(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7521 §4.2 / RFC 7523 §2.2: the projected service-account token authenticates
    the bound client; the answer is RFC 6749 §5.1's, with the client's default scope."""
    response = await present(fed_http, federation.client_id, federation.kubernetes_token())
    assert_issued(response, "profiles:read")


async def test_the_token_serves_at_every_endpoint_and_its_scope_is_the_clients(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """Revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) authenticate the
    client alike, and the issued token is the client's own."""
    issued = await present(
        fed_http, federation.client_id, federation.kubernetes_token(), scope="reports:write"
    )
    token = assert_issued(issued, "reports:write")
    form = {"client_id": federation.client_id, "client_assertion_type": JWT_BEARER}
    introspected = await post_form(
        fed_http,
        INTROSPECT,
        {**form, "token": token, "client_assertion": federation.kubernetes_token()},
    )
    assert assert_active(introspected)["client_id"] == federation.client_id
    revoked = await post_form(
        fed_http,
        REVOKE,
        {**form, "token": token, "client_assertion": federation.kubernetes_token()},
    )
    assert_revoked_ok(revoked)


async def test_one_glob_rule_serves_every_service_account_of_the_namespace(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """``sub=system:serviceaccount:prod:*``: any account of prod, none of another
    namespace (``*`` crosses ':' but the prefix is exact)."""
    for name in ("reporter", "importer", "a:b"):
        token = federation.kubernetes_token(name=name)
        assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    for namespace in ("dev", "prod-canary", "produce"):
        token = federation.kubernetes_token(namespace)
        assert_invalid_client(await present(fed_http, federation.client_id, token))


async def test_an_unbound_subject_is_refused_and_the_log_says_why(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """A token of the trusted issuer whose ``sub`` matches no rule: 401 invalid_client,
    the claim and the rule in the log, never the token."""
    token = federation.kubernetes_token("dev")
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    reason = the_one(refusal_reasons(log_stream))
    assert reason == (
        "claim 'sub' 'system:serviceaccount:dev:reporter' does not match the binding's "
        "'system:serviceaccount:prod:*'"
    )
    assert token not in log_stream.getvalue()
    assert token.split(".")[2] not in log_stream.getvalue()


async def test_every_rule_must_match(fed_http: httpx.AsyncClient, federation: Federation) -> None:
    """GitHub Actions: ``repository`` and ``ref`` both bound; a token of another branch
    or another repository of the organisation is refused."""
    await federation.bind("repository=org/app", "ref=refs/heads/main", replace=True)
    key, issuer, now = federation.issuer.keys[0], federation.issuer.issuer, federation.clock.now()

    async def answer(**claims: str) -> httpx.Response:
        token = platform_token(key, github_claims(issuer, now, **claims), typ="JWT")
        return await present(fed_http, federation.client_id, token)

    assert_issued(await answer(), "profiles:read")
    assert_invalid_client(await answer(ref="refs/heads/feature"))
    assert_invalid_client(await answer(repository="org/other"))


async def test_a_rule_on_a_claim_that_is_not_a_string_never_matches(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """Claims are compared as strings only: ``*`` matches no number, array or object,
    and no absent claim."""
    await federation.bind("run_attempt=*", replace=True)
    key, issuer, now = federation.issuer.keys[0], federation.issuer.issuer, federation.clock.now()
    for value in (1, ["1"], {"n": "1"}, None):
        token = platform_token(key, github_claims(issuer, now, run_attempt=value))
        assert_invalid_client(await present(fed_http, federation.client_id, token))
    token = platform_token(key, github_claims(issuer, now, run_attempt="1"))
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")


async def test_a_replayed_jti_is_refused(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """RFC 7523 §3 item 7 / RFC 7519 §4.1.7: a token with a ``jti`` is used once; the
    same token again, even at another endpoint, is refused."""
    await federation.bind("repository=org/app", replace=True)
    key, issuer = federation.issuer.keys[0], federation.issuer.issuer
    token = platform_token(key, github_claims(issuer, federation.clock.now()))
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    assert the_one(refusal_reasons(log_stream)) == "the token's jti was used before (a replay)"


async def test_a_token_without_jti_may_be_presented_again_within_its_age(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """Kubernetes tokens carry no ``jti``: the same token serves its pod for as long as
    the maximum age allows."""
    token = federation.kubernetes_token()
    for _ in range(3):
        assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")


async def test_the_client_must_be_the_bound_one(
    fed_http: httpx.AsyncClient, federation: Federation, other_client: Registered
) -> None:
    """The binding is per client: the same token with another client's id, an unknown
    id, or no ``client_id`` at all (RFC 7521 §4.2 makes it optional, the federation
    needs it) is refused."""
    token = federation.kubernetes_token()
    for client_id in (other_client.client_id, "ag_ci_" + "x" * 22, None):
        assert_invalid_client(await present(fed_http, client_id, token))


async def test_an_unbinding_or_a_disabled_client_counts_at_once(
    fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """The binding is read at every request (no cache), and a disabled client is refused
    whatever its credential."""
    token = federation.kubernetes_token()
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    await unbind_client(federation.sql.trust, federation.client_id, federation.issuer.issuer)
    assert_invalid_client(await present(fed_http, federation.client_id, token))
    await federation.bind("sub=*")
    assert_issued(await present(fed_http, federation.client_id, token), "profiles:read")
    client = federation.client.client
    await set_enabled(
        federation.sql.clients, federation.sql.tokens, federation.clock, client, False
    )
    assert_invalid_client(await present(fed_http, federation.client_id, token))


async def test_the_access_line_names_the_client_and_the_issuer(
    log_stream: io.StringIO, fed_http: httpx.AsyncClient, federation: Federation
) -> None:
    """In place of a secret id, the access line says ``federated:`` and the issuer; a
    refused request names no client."""
    assert_issued(
        await present(fed_http, federation.client_id, federation.kubernetes_token()),
        "profiles:read",
    )
    assert_invalid_client(
        await present(fed_http, federation.client_id, federation.kubernetes_token("dev"))
    )
    lines = access_lines(log_stream)
    assert [(line["status"], line.get("client_id"), line.get("secret_id")) for line in lines] == [
        (200, federation.client_id, f"federated:{federation.issuer.issuer}"),
        (401, None, None),
    ]
