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
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from bench.growth_report import GrowthRun, PurgeResult, Step, growth_json, render
from bench.measure import MemorySample, Row, measure, record_run
from bench.report import write_results
from bench.runner import (
    BENCH_CPUS,
    HOST,
    LOAD_CPU,
    REPO_DIR,
    RESULTS_DIR,
    SERVE_BIN,
    TOKEN_PATH,
    Server,
    basic_credentials,
    create_client,
    database_env,
    free_port,
    issue_token,
    log,
    ours_server,
    running,
)
from bench.sampling import Reading, Window, children_cpu_seconds, rss_mib
from bench.token_rows import check_datetime_format, count_tokens, insert_tokens
from bench.workloads import LIMITS_OFF, PROTECTED_PATH, bearer_workload, token_workload
from bench.wrk import Options, parse_wrk, start_wrk, wrk_command

PURGE_TIMEOUT_SECONDS = 900.0
WRK_CAP_SECONDS = int(PURGE_TIMEOUT_SECONDS) + 30  # wrk's -d during the purge (SIGINT ends it)
CACHED = "cache on (default)"
UNCACHED = "cache off (every request reads the row)"


def measure_phase(
    options: Options,
    phase: str,
    path: Path,
    cached: Server,
    uncached: Server,
    basic: str,
) -> list[Step]:
    """Token issuance and the protected GET (cache on), and the protected GET (cache off),
    in one state of the table."""
    rows = count_tokens(path)
    log(f"phase {phase!r}: {rows:,} rows in access_tokens")
    token = issue_token(cached.port, TOKEN_PATH, basic)
    suffix = phase.split(maxsplit=1)[0]
    issuance = token_workload(f"token-{suffix}", "token issuance", basic)
    protected = bearer_workload(f"protected-{suffix}", "protected GET", PROTECTED_PATH, token)
    protected_uncached = bearer_workload(
        f"protected-nocache-{suffix}", "protected GET", PROTECTED_PATH, token
    )
    return [
        Step(phase, rows, measure(options, cached, issuance), CACHED),
        Step(phase, rows, measure(options, cached, protected), CACHED),
        Step(phase, rows, measure(options, uncached, protected_uncached), UNCACHED),
    ]


def purge_under_load(
    options: Options, server: Server, env: Mapping[str, str], basic: str
) -> PurgeResult:
    """Run ``anti-grazer tokens purge-expired`` while wrk drives issuance; wrk stops
    (SIGINT) when the purge exits."""
    result = PurgeResult()
    workload = token_workload("token-during-purge", "token issuance during the purge", basic)
    url = f"http://{HOST}:{server.port}{workload.path}"
    command = wrk_command(options, workload.script, url, WRK_CAP_SECONDS)
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
    wrk = start_wrk(command, workload.env)
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
    # The purge CLI ran on the load CPU: its CPU time is known, not "other load".
    row = Row(workload.key, workload.label, server.name, "ok")
    run = parse_wrk(wrk_output, wrk_cpu)
    record_run(row, run, server, window, accounted_cpu=purge_cpu)
    row.notes.append(f"max latency {run.latency_us['max'] / 1000:.0f} ms")
    result.window = row
    log(
        f"purge: {result.purged_rows:,} rows in {result.seconds:.1f}s (exit {purge.returncode});"
        f" issuance meanwhile {row.rps:,.0f} req/s, p99 {row.p99_ms:.1f} ms"
    )
    return result


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
        env = {**database_env(database), **LIMITS_OFF, **ours_env}
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
                    run.memory.append(MemorySample("serve (cache on)", moment, rss_mib(cached.pid)))
                    run.memory.append(
                        MemorySample("serve (cache off)", moment, rss_mib(uncached.pid))
                    )

                def issuance(key: str, phase: str) -> Step:
                    workload = token_workload(key, "token issuance", basic)
                    rows = count_tokens(database)
                    return Step(phase, rows, measure(options, cached, workload), CACHED)

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
                run.purge_baseline = issuance("token-before-purge", "before purge")
                run.purge = purge_under_load(options, cached, env, basic)
                run.after_purge = issuance("token-after-purge", "after purge")
                remember("after the purge and the issuance runs")
    write_results(
        output or RESULTS_DIR / "growth.md", render(run, options, ours_env), growth_json(run)
    )
    rows = [step.row for step in run.steps]
    if run.purge is not None and run.purge.window is not None:
        rows.append(run.purge.window)
    invalid = any(row.status == "INVALID" for row in rows)
    return 1 if invalid or (run.purge is not None and run.purge.returncode != 0) else 0
