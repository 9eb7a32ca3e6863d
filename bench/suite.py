"""The suite ``bench/run`` runs: which workload runs against which server, in which
order.  The ceiling; ``anti-grazer serve`` and the peer, both started for the token rounds
that alternate between them, then each one's other rows; the guard rows against
bench/app.py; the ceiling again (the drift check)."""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.app import STARLETTE_GUARDED_PATH, STARLETTE_PLAIN_PATH
from bench.assertion_pool import pool_size, register_key_client, write_pool
from bench.measure import MemorySample, Probe, Row, Workload, measure
from bench.peer import (
    PEER_INTROSPECTION_PATH,
    PEER_REVOCATION_PATH,
    PEER_TOKEN_PATH,
    Peer,
    running_peer,
)
from bench.redis import Redis, running_redis
from bench.runner import (
    HOST,
    INTROSPECT_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    TOKEN_SCOPE,
    Server,
    basic_credentials,
    bench_app_server,
    ceiling_server,
    create_client,
    database_env,
    free_port,
    issue_token,
    log,
    ours_server,
    running,
    upgrade_database,
    verifier_app_server,
)
from bench.sampling import rss_mib
from bench.verifier_app import INTROSPECTION_GUARDED_PATH, JWT_GUARDED_PATH
from bench.verifier_app import PLAIN_PATH as VERIFIER_PLAIN_PATH
from bench.workloads import (
    LIMITED_GUARD_KEYS,
    LIMITED_TOKEN_KEYS,
    LIMITS_OFF,
    OURS_GUARD_KEYS,
    OURS_SERVE_KEYS,
    PEER_KEYS,
    PROTECTED_PATH,
    REDIS_KEYS,
    VERIFIER_KEYS,
    Contender,
    any_selected,
    bearer_workload,
    introspect_workload,
    limited_keys,
    limits_env,
    peer_contender,
    pkjwt_token_workload,
    revoke_fresh_workload,
    revoke_same_workload,
    selected,
    token_workload,
)
from bench.wrk import Options, run_wrk

RSS_RUNS = 3  # token workload runs against one server process for the RSS check
TOKEN_ROUNDS = 5  # token issuance runs per server, ours and the peer's taking turns
GUARD_ROUNDS = 3  # runs of each guard-cost pair, guarded and unguarded taking turns
DRIFT_LABEL = "ceiling again, at the end (drift check; ratios use the first)"
DRIFT_TOLERANCE = 0.15


def run_suite(
    options: Options,
    only: set[str] | None,
    ours_env: Mapping[str, str],
    unguarded_path: str,
    pool_seconds: int,
    rounds: int,
    guard_rounds: int,
    drift_check: bool,
) -> tuple[list[Row], list[MemorySample]]:
    """Every selected workload in its order: the ceiling, the servers, the ceiling again
    (``drift_check``); the rows, and the servers' RSS at several moments."""
    rows: list[Row] = []
    memory: list[MemorySample] = []
    with tempfile.TemporaryDirectory(prefix="anti-grazer-bench-") as scratch:
        work = Path(scratch)
        rows += bench_ceiling(options, work, "ceiling", "ceiling: raw ASGI GET, fixed JSON")
        rows += bench_servers(
            options,
            work,
            only,
            ours_env,
            unguarded_path,
            pool_seconds,
            rounds,
            guard_rounds,
            memory,
        )
        if drift_check:
            rows += bench_ceiling(options, work, "ceiling-end", DRIFT_LABEL)
            note_drift(rows)
    return rows, memory


def fill_token_pool(options: Options, server: Server, basic: str, path: Path, seconds: int) -> int:
    """Issue tokens for ``seconds`` (not measured) and keep them in ``path``; how many."""
    log(f"ours-revoke-fresh: issuing a pool of tokens for {seconds}s (not measured)")
    run = run_wrk(
        options,
        "collect_tokens.lua",
        f"http://{HOST}:{server.port}{TOKEN_PATH}",
        {"BENCH_BASIC": basic, "BENCH_SCOPE": TOKEN_SCOPE, "BENCH_TOKEN_OUT": str(path)},
        seconds,
        None,
    )
    if run.error_count:
        raise RuntimeError(f"filling the token pool failed: {run.errors}")
    return sum(1 for line in path.read_text().splitlines() if line)


def bench_ceiling(options: Options, work: Path, key: str, label: str) -> list[Row]:
    port = free_port()
    server = ceiling_server(port, work / f"{key}.log")
    workload = Workload(key, label, "ceiling.lua", "/", {}, Probe("GET", "/", {}))
    with running(server):
        return [measure(options, server, workload)]


def note_drift(rows: list[Row]) -> None:
    """Flag a run whose two ceiling measurements disagree: the machine's load changed
    while it ran, and the ratios are less trustworthy than usual."""
    first = next((row for row in rows if row.key == "ceiling" and row.requests), None)
    last = next((row for row in rows if row.key == "ceiling-end" and row.requests), None)
    if first is None or last is None or first.rps == 0:
        return
    change = last.rps / first.rps - 1
    verdict = "within" if abs(change) <= DRIFT_TOLERANCE else "OUTSIDE"
    last.notes.append(f"{change:+.0%} against the first ceiling, {verdict} ±{DRIFT_TOLERANCE:.0%}")


def token_rounds(options: Options, contenders: Sequence[Contender], rounds: int) -> list[Row]:
    """Token issuance, ``rounds`` times per contender, taking turns: ours, the peer's,
    ours, ...  The machine's speed drifts over tens of seconds on a shared VM
    (bench/README.md); rounds side by side see the same machine, and the comparison
    takes each server's median."""
    rows: list[Row] = []
    for number in range(1, rounds + 1):
        for contender in contenders:
            rows.append(measure(options, contender.server, contender.round(number, rounds)))
    return rows


def bench_servers(
    options: Options,
    work: Path,
    only: set[str] | None,
    extra_env: Mapping[str, str],
    unguarded_path: str,
    pool_seconds: int,
    rounds: int,
    guard_rounds: int,
    memory: list[MemorySample],
) -> list[Row]:
    """Anti Grazer and the peer, both started for the token rounds (the one not measured
    idles); then each one's other workloads; then the guard pairs against bench/app.py,
    ``guard_rounds`` times each."""
    # A key-encryption key of this run only: db upgrade creates the first signing key.
    env = {
        **database_env(work / "anti-grazer.db"),
        "ANTI_GRAZER_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        **LIMITS_OFF,
        **extra_env,
    }
    wants_ours = any_selected(only, (*OURS_SERVE_KEYS, *OURS_GUARD_KEYS))
    clients = BenchClients.register(env) if wants_ours else BenchClients("", "", ("", ""))
    basic = clients.basic
    rows: list[Row] = []
    with contextlib.ExitStack() as for_the_run:
        redis = None
        if any(selected(only, key) for key in REDIS_KEYS):
            redis = for_the_run.enter_context(running_redis(work))
        with contextlib.ExitStack() as stack:
            peer: Peer | None = None
            if any_selected(only, PEER_KEYS):
                peer = stack.enter_context(running_peer(work))
            rival = (
                peer_contender(peer) if peer is not None and selected(only, "peer-token") else None
            )
            if any_selected(only, OURS_SERVE_KEYS):
                rows += bench_ours_serve(
                    options, work, only, env, clients, pool_seconds, memory, rival, rounds, redis
                )
            elif rival is not None:
                rows += token_rounds(options, [rival], rounds)
            if peer is not None:
                rows += bench_peer(options, peer, only)
        if any_selected(only, OURS_GUARD_KEYS):
            rows += bench_ours_guard(
                options, work, only, env, basic, unguarded_path, memory, redis, guard_rounds
            )
    return rows


def counted_in(key: str, redis: Redis | None) -> tuple[str | None, tuple[int, ...], str]:
    """Where a *-limited row counts: the Redis URL (None: in process), the helper
    processes whose CPU is the server's too, and the words for the label."""
    if key.endswith("-redis") and redis is not None:
        return redis.url, (redis.pid,), "counted in Redis"
    return None, (), "counted in process"


@contextlib.contextmanager
def limited_token_server(
    work: Path, env: Mapping[str, str], basic: str, key: str, redis: Redis | None
) -> Iterator[Contender]:
    """``anti-grazer serve`` with rate limits and the lockout on, in the token rounds."""
    url, helpers, where = counted_in(key, redis)
    server = ours_server(free_port(), {**env, **limits_env(url)}, work / f"{key}.log")
    with running(server):
        label = f"ours: token issuance, rate limits and lockout on ({where})"
        yield Contender(server, key, label, basic, TOKEN_PATH, helpers=helpers)


def bench_limited_guard(
    options: Options, work: Path, env: Mapping[str, str], basic: str, key: str, redis: Redis | None
) -> Row:
    """The guarded FastAPI route of bench/app.py with rate limits and the lockout on."""
    url, helpers, where = counted_in(key, redis)
    server = bench_app_server(free_port(), {**env, **limits_env(url)}, work / f"{key}.log")
    with running(server):
        token = issue_token(server.port, TOKEN_PATH, basic)
        label = f"ours (bench.app): FastAPI GET {PROTECTED_PATH}, guarded, rate limits on ({where})"
        workload = bearer_workload(key, label, PROTECTED_PATH, token, helpers=helpers)
        return measure(options, server, workload)


def bench_ours_serve(
    options: Options,
    work: Path,
    only: set[str] | None,
    env: Mapping[str, str],
    clients: BenchClients,
    pool_seconds: int,
    memory: list[MemorySample],
    rival: Contender | None,
    rounds: int,
    redis: Redis | None,
) -> list[Row]:
    """The authorization-server workloads against ``anti-grazer serve``; the token
    rounds take turns with the same server with rate limits on (in process, on
    ``redis``) and with ``rival`` (the peer, already running), if selected."""
    basic = clients.basic
    server = ours_server(free_port(), env, work / "anti-grazer.log")
    rows: list[Row] = []
    with running(server):

        def remember(moment: str) -> None:
            memory.append(MemorySample("anti-grazer serve", moment, rss_mib(server.pid)))

        remember("started")
        contenders: list[Contender] = []
        if selected(only, "ours-token"):
            label = "ours: token issuance (POST /oauth/token)"
            contenders.append(Contender(server, "ours-token", label, basic, TOKEN_PATH))
        with contextlib.ExitStack() as limited:
            for key in limited_keys(only, LIMITED_TOKEN_KEYS):
                server_on = limited_token_server(work, env, basic, key, redis)
                contenders.append(limited.enter_context(server_on))
            rounds_of = [*contenders, rival] if rival is not None else contenders
            rows += token_rounds(options, rounds_of, rounds)
        if selected(only, "ours-token-jwt"):
            label = "ours: JWT access token issuance, ES256 (POST /oauth/token)"
            workload = token_workload("ours-token-jwt", label, clients.jwt_basic)
            rows.append(measure(options, server, workload))
        if selected(only, "ours-token-pkjwt"):
            rows.append(measure(options, server, pkjwt_workload(options, work, env, server)))
        if selected(only, "ours-introspect"):
            token = issue_token(server.port, TOKEN_PATH, basic)
            label = f"ours: introspection (POST {INTROSPECT_PATH})"
            workload = introspect_workload(
                "ours-introspect", label, server, INTROSPECT_PATH, basic, token
            )
            rows.append(measure(options, server, workload))
        if selected(only, "ours-revoke-fresh"):
            pool = work / "token-pool.txt"
            pool_size = fill_token_pool(options, server, basic, pool, pool_seconds)
            log(f"ours-revoke-fresh: {pool_size} tokens in the pool")
            workload = revoke_fresh_workload(basic, pool, pool_size)
            rows.append(measure(options, server, workload))
        if selected(only, "ours-revoke-same"):
            token = issue_token(server.port, TOKEN_PATH, basic)
            label = "ours: revocation, the same token again (already revoked)"
            workload = revoke_same_workload("ours-revoke-same", label, REVOKE_PATH, basic, token)
            rows.append(measure(options, server, workload))
        if any_selected(only, VERIFIER_KEYS):
            rows += bench_verifiers(options, work, only, server, clients)
        remember("after the workloads above")
        # The RSS check: the token workload again, RSS_RUNS times, same process.
        if selected(only, "ours-rss"):
            for run in range(1, RSS_RUNS + 1):
                label = f"ours: token issuance again, run {run}/{RSS_RUNS} (RSS check)"
                rows.append(
                    measure(options, server, token_workload(f"ours-rss-{run}", label, basic))
                )
                remember(f"after token run {run}/{RSS_RUNS}")
    return rows


def pkjwt_workload(
    options: Options, work: Path, env: Mapping[str, str], server: Server
) -> Workload:
    """The ``ours-token-pkjwt`` row: a client with an ES256 key, and its assertions
    signed beforehand for the warm-up and the measured run (bench/assertion_pool.py)."""
    client = register_key_client(env, work)
    audience = f"http://{HOST}:{server.port}{TOKEN_PATH}"  # RFC 7523 §3 item 3
    pool = work / "assertion-pool.txt"
    size = write_pool(client, audience, pool_size(options.warmup + options.duration), pool)
    return pkjwt_token_workload(client.assertion(audience), pool, size)


@dataclass(frozen=True, slots=True)
class BenchClients:
    """The clients registered for a run: the benchmark client (opaque tokens), one whose
    tokens are JWTs, and a resource server (``--introspect``) for the verifier rows."""

    basic: str
    jwt_basic: str
    resource_server: tuple[str, str]

    @classmethod
    def register(cls, env: Mapping[str, str]) -> BenchClients:
        upgrade_database(env)
        return cls(
            basic_credentials(*create_client(env)),
            basic_credentials(*create_client(env, "bench-jwt", options=["--token-format", "jwt"])),
            create_client(env, "bench-resource-server", options=["--introspect"]),
        )


def bench_verifiers(
    options: Options, work: Path, only: set[str] | None, server: Server, clients: BenchClients
) -> list[Row]:
    """Another API (bench/verifier_app.py) guarding a route with each remote verifier
    against ``server``, and the same endpoint unguarded; the app runs beside ``server``
    on the same CPU (introspection asks it once per token and cache TTL)."""
    rs_id, rs_secret = clients.resource_server
    env = {
        "BENCH_ISSUER": f"http://{HOST}:{server.port}",
        "BENCH_RS_ID": rs_id,
        "BENCH_RS_SECRET": rs_secret,
    }
    api = verifier_app_server(free_port(), env, work / "verifier-app.log")
    opaque = issue_token(server.port, TOKEN_PATH, clients.basic)
    jwt = issue_token(server.port, TOKEN_PATH, clients.jwt_basic)
    routes = (
        ("ours-introspection-guarded", "IntrospectionVerifier", INTROSPECTION_GUARDED_PATH, opaque),
        ("ours-jwt-guarded", "JwtVerifier", JWT_GUARDED_PATH, jwt),
        ("ours-verifier-plain", "the same endpoint unguarded", VERIFIER_PLAIN_PATH, ""),
    )
    rows: list[Row] = []
    with running(api):
        for key, what, path, token in routes:
            if selected(only, key):
                label = f"another API (bench.verifier_app): GET {path}, {what}"
                workload = bearer_workload(key, label, path, token, guarded=bool(token))
                rows.append(measure(options, api, workload))
    return rows


def bench_ours_guard(
    options: Options,
    work: Path,
    only: set[str] | None,
    env: Mapping[str, str],
    basic: str,
    unguarded_path: str,
    memory: list[MemorySample],
    redis: Redis | None,
    rounds: int,
) -> list[Row]:
    """The guard-cost pairs against bench/app.py (same database, after the above), each
    pair ``rounds`` times, guarded and unguarded taking turns (a pair's runs side by side
    see the same machine); then its guarded route with rate limits on (in process, on
    ``redis``)."""
    server = bench_app_server(free_port(), env, work / "bench-app.log")
    rows: list[Row] = []
    with running(server):
        token = issue_token(server.port, TOKEN_PATH, basic)
        # Pairs of (key, label, path, guarded); a route missing from bench.app skips its row.
        pairs = (
            (
                (
                    "ours-protected",
                    f"ours (bench.app): FastAPI GET {PROTECTED_PATH}, guarded (valid bearer)",
                    PROTECTED_PATH,
                    True,
                ),
                (
                    "ours-unguarded",
                    f"ours (bench.app): the same FastAPI route unguarded, GET {unguarded_path}",
                    unguarded_path,
                    False,
                ),
            ),
            (
                (
                    "ours-starlette-guarded",
                    f"ours (bench.app): Starlette GET {STARLETTE_GUARDED_PATH}, "
                    "@requires_bearer (valid bearer)",
                    STARLETTE_GUARDED_PATH,
                    True,
                ),
                (
                    "ours-starlette-plain",
                    f"ours (bench.app): the same Starlette endpoint unguarded, GET "
                    f"{STARLETTE_PLAIN_PATH}",
                    STARLETTE_PLAIN_PATH,
                    False,
                ),
            ),
        )
        for pair in pairs:
            for number in range(1, rounds + 1):
                for key, label, path, guarded in pair:
                    if selected(only, key):
                        workload = bearer_workload(
                            f"{key}-{number}" if rounds > 1 else key,
                            f"{label}, round {number}/{rounds}" if rounds > 1 else label,
                            path,
                            token,
                            guarded=guarded,
                            skip_if_404=True,
                            group=key,
                        )
                        rows.append(measure(options, server, workload))
        memory.append(
            MemorySample("bench.app (guard rows)", "after its workloads", rss_mib(server.pid))
        )
    for key in limited_keys(only, LIMITED_GUARD_KEYS):
        rows.append(bench_limited_guard(options, work, env, basic, key, redis))
    return rows


def bench_peer(options: Options, peer: Peer, only: set[str] | None) -> list[Row]:
    """The peer's workloads besides token issuance (``token_rounds``)."""
    server, basic = peer.server, peer.basic
    rows: list[Row] = []
    if selected(only, "peer-introspect"):
        # Issued just before: the in-memory adapter is an LRU of 1,000 entries, and
        # nothing else issues tokens while this runs.
        token = issue_token(server.port, PEER_TOKEN_PATH, basic)
        label = f"peer: introspection (POST {PEER_INTROSPECTION_PATH})"
        workload = introspect_workload(
            "peer-introspect", label, server, PEER_INTROSPECTION_PATH, basic, token
        )
        rows.append(measure(options, server, workload))
    if selected(only, "peer-revoke-same"):
        token = issue_token(server.port, PEER_TOKEN_PATH, basic)
        label = "peer: revocation, the same token again (already revoked)"
        workload = revoke_same_workload(
            "peer-revoke-same", label, PEER_REVOCATION_PATH, basic, token
        )
        rows.append(measure(options, server, workload))
    return rows
