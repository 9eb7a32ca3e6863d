"""The storage contract of the ``TrustStore`` port (workload identity federation): memory,
SQLite, and PostgreSQL when ``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway database,
behave alike — every field survives, one binding per client and issuer, an issuer is not
removed from under its bound clients unless told to, and a client takes its bindings
with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from anti_grazer.protocol.models import FederationBinding, TrustedIssuer
from anti_grazer.protocol.ports import (
    ClientStore,
    IssuerInUseError,
    MissingBindingTargetError,
    TrustStore,
)
from anti_grazer.store.memory import memory_stores
from anti_grazer.store.runtime import open_stores
from tests.support import STORE_BACKENDS, at, fresh_database_url, make_client

K8S = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"
GITHUB = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class TrustPair:
    clients: ClientStore
    trust: TrustStore


@pytest.fixture(params=STORE_BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TrustPair]:
    """Fresh stores on one backend, with clients ``client-a`` and ``client-b``."""
    backend: str = request.param
    if backend == "memory":
        memory = memory_stores()
        pair = TrustPair(memory.clients, memory.trust)
        for client_id in ("client-a", "client-b"):
            await pair.clients.add_client(make_client(client_id))
        yield pair
        return
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        pair = TrustPair(opened.clients, opened.trust)
        for client_id in ("client-a", "client-b"):
            await pair.clients.add_client(make_client(client_id))
        yield pair


def issuer(url: str = K8S, created: float = 0, jwks_uri: str | None = None) -> TrustedIssuer:
    return TrustedIssuer(url, "https://auth.example", at(created), jwks_uri)


def binding(
    client_id: str = "client-a", url: str = K8S, sub: str = "system:serviceaccount:prod:*"
) -> FederationBinding:
    return FederationBinding(client_id, url, (("ns", "prod"), ("sub", sub)), at(1))


async def test_issuers_read_back_equal_oldest_first(stores: TrustPair) -> None:
    """Every field survives (microseconds, time zone, the optional jwks_uri)."""
    assert await stores.trust.list_issuers() == []
    late = issuer(GITHUB, 20, jwks_uri=GITHUB + "/.well-known/jwks")
    early = issuer(K8S, -5)
    tie = issuer(K8S + "/b", 20)
    for trusted in (late, early, tie):
        assert await stores.trust.add_issuer(trusted) is True
    assert await stores.trust.list_issuers() == [early, tie, late]


async def test_an_issuer_is_trusted_once(stores: TrustPair) -> None:
    first = issuer()
    assert await stores.trust.add_issuer(first)
    assert await stores.trust.add_issuer(replace(first, audience="other")) is False
    assert await stores.trust.list_issuers() == [first]


async def test_a_binding_is_found_by_client_and_exact_issuer(stores: TrustPair) -> None:
    trusted = issuer()
    await stores.trust.add_issuer(trusted)
    bound = binding()
    assert await stores.trust.add_binding(bound, replace=False) is True
    assert await stores.trust.find_binding("client-a", K8S) == (trusted, bound)
    for client_id, url in (("client-b", K8S), ("client-a", K8S + "/"), ("client-a", K8S.upper())):
        assert await stores.trust.find_binding(client_id, url) is None


async def test_a_binding_needs_its_client_and_its_issuer(stores: TrustPair) -> None:
    await stores.trust.add_issuer(issuer())
    with pytest.raises(MissingBindingTargetError) as missing:
        await stores.trust.add_binding(binding("ghost"), replace=False)
    assert missing.value.target == "client"
    with pytest.raises(MissingBindingTargetError) as missing:
        await stores.trust.add_binding(binding(url=GITHUB), replace=True)
    assert missing.value.target == "issuer"
    assert await stores.trust.list_bindings() == []


async def test_one_binding_per_client_and_issuer_replaced_only_when_asked(
    stores: TrustPair,
) -> None:
    await stores.trust.add_issuer(issuer())
    first, second = binding(), replace(binding(sub="x"), created_at=at(9))
    await stores.trust.add_binding(first, replace=False)
    assert await stores.trust.add_binding(second, replace=False) is False
    assert await stores.trust.list_bindings() == [first]
    assert await stores.trust.add_binding(second, replace=True) is True
    assert await stores.trust.list_bindings() == [second]


async def test_bindings_are_listed_by_client_then_issuer_and_filtered(stores: TrustPair) -> None:
    for url in (K8S, GITHUB):
        await stores.trust.add_issuer(issuer(url))
    made = [binding("client-b", K8S), binding("client-a", K8S), binding("client-a", GITHUB)]
    for bound in made:
        await stores.trust.add_binding(bound, replace=False)
    a_github, a_k8s, b_k8s = made[2], made[1], made[0]
    # "https://oidc..." sorts before "https://token...".
    assert await stores.trust.list_bindings() == [a_k8s, a_github, b_k8s]
    assert await stores.trust.list_bindings(client_id="client-a") == [a_k8s, a_github]
    assert await stores.trust.list_bindings(issuer=K8S) == [a_k8s, b_k8s]
    assert await stores.trust.list_bindings(client_id="client-b", issuer=GITHUB) == []


async def test_unbinding(stores: TrustPair) -> None:
    await stores.trust.add_issuer(issuer())
    await stores.trust.add_binding(binding(), replace=False)
    assert await stores.trust.remove_binding("client-a", K8S) is True
    assert await stores.trust.remove_binding("client-a", K8S) is False
    assert await stores.trust.find_binding("client-a", K8S) is None


async def test_an_issuer_with_bindings_is_removed_only_with_them(stores: TrustPair) -> None:
    """Refused (nothing changed, the bound clients named) unless ``with_bindings``."""
    await stores.trust.add_issuer(issuer())
    await stores.trust.add_issuer(issuer(GITHUB))
    for client_id in ("client-b", "client-a"):
        await stores.trust.add_binding(binding(client_id), replace=False)
    await stores.trust.add_binding(binding("client-a", GITHUB), replace=False)
    with pytest.raises(IssuerInUseError) as in_use:
        await stores.trust.remove_issuer(K8S, with_bindings=False)
    assert in_use.value.client_ids == ("client-a", "client-b")
    assert len(await stores.trust.list_bindings()) == 3
    assert await stores.trust.remove_issuer(K8S, with_bindings=True) is True
    assert [i.issuer for i in await stores.trust.list_issuers()] == [GITHUB]
    assert await stores.trust.list_bindings() == [binding("client-a", GITHUB)]
    assert await stores.trust.remove_issuer(K8S, with_bindings=False) is False


async def test_a_deleted_client_takes_its_bindings(stores: TrustPair) -> None:
    await stores.trust.add_issuer(issuer())
    await stores.trust.add_binding(binding("client-a"), replace=False)
    await stores.trust.add_binding(binding("client-b"), replace=False)
    assert await stores.clients.delete_client("client-a")
    assert await stores.trust.list_bindings() == [binding("client-b")]
    assert await stores.clients.delete_client("client-b")
    assert await stores.trust.remove_issuer(K8S, with_bindings=False) is True
