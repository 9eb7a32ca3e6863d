"""The ``ours-token-pkjwt`` row's client and assertions: a client registered with an
ES256 public key (``clients create --jwks-file``), and a pool of client assertions
(RFC 7523 §2.2) signed beforehand, each with a fresh ``jti``, since wrk's Lua cannot
sign ES256.  bench/lua/token_pkjwt.lua sends each once, in order."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey

from bench.runner import CLIENT_SCOPE, TOKEN_SCOPE, log, run_cli

# The rate the pool is sized for (the row is INVALID if it runs out: bench/README.md).
POOL_RATE_PER_SECOND = 5_000
POOL_MARGIN = 1.3
# Under the server's CLIENT_ASSERTION_MAX_LIFETIME_SECONDS (300): valid from signing on
# for the whole run.
ASSERTION_LIFETIME_SECONDS = 290


@dataclass(frozen=True, slots=True)
class KeyClient:
    """A ``private_key_jwt`` client: its id and its private key."""

    client_id: str
    key: ECKey

    def assertion(self, audience: str) -> str:
        """One assertion for ``audience`` (the token endpoint URL), a new ``jti``."""
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)


def register_key_client(env: Mapping[str, str], work: Path) -> KeyClient:
    """``clients create bench-pkjwt --jwks-file`` with a new P-256 key."""
    key = ECKey.generate_key("P-256", {"use": "sig", "alg": "ES256"}, auto_kid=True)
    keys = work / "bench-pkjwt-jwks.json"
    keys.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    args = ["clients", "create", "bench-pkjwt", "--scope", CLIENT_SCOPE]
    args += ["--default-scope", TOKEN_SCOPE, "--jwks-file", str(keys), "--json"]
    created = json.loads(run_cli(env, args).strip().splitlines()[-1])
    return KeyClient(str(created["client_id"]), key)


def pool_size(seconds: int) -> int:
    """Enough assertions for ``seconds`` of load (warm-up and measured) at the rate."""
    return int(seconds * POOL_RATE_PER_SECOND * POOL_MARGIN) + 1_000


def write_pool(client: KeyClient, audience: str, count: int, path: Path) -> int:
    """``count`` assertions in ``path``, one a line; how many."""
    started = time.monotonic()
    with path.open("w") as out:
        for _ in range(count):
            out.write(client.assertion(audience) + "\n")
    log(f"ours-token-pkjwt: signed {count:,} assertions in {time.monotonic() - started:.1f}s")
    return count
