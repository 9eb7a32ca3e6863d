"""The Anti Grazer load benchmarks (DESIGN.md §6): the command line of ``bench/run`` (or
``.venv/bin/python -m bench.run``).

It installs what it lacks (``wrk`` from apt, node ``oidc-provider`` from npm into
``bench/peer/node_modules``, the servers' production install in ``bench/.venv-serve``),
then runs the suite (bench/suite.py: the raw-ASGI ceiling, Anti Grazer and the
reference peer, each a real process pinned to CPU 0 and driven by ``wrk`` on CPU 1) and
writes ``bench/results/latest.md`` (and stdout) and ``latest.json`` (bench/report.py); or,
with ``--growth``, the growth benchmark (bench/growth.py).  bench/README.md describes
every workload and how to read the tables.

Not a test: pytest never collects it, and nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.growth import run_growth
from bench.peer import ensure_peer
from bench.report import render_report, suite_json, write_results
from bench.runner import LOAD_CPU, RESULTS_DIR, ensure_serving_venv
from bench.suite import GUARD_ROUNDS, TOKEN_ROUNDS, run_suite
from bench.workloads import (
    PEER_KEYS,
    PROTECTED_PATH,
    UNGUARDED_PATH,
    WORKLOAD_KEYS,
    any_selected,
)
from bench.wrk import Options, ensure_wrk


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Load benchmarks: ceiling, Anti Grazer and node oidc-provider under wrk.",
    )
    parser.add_argument("--duration", type=int, default=10, help="measured seconds (10)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds (3)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive conns (32)")
    parser.add_argument(
        "--token-rounds",
        type=int,
        default=TOKEN_ROUNDS,
        help=f"token issuance runs per server, alternating ours and the peer's ({TOKEN_ROUNDS})",
    )
    parser.add_argument(
        "--guard-rounds",
        type=int,
        default=GUARD_ROUNDS,
        help=f"runs of each guard-cost pair, alternating guarded and unguarded ({GUARD_ROUNDS})",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated workload keys (the ceiling always runs): " + ", ".join(WORKLOAD_KEYS),
    )
    parser.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for anti-grazer, e.g. ANTI_GRAZER_LOG_LEVEL=warning",
    )
    parser.add_argument(
        "--unguarded-path",
        default=UNGUARDED_PATH,
        help=f"the unguarded twin of {PROTECTED_PATH} ({UNGUARDED_PATH})",
    )
    parser.add_argument(
        "--pool-seconds",
        type=int,
        default=None,
        help="seconds spent issuing the revocation pool (default: warm-up + duration + 2)",
    )
    parser.add_argument(
        "--no-drift-check",
        action="store_true",
        help="skip measuring the ceiling again at the end",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where the Markdown report goes (bench/results/latest.md; with --growth "
        "bench/results/growth.md)",
    )
    parser.add_argument(
        "--growth",
        action="store_true",
        help="run the growth benchmark (bench/growth.py) instead of the suite: issuance and "
        "the protected GET on an empty token table and on one with --growth-rows more "
        "rows, then the purge of --growth-rows expired rows under issuance load",
    )
    parser.add_argument(
        "--growth-rows",
        type=int,
        default=1_000_000,
        help="rows inserted for --growth, live and then expired (1,000,000)",
    )
    args = parser.parse_args(argv)
    if (
        args.duration < 1
        or args.warmup < 0
        or args.connections < 1
        or args.token_rounds < 1
        or args.guard_rounds < 1
    ):
        parser.error(
            "--duration >= 1, --warmup >= 0, --connections >= 1, --token-rounds >= 1, "
            "--guard-rounds >= 1"
        )
    if args.only is not None:
        unknown = set(args.only.split(",")) - set(WORKLOAD_KEYS)
        if unknown:
            parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    for item in args.ours_env:
        if "=" not in item:
            parser.error(f"--ours-env wants NAME=VALUE, got {item!r}")
    if args.growth and args.growth_rows < 1:
        parser.error("--growth-rows must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(arguments)
    launcher = os.environ.get("BENCH_LAUNCHER", "python -m bench.run")
    command = shlex.join([*shlex.split(launcher), *arguments])
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("bench: needs 2 CPUs (server on CPU 0, wrk on CPU 1)")
    # The orchestrator mostly waits; keep it off the server's core all the same.
    os.sched_setaffinity(0, {LOAD_CPU})
    only = set(args.only.split(",")) if args.only else None
    ours_env = dict(item.split("=", 1) for item in args.ours_env)

    wrk = ensure_wrk()
    ensure_serving_venv()
    RESULTS_DIR.mkdir(exist_ok=True)
    options = Options(wrk, args.duration, args.warmup, args.connections, RESULTS_DIR)
    if args.growth:
        return run_growth(options, args.growth_rows, ours_env, command, args.output)

    peer_version = ensure_peer() if any_selected(only, PEER_KEYS) else "not run"
    pool_seconds = args.pool_seconds or (args.warmup + args.duration + 2)
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    rows, memory = run_suite(
        options,
        only,
        ours_env,
        args.unguarded_path,
        pool_seconds,
        args.token_rounds,
        args.guard_rounds,
        drift_check=not args.no_drift_check,
    )
    report = render_report(
        rows, options, command, started, peer_version, load_before, ours_env, memory
    )
    data = suite_json(started, command, rows, memory)
    write_results(args.output or RESULTS_DIR / "latest.md", report, data)
    return 1 if any(row.status == "INVALID" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
