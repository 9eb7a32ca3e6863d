"""The suite's report: rows → bench/results/latest.md (also printed) and latest.json; the
main table with every figure as a ratio to the ceiling, the guard-cost table, ours ÷ the
peer, and the servers' memory.  Also the pieces every report of bench/ shares: the
preamble (date, command, commit, machine), the ratio cell, writing the files."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from operator import attrgetter
from pathlib import Path

from bench.measure import MemorySample, Row
from bench.runner import LOAD_CPU, REPO_DIR, SERVER_CPU, log
from bench.wrk import Options

NOISY_OTHER_LOAD_PERCENT = 25.0
RSS_GROWTH_TOLERANCE_MIB = 2.0
COMPARED = (
    ("token issuance", "ours-token", "peer-token"),
    ("introspection of an active token", "ours-introspect", "peer-introspect"),
    ("revocation of an already revoked token", "ours-revoke-same", "peer-revoke-same"),
)
GUARD_PAIRS = (
    ("FastAPI route (require_scopes dependency)", "ours-protected", "ours-unguarded"),
    ("plain Starlette route (@requires_bearer)", "ours-starlette-guarded", "ours-starlette-plain"),
    (
        "another API's Starlette route, IntrospectionVerifier (answers cached 5 s)",
        "ours-introspection-guarded",
        "ours-verifier-plain",
    ),
    ("another API's Starlette route, JwtVerifier", "ours-jwt-guarded", "ours-verifier-plain"),
)
LIMITS_PAIRS = (
    ("token issuance, counted in process", "ours-token-limited", "ours-token"),
    ("token issuance, counted in Redis", "ours-token-limited-redis", "ours-token"),
    ("guarded FastAPI route, counted in process", "ours-protected-limited", "ours-protected"),
    ("guarded FastAPI route, counted in Redis", "ours-protected-limited-redis", "ours-protected"),
)


# --- shared by the reports -------------------------------------------------------------


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def tool_version(command: Sequence[str]) -> str:
    """The first line a tool prints about its version, or "unknown"."""
    try:
        completed = subprocess.run(
            list(command), capture_output=True, text=True, check=False, timeout=10
        )
    except OSError:
        return "unknown"
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def git_commit() -> str:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except OSError:
        return "unknown"
    return completed.stdout.strip() or "unknown"


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}×" if reference > 0 else "–"


def preamble(
    title: str, started: dt.datetime, command: str, load_before: Sequence[float]
) -> list[str]:
    """A report's title and its first lines: when, how, which commit, on what machine."""
    return [
        f"# {title}",
        "",
        f"- **date**: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- **command**: `{command}`",
        f"- **commit**: {git_commit()} (the working tree may hold uncommitted changes)",
        f"- **machine**: {os.cpu_count()} CPUs ({cpu_model()}), Linux {platform.release()}, "
        f"load average before the run {load_before[0]:.2f} / {load_before[1]:.2f} / "
        f"{load_before[2]:.2f}",
    ]


def settings_cell(ours_env: Mapping[str, str]) -> str:
    """The server settings a run changed (``--ours-env``), or "defaults"."""
    return ", ".join(f"`{name}={value}`" for name, value in ours_env.items()) or "defaults"


def write_results(output: Path, markdown: str, data: Mapping[str, object]) -> None:
    """The Markdown report to ``output`` (and stdout), the data beside it as ``.json``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown)
    output.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    print(markdown)
    log(f"wrote {output}")


# --- the suite's tables ----------------------------------------------------------------


def render_table(rows: Sequence[Row]) -> list[str]:
    ceiling = next((row for row in rows if row.key == "ceiling" and row.status == "ok"), None)
    lines = [
        "| workload | status | req/s | req/s ÷ ceiling | p50 ms | p50 ÷ ceiling "
        "| p99 ms | p99 ÷ ceiling | errors | server CPU | server RSS MiB | wrk CPU "
        "| other load | disk write / flush ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        if row.status == "skipped":
            lines.append(f"| {row.label} | skipped |{' – |' * 12}")
            continue
        if row.requests == 0:
            lines.append(f"| {row.label} | {row.status} |{' – |' * 12}")
            continue
        base_rps = ceiling.rps if ceiling else 0.0
        base_p50 = ceiling.p50_ms if ceiling else 0.0
        base_p99 = ceiling.p99_ms if ceiling else 0.0
        lines.append(
            f"| {row.label} | {row.status} | {row.rps:,.0f} | {ratio(row.rps, base_rps)} "
            f"| {row.p50_ms:.2f} | {ratio(row.p50_ms, base_p50)} "
            f"| {row.p99_ms:.2f} | {ratio(row.p99_ms, base_p99)} "
            f"| {row.errors} | {row.server_cpu_percent:.0f}% | {row.server_rss_mib:.0f} "
            f"| {row.wrk_cpu_percent:.0f}% | {row.other_cpu_percent:.0f}% | {row.disk_ms} |"
        )
    return lines


def runs_of(rows: Sequence[Row], workload: str) -> list[Row]:
    """The runs of ``workload`` (one, or its rounds), in the order they ran."""
    return [row for row in rows if row.workload == workload]


def median_of(rows: Sequence[Row], value: Callable[[Row], float]) -> float:
    return statistics.median(value(row) for row in rows)


def round_by_round(label: str, runs: Sequence[Row], others: Sequence[Row]) -> str:
    """The req/s ratio of each round of two workloads that took turns (– for a round
    either side failed)."""
    ratios = [
        ratio(mine.rps, theirs.rps) if mine.status == theirs.status == "ok" else "–"
        for mine, theirs in zip(runs, others, strict=False)
    ]
    return f"- {label}, round by round (req/s): {', '.join(ratios)}"


def render_comparisons(rows: Sequence[Row]) -> list[str]:
    lines: list[str] = []
    by_round: list[str] = []
    figures = ("rps", "p50_ms", "p99_ms", "cpu_us_per_request")
    for label, ours_key, peer_key in COMPARED:
        ours_runs, peer_runs = runs_of(rows, ours_key), runs_of(rows, peer_key)
        ours = [row for row in ours_runs if row.status == "ok"]
        peer = [row for row in peer_runs if row.status == "ok"]
        if not ours or not peer:
            continue
        medians = [
            ratio(median_of(ours, attrgetter(name)), median_of(peer, attrgetter(name)))
            for name in figures
        ]
        lines.append(f"| {label} | {len(ours)} / {len(peer)} | {' | '.join(medians)} |")
        if len(ours_runs) > 1:
            by_round.append(round_by_round(label, ours_runs, peer_runs))
    if not lines:
        return []
    return [
        "",
        "### Ours ÷ peer (node oidc-provider)",
        "",
        "Each figure is the median over the workload's runs (ours / the peer's: the count "
        "column); the token issuance rounds alternate between the two servers. Above 1 "
        "is better for req/s, below 1 is better for latency and CPU per request.",
        "",
        "| workload | runs | req/s | p50 | p99 | server CPU per request |",
        "|---|--:|--:|--:|--:|--:|",
        *lines,
        *(["", *by_round] if by_round else []),
    ]


def render_guard_cost(rows: Sequence[Row]) -> list[str]:
    """Guarded ÷ unguarded for both kinds of route (DESIGN.md §3: the guard must cost
    little on either kind of route): medians over each pair's rounds, and the ratio of
    each round."""
    lines: list[str] = []
    by_round: list[str] = []
    figures = ("rps", "p50_ms", "p99_ms", "cpu_us_per_request")
    for label, guarded_key, plain_key in GUARD_PAIRS:
        guarded_runs, plain_runs = runs_of(rows, guarded_key), runs_of(rows, plain_key)
        guarded_ok = [row for row in guarded_runs if row.status == "ok" and row.rps > 0]
        plain_ok = [row for row in plain_runs if row.status == "ok" and row.rps > 0]
        if not guarded_ok or not plain_ok:
            continue
        rps, p50, p99, cpu = (
            (median_of(guarded_ok, attrgetter(name)), median_of(plain_ok, attrgetter(name)))
            for name in figures
        )
        lines.append(
            f"| {label} | {len(guarded_ok)} / {len(plain_ok)} | {rps[0]:,.0f} | {rps[1]:,.0f} "
            f"| {ratio(*rps)} | {ratio(*p50)} | {ratio(*p99)} | {cpu[0]:,.0f} | {cpu[1]:,.0f} "
            f"| {cpu[0] - cpu[1]:+,.0f} | {ratio(*cpu)} |"
        )
        if len(guarded_runs) > 1:
            by_round.append(round_by_round(label, guarded_runs, plain_runs))
    if not lines:
        return []
    return [
        "",
        "### Guard cost: guarded ÷ unguarded (same server process, same run)",
        "",
        "The same route with and without the guard (bench/app.py; the unguarded twins exist "
        "only there). Both requests carry the same valid `Authorization: Bearer` header. "
        "Each pair runs in rounds, guarded and unguarded taking turns; each figure is the "
        "median over the pair's rounds (guarded / unguarded: the runs column). req/s ratio "
        "below 1 and latency/CPU ratios above 1 are the guard's cost; CPU per request is "
        "the server's CPU time over the window ÷ requests.",
        "",
        "| route kind | runs | guarded req/s | unguarded req/s | req/s ratio | p50 ratio "
        "| p99 ratio | CPU µs/req guarded | CPU µs/req unguarded | guard's CPU µs/req "
        "| CPU ratio |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *lines,
        *(["", *by_round] if by_round else []),
    ]


def render_auth_cost(rows: Sequence[Row]) -> list[str]:
    """Token issuance with private_key_jwt next to client_secret_basic (the median of the
    ours-token rounds): what checking an assertion (an ES256 signature, the claims, its
    jti remembered in the database) costs per request."""
    secret = [row for row in rows if row.workload == "ours-token" and row.status == "ok"]
    pkjwt = next((row for row in rows if row.key == "ours-token-pkjwt"), None)
    if not secret or pkjwt is None or pkjwt.status != "ok" or pkjwt.rps == 0:
        return []
    rps = median_of(secret, attrgetter("rps"))
    p50, p99 = median_of(secret, attrgetter("p50_ms")), median_of(secret, attrgetter("p99_ms"))
    cpu = median_of(secret, attrgetter("cpu_us_per_request"))
    key_cpu = pkjwt.cpu_us_per_request
    return [
        "",
        "### Client authentication cost: private_key_jwt ÷ client_secret_basic",
        "",
        "Token issuance with an ES256 client assertion (a fresh jti each request, signed "
        "beforehand) against the median of the ours-token rounds (HTTP Basic secret). The "
        "difference in server CPU per request is what checking the assertion costs: its "
        "signature, its claims and the jti's insert into the replay table.",
        "",
        "| client authentication | req/s | p50 ms | p99 ms | CPU µs/req |",
        "|---|--:|--:|--:|--:|",
        f"| client_secret_basic (ours-token, median) | {rps:,.0f} | {p50:.2f} | {p99:.2f} "
        f"| {cpu:,.0f} |",
        f"| private_key_jwt ES256 (ours-token-pkjwt) | {pkjwt.rps:,.0f} | {pkjwt.p50_ms:.2f} "
        f"| {pkjwt.p99_ms:.2f} | {key_cpu:,.0f} |",
        f"| private_key_jwt ÷ secret | {ratio(pkjwt.rps, rps)} | {ratio(pkjwt.p50_ms, p50)} "
        f"| {ratio(pkjwt.p99_ms, p99)} | {key_cpu - cpu:+,.0f} µs ({ratio(key_cpu, cpu)}) |",
    ]


def render_limits_cost(rows: Sequence[Row]) -> list[str]:
    """Rate limits and the lockout on ÷ off (issue 18: what counting costs a request),
    medians over each workload's runs."""
    lines: list[str] = []
    for label, on_key, off_key in LIMITS_PAIRS:
        on = [row for row in runs_of(rows, on_key) if row.status == "ok" and row.rps > 0]
        off = [row for row in runs_of(rows, off_key) if row.status == "ok" and row.rps > 0]
        if not on or not off:
            continue
        on_rps, off_rps = median_of(on, attrgetter("rps")), median_of(off, attrgetter("rps"))
        on_cpu = median_of(on, attrgetter("total_cpu_us_per_request"))
        off_cpu = median_of(off, attrgetter("total_cpu_us_per_request"))
        redis_cpu = median_of(on, lambda row: row.helper_cpu_percent / 100 / row.rps * 1e6)
        p50 = ratio(median_of(on, attrgetter("p50_ms")), median_of(off, attrgetter("p50_ms")))
        lines.append(
            f"| {label} | {len(on)} / {len(off)} | {on_rps:,.0f} | {off_rps:,.0f} "
            f"| {ratio(on_rps, off_rps)} | {p50} | {on_cpu:,.0f} | {off_cpu:,.0f} "
            f"| {on_cpu - off_cpu:+,.0f} | {redis_cpu:,.0f} |"
        )
    if not lines:
        return []
    return [
        "",
        "### Rate limits' cost: limits on ÷ off (same run)",
        "",
        "The same workload with rate limits, token quotas and the lockout on (amounts no "
        "load reaches: every request counted, none refused) and off (every other row). "
        "Medians over each workload's runs (on / off: the runs column). CPU per request "
        "counts the server's process and, for Redis, the redis-server's (pinned to the "
        "server's CPU); the last column is Redis's share.",
        "",
        "| workload | runs | req/s on | req/s off | req/s ratio | p50 ratio "
        "| CPU µs/req on | CPU µs/req off | limits' CPU µs/req | of which Redis |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *lines,
    ]


def render_memory(memory: Sequence[MemorySample]) -> list[str]:
    """The servers' RSS at several moments, and whether the RSS-check runs grew it."""
    if not memory:
        return []
    lines = [
        "",
        "### Server memory (RSS)",
        "",
        "The server's memory at each moment: the proportional set size (`Pss`) of its "
        "process and its worker, summed, so that pages they share count once.",
        "",
        "| server | moment | RSS MiB | change since the previous line |",
        "|---|---|--:|--:|",
    ]
    previous: MemorySample | None = None
    for sample in memory:
        change = (
            f"{sample.rss_mib - previous.rss_mib:+.1f}"
            if previous is not None and previous.server == sample.server
            else "–"
        )
        lines.append(f"| {sample.server} | {sample.moment} | {sample.rss_mib:.1f} | {change} |")
        previous = sample
    runs = [sample for sample in memory if sample.moment.startswith("after token run ")]
    if len(runs) >= 2:
        growth = runs[-1].rss_mib - runs[0].rss_mib
        verdict = (
            "no growth run over run"
            if growth <= RSS_GROWTH_TOLERANCE_MIB
            else "GROWS run over run: look for a leak or an unbounded cache"
        )
        lines += [
            "",
            f"RSS check: {growth:+.1f} MiB from token run 1 to token run {len(runs)} "
            f"(tolerance {RSS_GROWTH_TOLERANCE_MIB:.0f} MiB): **{verdict}**.",
        ]
    return lines


def render_report(
    rows: Sequence[Row],
    options: Options,
    command: str,
    started: dt.datetime,
    peer_version: str,
    load_before: Sequence[float],
    ours_env: Mapping[str, str],
    memory: Sequence[MemorySample] = (),
) -> str:
    notes = [f"- **{row.label}**: {'; '.join(row.notes)}" for row in rows if row.notes]
    invalid = [row.label for row in rows if row.status == "INVALID"]
    lines = [
        *preamble("Anti Grazer benchmarks", started, command, load_before),
        f"- **software**: Python {platform.python_version()}, granian "
        f"{package_version('granian')}, uvloop {package_version('uvloop')}, "
        f"FastAPI {package_version('fastapi')}, Starlette "
        f"{package_version('starlette')}; node {tool_version(['node', '--version'])}, "
        f"oidc-provider {peer_version}; {tool_version([options.wrk, '-v'])}",
        f"- **method**: the servers on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU} (taskset), "
        "one server under load at a time; "
        f"wrk 1 thread, {options.connections} keep-alive connections, {options.warmup} s "
        f"warm-up then {options.duration} s measured; every server of ours is run by "
        "`http_server` (cli/serve.py: granian, 1 worker served in the server's own process, "
        "uvloop, HTTP/1.1); CPU and RSS count the server's whole process tree. Token "
        "issuance runs "
        f"{len(runs_of(rows, 'ours-token'))} rounds on ours and "
        f"{len(runs_of(rows, 'peer-token'))} on the peer, taking turns, with both servers "
        "started (the one not measured idles)",
        "- **Anti Grazer**: `anti-grazer serve` on a fresh SQLite file, settings "
        f"{settings_cell(ours_env)}; "
        "its own JSON access log on (the default) and written to a file; rate limits and "
        "the lockout off (`RATE_LIMITS_ENABLED=false`, `LOCKOUT_FAILURES=0`) but in the "
        "`*-limited` rows (on, with amounts no load reaches). The guard rows "
        "(`ours (bench.app)`) run against `python -m bench.app` (bench/app.py: the same app "
        "built like `app_from_environment`, plus benchmark-only unguarded twins, served the "
        "same way) on the same database, after `anti-grazer serve` stopped",
        "- **peer**: node oidc-provider, client_credentials + introspection + revocation, "
        "its default in-memory adapter, one client_secret_basic client, NODE_ENV=production",
        "",
        "Ratios are to the ceiling measured in the same run (DESIGN.md §6: absolute numbers "
        "on shared machines are noisy). A row with any error (socket error, timeout or an "
        "HTTP status ≥ 400) is INVALID. Server CPU is the server process's CPU time over "
        "the measured window, as % of one core; RSS is at the end of the window; wrk CPU "
        "shows the load generator was not the bottleneck.",
        "",
        *render_table(rows),
        *render_guard_cost(rows),
        *render_auth_cost(rows),
        *render_limits_cost(rows),
        *render_comparisons(rows),
        *render_memory(memory),
    ]
    if notes:
        lines += ["", "### Notes", "", *notes]
    if invalid:
        lines += ["", f"**INVALID rows**: {', '.join(invalid)} — do not quote their figures."]
    noisy = [row.key for row in rows if row.other_cpu_percent > NOISY_OTHER_LOAD_PERCENT]
    if noisy:
        lines += [
            "",
            f"**Noisy run**: other processes used more than {NOISY_OTHER_LOAD_PERCENT:.0f}% "
            f"of a core on the benchmark CPUs during {', '.join(noisy)}; their absolute "
            "figures (and ratios to a disturbed ceiling) are depressed by an unknown "
            "amount. Rerun on a quiet machine before quoting them.",
        ]
    return "\n".join(lines) + "\n"


def suite_json(
    started: dt.datetime, command: str, rows: Sequence[Row], memory: Sequence[MemorySample]
) -> dict[str, object]:
    """latest.json: when, the command, every row and every memory sample."""
    return {
        "date": started.isoformat(),
        "command": command,
        "rows": [asdict(row) for row in rows],
        "memory": [asdict(sample) for sample in memory],
    }
