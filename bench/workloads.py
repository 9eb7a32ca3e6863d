"""The workloads (bench/README.md, "What runs"): their keys and which of them a run
selects (``--only``), the paths of the resource-server routes, and the definitions of the
token, bearer and revocation workloads and of a server in the token rounds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Probe, Workload
from bench.peer import PEER_TOKEN_PATH, Peer
from bench.runner import (
    REVOKE_PATH,
    TOKEN_BODY,
    TOKEN_PATH,
    TOKEN_SCOPE,
    Server,
    form_headers,
    http_call,
)
from bench.wrk import WrkRun

VERIFIER_KEYS = ("ours-introspection-guarded", "ours-jwt-guarded", "ours-verifier-plain")
# The rows with rate limits and the lockout on, counted in process or in Redis.
LIMITED_TOKEN_KEYS = ("ours-token-limited", "ours-token-limited-redis")
LIMITED_GUARD_KEYS = ("ours-protected-limited", "ours-protected-limited-redis")
REDIS_KEYS = ("ours-token-limited-redis", "ours-protected-limited-redis")
OURS_SERVE_KEYS = (
    "ours-token",
    *LIMITED_TOKEN_KEYS,
    "ours-token-jwt",
    "ours-token-pkjwt",
    "ours-introspect",
    *VERIFIER_KEYS,
    "ours-revoke-fresh",
    "ours-revoke-same",
    "ours-rss",
)
OURS_GUARD_KEYS = (
    "ours-protected",
    *LIMITED_GUARD_KEYS,
    "ours-unguarded",
    "ours-starlette-guarded",
    "ours-starlette-plain",
)
PEER_KEYS = ("peer-introspect", "peer-token", "peer-revoke-same")
WORKLOAD_KEYS = ("ceiling", *OURS_SERVE_KEYS, *OURS_GUARD_KEYS, *PEER_KEYS)

# The resource-server workloads (DESIGN.md §3 last sentence, §6 "a protected request") run
# against bench/app.py: the product app plus, for benchmarking only, the unguarded twin of
# the profile route and a guarded/plain pair of plain Starlette routes.
#   * PROTECTED_PATH is served by a FastAPI route guarded by require_scopes("profiles:read").
#   * UNGUARDED_PATH is the same handler without the guard (bench/app.py builds it from the
#     product's route), so that "protected / unguarded" is the guard's cost alone.
#   * bench/app.py's STARLETTE_GUARDED_PATH / STARLETTE_PLAIN_PATH: a fixed-JSON Starlette
#     endpoint with and without @requires_bearer("profiles:read").
PROTECTED_PATH = "/v1/profiles/facebook/some-profile"
UNGUARDED_PATH = "/bench/unguarded/profiles/facebook/some-profile"


# Every row runs with rate limits and the lockout off (the product's default is on), as
# before they existed, but the *-limited ones: on, with amounts no load reaches, so that
# they measure what the counting costs (a round trip to the counters per request), never
# a refusal.
LIMITS_OFF = {"ANTI_GRAZER_RATE_LIMITS_ENABLED": "false", "ANTI_GRAZER_LOCKOUT_FAILURES": "0"}
UNREACHED = "1000000000"
LIMITS_ON = {
    "ANTI_GRAZER_RATE_LIMITS_ENABLED": "true",
    "ANTI_GRAZER_LOCKOUT_FAILURES": "5",
    **{
        f"ANTI_GRAZER_RATE_LIMIT_{limit}": UNREACHED
        for limit in ("TOKENS_PER_HOUR", "TOKENS_PER_DAY", "REQUESTS_PER_HOUR", "BURST_PER_MINUTE")
    },
}


def limits_env(redis_url: str | None) -> dict[str, str]:
    """The settings of a *-limited row: limits on, counted in process or in Redis."""
    storage = {"ANTI_GRAZER_RATE_LIMIT_STORAGE": redis_url} if redis_url else {}
    return {**LIMITS_ON, **storage}


def limited_keys(only: set[str] | None, keys: Sequence[str]) -> list[str]:
    """The *-limited rows of ``keys`` a run selects (``--only``)."""
    return [key for key in keys if selected(only, key)]


def selected(only: set[str] | None, key: str) -> bool:
    return only is None or key in only or key == "ceiling"


def any_selected(only: set[str] | None, keys: Sequence[str]) -> bool:
    return any(selected(only, key) for key in keys)


def token_workload(
    key: str,
    label: str,
    basic: str,
    path: str = TOKEN_PATH,
    *,
    group: str = "",
    note: str = "",
    helpers: tuple[int, ...] = (),
) -> Workload:
    """POST ``path`` for a token with client_secret_basic (RFC 6749 §4.4.2)."""
    return Workload(
        key=key,
        label=label,
        script="token.lua",
        path=path,
        env={"BENCH_BASIC": basic, "BENCH_SCOPE": TOKEN_SCOPE},
        probe=Probe("POST", path, form_headers(basic), TOKEN_BODY),
        note=note,
        group=group,
        helpers=helpers,
    )


def bearer_workload(
    key: str,
    label: str,
    path: str,
    token: str,
    *,
    guarded: bool = True,
    skip_if_404: bool = False,
    helpers: tuple[int, ...] = (),
    group: str = "",
) -> Workload:
    """GET ``path`` with ``Authorization: Bearer <token>``.  An unguarded twin gets the
    same header (ignored), so that the request bytes differ only by the path; its probe
    goes without it.  ``group``: the workload this run is one round of."""
    bearer = {"Authorization": f"Bearer {token}"}
    return Workload(
        key=key,
        label=label,
        script="bearer_get.lua",
        path=path,
        env={"BENCH_TOKEN": token},
        probe=Probe("GET", path, bearer if guarded else {}, skip_if_404=skip_if_404),
        helpers=helpers,
        group=group,
    )


def revoke_same_workload(key: str, label: str, path: str, basic: str, token: str) -> Workload:
    """POST ``path`` revoking one token again and again: after the first, the
    already-revoked path."""
    return Workload(
        key=key,
        label=label,
        script="revoke.lua",
        path=path,
        env={"BENCH_BASIC": basic, "BENCH_TOKEN": token},
        probe=Probe("POST", path, form_headers(basic), f"token={token}"),
    )


def revoke_fresh_workload(basic: str, pool: Path, pool_size: int) -> Workload:
    """POST /oauth/revoke of a different live token each request, from the ``pool_size``
    tokens in ``pool`` (``fill_token_pool``); the row's note says which share of the
    measured requests found a live token (the warm-up takes the first ones)."""
    offset = {"value": 0}

    def after_warmup(warm: WrkRun) -> dict[str, str]:
        offset["value"] = int(warm.extra.get("sent", 0))
        return {"BENCH_TOKEN_OFFSET": str(offset["value"])}

    def describe(result: WrkRun) -> str:
        sent = int(result.extra.get("sent", 0)) - offset["value"]
        fresh = max(0, min(sent, pool_size - offset["value"]))
        share = 100 * fresh / sent if sent else 0.0
        return f"{share:.0f}% of requests revoked a live token (pool {pool_size:,})"

    return Workload(
        key="ours-revoke-fresh",
        label=f"ours: revocation, a live token each (POST {REVOKE_PATH})",
        script="revoke.lua",
        path=REVOKE_PATH,
        env={"BENCH_BASIC": basic, "BENCH_TOKEN_FILE": str(pool)},
        probe=Probe("POST", REVOKE_PATH, form_headers(basic), "token=not-a-token"),
        after_warmup=after_warmup,
        describe=describe,
    )


def pkjwt_token_workload(probe_assertion: str, pool: Path, pool_size: int) -> Workload:
    """POST /oauth/token authenticated by private_key_jwt (RFC 7523 §2.2), an ES256
    assertion with a fresh ``jti`` each request, from the ``pool_size`` in ``pool``
    (bench/assertion_pool.py); the probe uses one of its own.  The row's note says how
    much of the pool the run used."""
    offset = {"value": 0}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assertion_type = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
    probe_body = (
        f"{TOKEN_BODY}&client_assertion_type={assertion_type}&client_assertion={probe_assertion}"
    )

    def after_warmup(warm: WrkRun) -> dict[str, str]:
        offset["value"] = int(warm.extra.get("sent", 0))
        return {"BENCH_ASSERTION_OFFSET": str(offset["value"])}

    def describe(result: WrkRun) -> str:
        used = int(result.extra.get("sent", 0))
        short = int(result.extra.get("exhausted", 0))
        if short:
            return f"ASSERTION POOL RAN OUT: {short:,} requests had none (pool {pool_size:,})"
        return f"{used:,} of the pool's {pool_size:,} assertions used, each once"

    return Workload(
        key="ours-token-pkjwt",
        label=f"ours: token issuance, private_key_jwt ES256 (POST {TOKEN_PATH})",
        script="token_pkjwt.lua",
        path=TOKEN_PATH,
        env={"BENCH_ASSERTION_FILE": str(pool), "BENCH_SCOPE": TOKEN_SCOPE},
        probe=Probe("POST", TOKEN_PATH, form, probe_body),
        after_warmup=after_warmup,
        describe=describe,
    )


def introspect_workload(
    key: str, label: str, server: Server, path: str, basic: str, token: str
) -> Workload:
    """POST ``path`` (an RFC 7662 introspection endpoint) for one token again and again,
    authenticated as the token's own client; the row's note says whether the token was
    still active after the run."""
    headers = form_headers(basic)
    body = f"token={token}"

    def still_active(_result: WrkRun) -> str:
        answer = http_call(server.port, "POST", path, headers, body)
        active = answer.status == 200 and answer.json().get("active") is True
        return "token active throughout" if active else "TOKEN NO LONGER ACTIVE"

    return Workload(
        key=key,
        label=label,
        script="introspect.lua",
        path=path,
        env={"BENCH_BASIC": basic, "BENCH_TOKEN": token},
        probe=Probe("POST", path, headers, body),
        describe=still_active,
    )


@dataclass(frozen=True, slots=True)
class Contender:
    """A server in the token rounds: its workload key, label and token request."""

    server: Server
    key: str
    label: str
    basic: str
    path: str
    note: str = ""
    helpers: tuple[int, ...] = ()

    def round(self, number: int, rounds: int) -> Workload:
        return token_workload(
            f"{self.key}-{number}",
            f"{self.label}, round {number}/{rounds}",
            self.basic,
            self.path,
            group=self.key,
            note=self.note if number == 1 else "",
            helpers=self.helpers,
        )


def peer_contender(peer: Peer) -> Contender:
    return Contender(
        peer.server,
        "peer-token",
        f"peer: token issuance (POST {PEER_TOKEN_PATH})",
        peer.basic,
        PEER_TOKEN_PATH,
        note="in-memory LRU store of 1,000 entries: nothing durable",
    )
