"""Helpers of the workload identity federation's HTTP tests: a stand-in issuer (a
Kubernetes cluster or GitHub Actions, tests/guard/stand_in_server.py) trusted by the
server, a client bound to it, and the token requests its workloads make."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from anti_grazer.protocol.trust_admin import bind_client, new_trusted_issuer, trust_issuer
from anti_grazer.store.runtime import OpenedStores
from tests.client_assertions import assertion_form
from tests.clock import FrozenClock
from tests.guard.stand_in_server import StandInServer
from tests.http_helpers import TOKEN, post_form
from tests.support import Registered, log_events
from tests.workload_tokens import AUDIENCE, kubernetes_claims, platform_token

# Short enough for quick tests of an issuer that does not answer, long enough for a
# loaded machine.
TIMEOUT_SECONDS = 1.0
# What a workload of the prod namespace may be (one rule for every service account).
PROD_RULE = "sub=system:serviceaccount:prod:*"


@dataclass
class Federation:
    """The stand-in issuer trusted for ``AUDIENCE``, and a client registered beside it."""

    issuer: StandInServer
    client: Registered
    sql: OpenedStores
    clock: FrozenClock

    @property
    def client_id(self) -> str:
        return self.client.client_id

    async def trust(self, issuer: str | None = None, jwks_uri: str | None = None) -> None:
        """Trust ``issuer`` (the stand-in's by default) for ``AUDIENCE``."""
        trusted = new_trusted_issuer(self.clock, issuer or self.issuer.issuer, AUDIENCE, jwks_uri)
        await trust_issuer(self.sql.trust, trusted)

    async def bind(self, *rules: str, client_id: str | None = None, replace: bool = False) -> None:
        """Bind the client (or ``client_id``) to the stand-in issuer with ``rules``."""
        await bind_client(
            self.sql.trust,
            self.clock,
            client_id or self.client_id,
            self.issuer.issuer,
            rules,
            replace=replace,
        )

    def kubernetes_token(
        self, namespace: str = "prod", name: str = "reporter", **changes: object
    ) -> str:
        """A service-account token of ``namespace`` signed by the issuer's first key."""
        now = self.clock.now()
        claims = kubernetes_claims(self.issuer.issuer, now, namespace, name, **changes)
        return platform_token(self.issuer.keys[0], claims)


async def present(
    http: httpx.AsyncClient, client_id: str | None, token: str, **extra: str
) -> httpx.Response:
    """A token request authenticated by ``token`` as the client assertion, for
    ``client_id`` (None: the form names no client)."""
    if client_id is not None:
        extra["client_id"] = client_id
    return await post_form(http, TOKEN, assertion_form(token, **extra))


def fetch_failures(stream: io.StringIO) -> list[tuple[str, str]]:
    """The reasons and URLs of the failed fetches of an issuer's documents, as logged
    (``remote_json``)."""
    return [
        (e["reason"], e["url"])
        for e in log_events(stream)
        if e.get("event") == "remote server unavailable"
    ]


def the_one(reasons: Sequence[str]) -> str:
    """The only reason logged."""
    assert len(reasons) == 1, reasons
    return reasons[0]
