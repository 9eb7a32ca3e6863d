"""The growth benchmark's report: its steps → bench/results/growth.md (also printed) and
growth.json; grown ÷ empty per workload, the purge and issuance during it, the RSS."""

from __future__ import annotations

import datetime as dt
import platform
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass, field

from bench.measure import MemorySample, Row
from bench.report import (
    NOISY_OTHER_LOAD_PERCENT,
    package_version,
    preamble,
    ratio,
    settings_cell,
)
from bench.runner import LOAD_CPU, SERVER_CPU
from bench.token_rows import INSERT_BATCH
from bench.wrk import Options

GROWTH_TARGET = 0.90


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


@dataclass(slots=True)
class GrowthRun:
    """Everything one growth run measured, in the order it ran."""

    started: dt.datetime
    command: str
    rows_inserted: int
    steps: list[Step] = field(default_factory=list)
    insert_seconds: dict[str, float] = field(default_factory=dict)
    purge: PurgeResult | None = None
    purge_baseline: Step | None = None
    after_purge: Step | None = None
    memory: list[MemorySample] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)


def row_cells(row: Row) -> str:
    return (
        f"{row.status} | {row.rps:,.0f} | {row.p50_ms:.2f} | {row.p99_ms:.2f} | {row.errors} "
        f"| {row.server_cpu_percent:.0f}% | {row.cpu_us_per_request:,.0f} "
        f"| {row.server_rss_mib:.0f} | {row.other_cpu_percent:.0f}% | {row.disk_ms}"
    )


def render(run: GrowthRun, options: Options, ours_env: Mapping[str, str]) -> str:
    header = (
        "| workload | server | table | rows in table | status | req/s | p50 ms | p99 ms "
        "| errors | server CPU | CPU µs/req | RSS MiB | other load | disk write / flush ms |"
    )
    lines = [
        *preamble("Anti Grazer growth benchmark", run.started, run.command, run.load_before),
        f"- **software**: Python {platform.python_version()}, granian "
        f"{package_version('granian')}, SQLAlchemy {package_version('sqlalchemy')}, "
        f"SQLite {sqlite3.sqlite_version}",
        f"- **method**: `anti-grazer serve` on CPU {SERVER_CPU}, settings "
        f"{settings_cell(ours_env)} (and a "
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
            f"| {ratio(after.row.cpu_us_per_request, before.row.cpu_us_per_request)} |"
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
            *(f"| {m.server} | {m.moment} | {m.rss_mib:.1f} |" for m in run.memory),
        ]
    noisy = [s.row.key for s in run.steps if s.row.other_cpu_percent > NOISY_OTHER_LOAD_PERCENT]
    if noisy:
        lines += [
            "",
            f"**Noisy run**: other load above {NOISY_OTHER_LOAD_PERCENT:.0f}% of a core "
            f"during {', '.join(noisy)}.",
        ]
    return "\n".join(lines) + "\n"


def growth_json(run: GrowthRun) -> dict[str, object]:
    """growth.json: the run's steps, insertions, purge and memory (as [server, moment,
    MiB] lists)."""
    return {
        "date": run.started.isoformat(),
        "command": run.command,
        "rows_inserted": run.rows_inserted,
        "steps": [asdict(step) for step in run.steps],
        "insert_seconds": run.insert_seconds,
        "purge": asdict(run.purge) if run.purge else None,
        "purge_baseline": asdict(run.purge_baseline) if run.purge_baseline else None,
        "after_purge": asdict(run.after_purge) if run.after_purge else None,
        "memory": [astuple(sample) for sample in run.memory],
    }
