"""Helpers of the command line's tests: ``anti-grazer`` run in-process on one SQLite file,
with the stores of that file and the protocol layer at hand to check the effects, and the
messages the commands print."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from click.testing import Result

from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.errors import InvalidClientError
from anti_grazer.protocol.jwt_access_tokens import JwtAccessTokens
from anti_grazer.protocol.key_ring import KeyRing
from anti_grazer.protocol.models import Client, TokenRecord
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.protocol.token_lookup import presented_token_digest
from anti_grazer.store.runtime import OpenedStores, open_stores
from tests.e2e.process import sqlite_url
from tests.jwt_helpers import AUDIENCE, ISSUER, KEK_BYTES
from tests.support import invoke_cli

T = TypeVar("T")

STORE_NOTICE = "Store the secret now: it is shown only once and cannot be recovered.\n"
NOT_A_TOKEN = "Error: that is not an Anti Grazer access token (bad format or checksum)\n"
NO_SUCH_TOKEN = "Error: no such token (unknown or already purged)\n"
UNKNOWN_ID = "ag_ci_0000000000000000000000"


@dataclass
class Cli:
    """``anti-grazer`` run in-process against one SQLite file."""

    database: Path

    @property
    def url(self) -> str:
        return sqlite_url(self.database)

    def __call__(self, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> Result:
        return invoke_cli(self.url, *args, env=env, stdin=stdin)

    def stores(self, action: Callable[[OpenedStores], Awaitable[T]]) -> T:
        """Run ``action`` on the stores of the same database."""

        async def go() -> T:
            async with open_stores(self.url) as stores:
                return await action(stores)

        return asyncio.run(go())

    def client(self, client_id: str) -> Client | None:
        return self.stores(lambda s: s.clients.get_client(client_id))

    def record(self, digest: str) -> TokenRecord | None:
        return self.stores(lambda s: s.tokens.get_token(digest))

    def token(self, token: str) -> TokenRecord | None:
        digest = presented_token_digest(token)
        assert digest is not None
        return self.record(digest)

    def issue(self, client_id: str, secret: str) -> str | None:
        """A token through the protocol layer (a JWT, signed with the test key-encryption
        key, for a client of that format); ``None`` when the client fails to authenticate
        (``invalid_client``)."""

        async def go(stores: OpenedStores) -> str | None:
            ring = KeyRing(stores.signing_keys, SystemClock(), KEK_BYTES, 0)
            server = AuthorizationServer(
                stores.clients,
                stores.tokens,
                SystemClock(),
                jwt=JwtAccessTokens(ring, ISSUER, AUDIENCE),
            )
            params = {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            }
            try:
                response = await server.token(params, None)
            except InvalidClientError:
                return None
            finally:
                await server.secret_use.flush()  # the last use, written before the close
            return response.access_token

        return self.stores(go)


def create(run: Cli, name: str = "svc", *options: str) -> dict[str, object]:
    result = run(
        "clients",
        "create",
        name,
        *(options or ("--scope", "a b", "--default-scope", "a", "--token-ttl", "60")),
        "--json",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert isinstance(created, dict)
    return created


def create_bare(run: Cli, name: str = "svc") -> dict[str, object]:
    """``clients create NAME --json`` with no other option."""
    result = run("clients", "create", name, "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert isinstance(created, dict)
    return created


def describe(client: Client) -> dict[str, object]:
    """What ``show`` and ``list --json`` print of a client."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "scope": " ".join(sorted(client.allowed_scopes)),
        "default_scope": " ".join(sorted(client.effective_default_scopes)),
        "token_ttl_seconds": client.token_ttl_seconds,
        "enabled": client.enabled,
        "introspect": client.can_introspect,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
        "token_format": client.token_format,
        "audiences": list(client.audiences),
        "token_endpoint_auth_method": client.auth_method,
        **(
            {"jwks_kids": [k.get("kid") for k in json.loads(client.jwks)["keys"]]}
            if client.jwks is not None
            else {}
        ),
        **({"jwks_uri": client.jwks_uri} if client.jwks_uri is not None else {}),
    }


def limit_shown(
    limit: int | None, window_seconds: int, mode: str = "enforced", *, own: bool = False
) -> dict[str, object]:
    """One limit as ``show`` and ``limits`` print it."""
    return {"limit": limit, "window_seconds": window_seconds, "mode": mode, "own": own}


# The limits of a client without its own, under the default settings.
DEFAULT_LIMITS = {
    "tokens_per_hour": limit_shown(100, 3600),
    "tokens_per_day": limit_shown(1000, 86400),
    "requests_per_hour": limit_shown(1000, 3600),
    "burst_per_minute": limit_shown(100, 60),
    "new_reporters_per_day": limit_shown(1000, 86400),
}


def describe_secrets(client: Client) -> list[dict[str, object]]:
    """What ``show`` prints of a client's secrets: ids and times, never a digest."""
    return [
        {
            "secret_id": s.secret_id,
            "created_at": s.created_at.isoformat(),
            "expires_at": None if s.expires_at is None else s.expires_at.isoformat(),
            "last_used_at": None if s.last_used_at is None else s.last_used_at.isoformat(),
        }
        for s in client.secrets
    ]
