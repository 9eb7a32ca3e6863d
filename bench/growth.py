"""Growth benchmark: does Anti Grazer stay fast as the token table grows, and does purging
expired tokens leave issuance alone?  (``bench/run --growth``; not a test, asserts nothing.)

One run, on one fresh SQLite file, against server processes that live throughout:

1. **empty table**: token issuance (``POST /oauth/token``) and the protected
   ``GET /v1/profiles/...`` against ``anti-grazer serve`` (default settings, so the
   token cache is on and a repeated bearer token is mostly served from memory), and the
   protected GET against a second ``anti-grazer serve`` on the same file with the caches
   off (``ANTI_GRAZER_CACHE_TTL_SECONDS=0``: every request reads the token row).
2. ``--growth-rows`` (1,000,000) live token rows are inserted straight into the SQLite
   file (stdlib ``sqlite3``, ``executemany`` in batches of 50,000, one transaction each,
   foreign keys on), in the order the server would have issued them: the storage keys of
   tokens issued at each row's issue time (spread over the last 24 hours), the registered
   client's id, expiry spread uniformly over the next 5 minutes to 24 hours, 1 % revoked;
   datetimes written as SQLAlchemy writes them (naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``,
   checked against a row the server wrote).  Then the WAL is checkpointed (TRUNCATE).
3. **full table**: the same three workloads again; after ÷ before is the growth ratio
   (target ≥ 0.90).
4. ``--growth-rows`` EXPIRED rows are inserted (expired 1 minute to 30 days ago), issuance
   is measured once more (the baseline "without purge"), then ``anti-grazer tokens
   purge-expired`` (the CLI, its default batch size, pinned to the load CPU) runs while wrk
   drives issuance: wrk starts with the purge and is stopped (SIGINT: wrk reports what it
   measured) as soon as the purge exits, so the window is the purge's lifetime.  Then
   issuance once more, after the purge.
5. The servers' RSS at each step.

Writes ``bench/results/growth.md`` (and ``.json``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shlex
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from anti_grazer.protocol.tokens import access_token_digest, generate_access_token
from bench.measure import Probe, Row, Workload, measure, record_run
from bench.report import cpu_model, git_commit, package_version
from bench.runner import (
    BENCH_CPUS,
    HOST,
    LOAD_CPU,
    REPO_DIR,
    RESULTS_DIR,
    SERVE_BIN,
    SERVER_CPU,
    TOKEN_SCOPE,
    Server,
    basic_credentials,
    create_client,
    free_port,
    issue_token,
    log,
    ours_server,
    running,
)
from bench.sampling import Reading, Window, children_cpu_seconds, rss_mib
from bench.workloads import PROTECTED_PATH, token_workload
from bench.wrk import Options, WrkRun, parse_wrk, start_wrk, wrk_command

INSERT_BATCH = 50_000
LIVE_MIN_SECONDS = 300  # live rows expire 5 min ...
LIVE_MAX_SECONDS = 86_400  # ... to 24 h from now (the max token lifetime)
EXPIRED_MIN_SECONDS = 60  # expired rows expired 1 min ...
EXPIRED_MAX_SECONDS = 30 * 86_400  # ... to 30 days ago
TOKEN_TTL_SECONDS = 3600
REVOKED_SHARE = 0.01
GROWTH_TARGET = 0.90
PURGE_TIMEOUT_SECONDS = 900.0
WRK_CAP_SECONDS = int(PURGE_TIMEOUT_SECONDS) + 30  # wrk's -d during the purge (SIGINT ends it)
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_DATETIME_PATTERN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


# --- the database ------------------------------------------------------------------------


def sqlite_path(env: Mapping[str, str]) -> Path:
    return Path(env["ANTI_GRAZER_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=60000")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def count_tokens(path: Path) -> int:
    with connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM access_tokens").fetchone()
    connection.close()
    return int(count)


def check_datetime_format(path: Path) -> str:
    """The server's own rows must look like ours: naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    connection = connect(path)
    try:
        row = connection.execute(
            "SELECT issued_at, expires_at FROM access_tokens ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
    finally:
        connection.close()
    if row is None:
        raise RuntimeError("no server-written token row to compare the format with")
    for value in row:
        if not isinstance(value, str) or not SQLITE_DATETIME_PATTERN.match(value):
            raise RuntimeError(f"unexpected stored datetime {value!r}: update bench/growth.py")
    return str(row[1])


def uniform(low: float, high: float) -> float:
    return low + (high - low) * (int.from_bytes(os.urandom(4)) / 2**32)


def token_rows(
    client_id: str, count: int, *, expired: bool, now: float
) -> Iterator[tuple[str, str, str, str, str, str | None]]:
    """``count`` realistic rows in the order the server would have issued them, each under
    the key of a token issued at its issue time (``access_token_digest``).  Live rows were
    issued in the last 24 hours and expire in 5 minutes to 24 hours; expired rows expired 1
    minute to 30 days ago, an hour after they were issued."""
    times = []
    for _ in range(count):
        if expired:
            expires = uniform(now - EXPIRED_MAX_SECONDS, now - EXPIRED_MIN_SECONDS)
            times.append((expires - TOKEN_TTL_SECONDS, expires))
        else:
            times.append(
                (
                    uniform(now - LIVE_MAX_SECONDS, now),
                    uniform(now + LIVE_MIN_SECONDS, now + LIVE_MAX_SECONDS),
                )
            )
    times.sort()
    utc = dt.UTC
    for issued_at, expires_at in times:
        issued = dt.datetime.fromtimestamp(issued_at, utc)
        revoked = (
            dt.datetime.fromtimestamp(min(issued_at + 60, now), utc).strftime(SQLITE_DATETIME)
            if int.from_bytes(os.urandom(2)) < REVOKED_SHARE * 2**16
            else None
        )
        yield (
            access_token_digest(generate_access_token(issued)),
            client_id,
            TOKEN_SCOPE,
            issued.strftime(SQLITE_DATETIME),
            dt.datetime.fromtimestamp(expires_at, utc).strftime(SQLITE_DATETIME),
            revoked,
        )


def insert_tokens(path: Path, client_id: str, count: int, *, expired: bool) -> float:
    """Insert ``count`` rows in batches (one transaction each); seconds taken."""
    kind = "expired" if expired else "live"
    log(f"inserting {count:,} {kind} token rows into {path.name}")
    started = time.monotonic()
    connection = connect(path)
    try:
        rows = token_rows(client_id, count, expired=expired, now=time.time())
        done = 0
        while done < count:
            batch = [next(rows) for _ in range(min(INSERT_BATCH, count - done))]
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT INTO access_tokens "
                "(digest, client_id, scope, issued_at, expires_at, revoked_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            connection.execute("COMMIT")
            done += len(batch)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    seconds = time.monotonic() - started
    log(f"inserted {count:,} {kind} rows in {seconds:.1f}s")
    return seconds


# --- measurements --------------------------------------------------------------------------


@dataclass(slots=True)
class Step:
    """A growth-report line: a workload measured in one state of the table."""

    phase: str
    table_rows: int
    row: Row
    server_label: str


@dataclass(slots=True)
class PurgeResult:
    purged_rows: int = 0
    seconds: float = 0.0
    cli_cpu_percent: float = 0.0
    cli_output: str = ""
    returncode: int = 0
    window: Row | None = None
    notes: list[str] = field(default_factory=list)


def protected_workload(key: str, label: str, token: str) -> Workload:
    return Workload(
        key=key,
        label=label,
        script="bearer_get.lua",
        path=PROTECTED_PATH,
        env={"BENCH_TOKEN": token},
        probe=Probe("GET", PROTECTED_PATH, {"Authorization": f"Bearer {token}"}),
    )


def measure_phase(
    options: Options,
    phase: str,
    path: Path,
    cached: Server,
    uncached: Server,
    basic: str,
) -> list[Step]:
    rows = count_tokens(path)
    log(f"phase {phase!r}: {rows:,} rows in access_tokens")
    token = issue_token(cached.port, "/oauth/token", basic)
    suffix = phase.split(maxsplit=1)[0]
    return [
        Step(
            phase,
            rows,
            measure(options, cached, token_workload(f"token-{suffix}", "token issuance", basic)),
            "cache on (default)",
        ),
        Step(
            phase,
            rows,
            measure(
                options,
                cached,
                protected_workload(f"protected-{suffix}", "protected GET", token),
            ),
            "cache on (default)",
        ),
        Step(
            phase,
            rows,
            measure(
                options,
                uncached,
                protected_workload(f"protected-nocache-{suffix}", "protected GET", token),
            ),
            "cache off (every request reads the row)",
        ),
    ]


def window_row(run: WrkRun, server: Server, window: Window, purge_cpu: float) -> Row:
    """A Row for a wrk window measured by hand (not through ``measure``); the purge CLI
    ran on the load CPU: its CPU time is known, not "other load"."""
    row = Row("token-during-purge", "token issuance during the purge", "ours", "ok")
    record_run(row, run, server, window, accounted_cpu=purge_cpu)
    row.notes.append(f"max latency {run.latency_us['max'] / 1000:.0f} ms")
    return row


def purge_under_load(
    options: Options, server: Server, env: Mapping[str, str], basic: str
) -> PurgeResult:
    """Run ``anti-grazer tokens purge-expired`` while wrk drives issuance; wrk stops
    (SIGINT) when the purge exits."""
    result = PurgeResult()
    url = f"http://{HOST}:{server.port}/oauth/token"
    command = wrk_command(options, "token.lua", url, WRK_CAP_SECONDS)
    wrk_env = {"BENCH_BASIC": basic, "BENCH_SCOPE": TOKEN_SCOPE}
    purge_command = [
        "taskset",
        "-c",
        str(LOAD_CPU),
        str(SERVE_BIN / "anti-grazer"),
        "tokens",
        "purge-expired",
    ]
    log(f"purge: {shlex.join(purge_command)} while wrk drives issuance")
    children_before = children_cpu_seconds()
    before = Reading.now(server.pid, BENCH_CPUS)
    purge = subprocess.Popen(
        purge_command,
        cwd=REPO_DIR,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wrk = start_wrk(command, wrk_env)
    try:
        try:
            output, _ = purge.communicate(timeout=PURGE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            purge.kill()
            output, _ = purge.communicate()
            result.notes.append(f"PURGE KILLED after {PURGE_TIMEOUT_SECONDS:.0f}s")
        result.seconds = time.monotonic() - before.wall
        purge_cpu = children_cpu_seconds() - children_before  # wrk is not reaped yet
    finally:
        if wrk.poll() is None:
            wrk.send_signal(signal.SIGINT)
    wrk_output, _ = wrk.communicate(timeout=60)
    window = Window.between(before, Reading.now(server.pid, BENCH_CPUS))
    wrk_cpu = children_cpu_seconds() - children_before - purge_cpu
    (options.raw_dir / "growth-purge-window.raw").write_text(
        f"$ {shlex.join(command)}  (SIGINT when the purge exited)\n{wrk_output}"
    )
    result.returncode = purge.returncode
    result.cli_output = output.strip()
    result.cli_cpu_percent = 100 * purge_cpu / result.seconds
    found = re.search(r"purged (\d+) expired tokens", output)
    result.purged_rows = int(found.group(1)) if found else 0
    row = window_row(parse_wrk(wrk_output, wrk_cpu), server, window, purge_cpu)
    result.window = row
    log(
        f"purge: {result.purged_rows:,} rows in {result.seconds:.1f}s (exit {purge.returncode});"
        f" issuance meanwhile {row.rps:,.0f} req/s, p99 {row.p99_ms:.1f} ms"
    )
    return result


# --- report --------------------------------------------------------------------------------


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}×" if reference > 0 else "–"


def cpu_us(row: Row) -> float:
    return row.server_cpu_percent / 100 / row.rps * 1e6 if row.rps > 0 else 0.0


def row_cells(row: Row) -> str:
    return (
        f"{row.status} | {row.rps:,.0f} | {row.p50_ms:.2f} | {row.p99_ms:.2f} | {row.errors} "
        f"| {row.server_cpu_percent:.0f}% | {cpu_us(row):,.0f} | {row.server_rss_mib:.0f} "
        f"| {row.other_cpu_percent:.0f}% | {row.disk_ms}"
    )


@dataclass(slots=True)
class GrowthRun:
    started: dt.datetime
    command: str
    rows_inserted: int
    steps: list[Step] = field(default_factory=list)
    insert_seconds: dict[str, float] = field(default_factory=dict)
    purge: PurgeResult | None = None
    purge_baseline: Step | None = None
    after_purge: Step | None = None
    memory: list[tuple[str, str, float]] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)


def render(run: GrowthRun, options: Options, ours_env: Mapping[str, str]) -> str:
    settings = ", ".join(f"`{k}={v}`" for k, v in ours_env.items()) or "defaults"
    header = (
        "| workload | server | table | rows in table | status | req/s | p50 ms | p99 ms "
        "| errors | server CPU | CPU µs/req | RSS MiB | other load | disk write / flush ms |"
    )
    lines = [
        "# Anti Grazer growth benchmark",
        "",
        f"- **date**: {run.started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- **command**: `{run.command}`",
        f"- **commit**: {git_commit()} (the working tree may hold uncommitted changes)",
        f"- **machine**: {os.cpu_count()} CPUs ({cpu_model()}), Linux {platform.release()}, "
        f"load average before the run {run.load_before[0]:.2f} / {run.load_before[1]:.2f} / "
        f"{run.load_before[2]:.2f}",
        f"- **software**: Python {platform.python_version()}, granian "
        f"{package_version('granian')}, SQLAlchemy {package_version('sqlalchemy')}, "
        f"SQLite {sqlite3.sqlite_version}",
        f"- **method**: `anti-grazer serve` on CPU {SERVER_CPU}, settings {settings} (and a "
        "second one on the same file with `ANTI_GRAZER_CACHE_TTL_SECONDS=0`, idle unless "
        f"measured); wrk on CPU {LOAD_CPU}, 1 thread, {options.connections} keep-alive "
        f"connections, {options.warmup} s warm-up then {options.duration} s measured; "
        f"{run.rows_inserted:,} rows inserted with stdlib sqlite3 (batches of "
        f"{INSERT_BATCH:,}) while the servers run idle. See bench/growth.py.",
        "",
        "## Token issuance and the protected GET, empty vs. grown table",
        "",
        header,
        "|---|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for step in run.steps:
        lines.append(
            f"| {step.row.label} | {step.server_label} | {step.phase} | {step.table_rows:,} "
            f"| {row_cells(step.row)} |"
        )
    empty = [s for s in run.steps if s.phase.startswith("empty")]
    full = [s for s in run.steps if s.phase.startswith("full")]
    lines += [
        "",
        f"### Grown ÷ empty (target: req/s ratio ≥ {GROWTH_TARGET:.2f})",
        "",
        "| workload | server | req/s ratio | verdict | p50 ratio | p99 ratio | CPU/req ratio |",
        "|---|---|--:|---|--:|--:|--:|",
    ]
    for before, after in zip(empty, full, strict=True):
        if before.row.rps <= 0 or after.row.rps <= 0:
            continue
        share = after.row.rps / before.row.rps
        verdict = "meets" if share >= GROWTH_TARGET else "BELOW TARGET"
        if "INVALID" in (before.row.status, after.row.status):
            verdict = "INVALID rows"
        lines.append(
            f"| {after.row.label} | {after.server_label} | {share:.2f}× | {verdict} "
            f"| {ratio(after.row.p50_ms, before.row.p50_ms)} "
            f"| {ratio(after.row.p99_ms, before.row.p99_ms)} "
            f"| {ratio(cpu_us(after.row), cpu_us(before.row))} |"
        )
    lines += ["", "Insertion (setup, not a product path): "]
    lines[-1] += "; ".join(
        f"{kind} {run.rows_inserted:,} rows in {seconds:.1f} s"
        for kind, seconds in run.insert_seconds.items()
    )
    purge = run.purge
    if purge is not None and purge.window is not None and run.purge_baseline is not None:
        base = run.purge_baseline.row
        during = purge.window
        rate = purge.purged_rows / purge.seconds if purge.seconds > 0 else 0.0
        lines += [
            "",
            "## Purge of expired rows: `anti-grazer tokens purge-expired`",
            "",
            "| rows purged | seconds (CLI start to exit) | rows/s | CLI CPU | exit status |",
            "|--:|--:|--:|--:|--:|",
            f"| {purge.purged_rows:,} | {purge.seconds:.1f} | {rate:,.0f} "
            f"| {purge.cli_cpu_percent:.0f}% | {purge.returncode} |",
            "",
            "### Token issuance during the purge vs. without",
            "",
            "| window | rows in table | status | req/s | p50 ms | p99 ms | errors | server CPU "
            "| CPU µs/req | RSS MiB | other load | disk write / flush ms |",
            "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
            f"| without purge, just before | {run.purge_baseline.table_rows:,} "
            f"| {row_cells(base)} |",
            f"| during the purge ({during.seconds:.1f} s) | shrinking | {row_cells(during)} |",
        ]
        if run.after_purge is not None:
            lines.append(
                f"| without purge, just after | {run.after_purge.table_rows:,} "
                f"| {row_cells(run.after_purge.row)} |"
            )
        lines += [
            "",
            f"During ÷ without: req/s {ratio(during.rps, base.rps)}, p50 "
            f"{ratio(during.p50_ms, base.p50_ms)}, p99 {ratio(during.p99_ms, base.p99_ms)}. "
            "The purge CLI ran on the load CPU (with wrk); its CPU is not counted in "
            "'other load'. " + " ".join(during.notes + purge.notes),
        ]
    if run.memory:
        lines += [
            "",
            "## Server RSS",
            "",
            "| server | moment | RSS MiB |",
            "|---|---|--:|",
            *(f"| {server} | {moment} | {mib:.1f} |" for server, moment, mib in run.memory),
        ]
    noisy = [s.row.key for s in run.steps if s.row.other_cpu_percent > 25]
    if noisy:
        lines += [
            "",
            f"**Noisy run**: other load above 25% of a core during {', '.join(noisy)}.",
        ]
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------


def run_growth(
    options: Options,
    rows_to_insert: int,
    ours_env: Mapping[str, str],
    command: str,
    output: Path | None,
) -> int:
    """The growth benchmark (``bench/run --growth``); its report goes to ``output``
    (bench/results/growth.md by default); 1 if any row is INVALID or the purge failed."""
    run = GrowthRun(dt.datetime.now(dt.UTC), command, rows_to_insert)
    run.load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="anti-grazer-growth-") as scratch:
        work = Path(scratch)
        database = work / "anti-grazer.db"
        env = {"ANTI_GRAZER_DATABASE_URL": f"sqlite+aiosqlite:///{database}", **ours_env}
        client_id, client_secret = create_client(env)
        basic = basic_credentials(client_id, client_secret)
        cached = ours_server(free_port(), env, work / "anti-grazer.log")
        with running(cached):
            uncached = ours_server(
                free_port(),
                {**env, "ANTI_GRAZER_CACHE_TTL_SECONDS": "0"},
                work / "anti-grazer-nocache.log",
            )
            with running(uncached):

                def remember(moment: str) -> None:
                    run.memory.append(("serve (cache on)", moment, rss_mib(cached.pid)))
                    run.memory.append(("serve (cache off)", moment, rss_mib(uncached.pid)))

                remember("started")
                run.steps += measure_phase(options, "empty", database, cached, uncached, basic)
                sample = check_datetime_format(database)
                log(f"server-written expires_at looks like {sample!r}: same format as ours")
                remember("after the empty-table workloads")
                run.insert_seconds["live"] = insert_tokens(
                    database, client_id, rows_to_insert, expired=False
                )
                remember(f"after inserting {rows_to_insert:,} rows")
                run.steps += measure_phase(
                    options, f"full (+{rows_to_insert:,})", database, cached, uncached, basic
                )
                remember("after the grown-table workloads")
                run.insert_seconds["expired"] = insert_tokens(
                    database, client_id, rows_to_insert, expired=True
                )
                rows_before = count_tokens(database)
                run.purge_baseline = Step(
                    "before purge",
                    rows_before,
                    measure(
                        options,
                        cached,
                        token_workload("token-before-purge", "token issuance", basic),
                    ),
                    "cache on (default)",
                )
                run.purge = purge_under_load(options, cached, env, basic)
                run.after_purge = Step(
                    "after purge",
                    count_tokens(database),
                    measure(
                        options,
                        cached,
                        token_workload("token-after-purge", "token issuance", basic),
                    ),
                    "cache on (default)",
                )
                remember("after the purge and the issuance runs")
    report = render(run, options, ours_env)
    output = output or RESULTS_DIR / "growth.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    output.with_suffix(".json").write_text(
        json.dumps(
            {
                "date": run.started.isoformat(),
                "command": command,
                "rows_inserted": rows_to_insert,
                "steps": [asdict(step) for step in run.steps],
                "insert_seconds": run.insert_seconds,
                "purge": asdict(run.purge) if run.purge else None,
                "purge_baseline": asdict(run.purge_baseline) if run.purge_baseline else None,
                "after_purge": asdict(run.after_purge) if run.after_purge else None,
                "memory": run.memory,
            },
            indent=2,
        )
        + "\n"
    )
    print(report)
    log(f"wrote {output}")
    rows = [step.row for step in run.steps]
    if run.purge is not None and run.purge.window is not None:
        rows.append(run.purge.window)
    invalid = any(row.status == "INVALID" for row in rows)
    return 1 if invalid or (run.purge is not None and run.purge.returncode != 0) else 0
