"""One workload measured against one running server: the workload's definition (wrk
script, path, environment, probe), the probe, the warm-up, the measured wrk run with the
server sampled around it, and the resulting ``Row`` of the report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bench.runner import BENCH_CPUS, HOST, Server, ServerName, http_call, log
from bench.sampling import Reading, Window, cpu_seconds, rss_mib
from bench.wrk import Options, WrkRun, run_wrk

Status = Literal["ok", "INVALID", "skipped"]


@dataclass(frozen=True, slots=True)
class Probe:
    """One request made before a workload runs, to check it answers what wrk will count
    as success (wrk itself only counts statuses >= 400 as errors)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: str | None = None
    expect_status: int = 200
    skip_if_404: bool = False


@dataclass(frozen=True, slots=True)
class Workload:
    key: str
    label: str
    script: str
    path: str
    env: Mapping[str, str]
    probe: Probe
    note: str = ""
    # Called with the warm-up's run to adjust the measured run's environment (the
    # revocation pool's offset).
    after_warmup: Callable[[WrkRun], Mapping[str, str]] | None = None
    # Called with the measured run: a note to add (e.g. the share of fresh tokens).
    describe: Callable[[WrkRun], str] | None = None
    # The workload this run is one round of (the alternating token rounds), else its key.
    group: str = ""
    # Processes the server uses (its Redis): their CPU time is part of its cost.
    helpers: tuple[int, ...] = ()


@dataclass(slots=True)
class Row:
    """One measured run as the reports show it (and latest.json stores it)."""

    key: str
    label: str
    server: ServerName
    status: Status
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    error_detail: dict[str, int] = field(default_factory=dict)
    server_cpu_percent: float = 0.0
    server_rss_mib: float = 0.0
    wrk_cpu_percent: float = 0.0
    other_cpu_percent: float = 0.0
    disk_write_ms: float = 0.0
    disk_flush_ms: float = 0.0
    requests: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    group: str = ""  # see Workload.group; "" is the key itself
    helper_cpu_percent: float = 0.0  # the workload's helpers' CPU (its Redis)

    @property
    def workload(self) -> str:
        """The workload this row measured (its group, for one round of several)."""
        return self.group or self.key

    @property
    def cpu_us_per_request(self) -> float:
        """The server's CPU time per request over the measured window, in µs."""
        return self.server_cpu_percent / 100 / self.rps * 1e6 if self.rps > 0 else 0.0

    @property
    def total_cpu_us_per_request(self) -> float:
        """The server's and its helpers' CPU time per request, in µs."""
        cpu = self.server_cpu_percent + self.helper_cpu_percent
        return cpu / 100 / self.rps * 1e6 if self.rps > 0 else 0.0

    @property
    def disk_ms(self) -> str:
        """The scratch disk's mean write and flush latency during the run, in ms."""
        return f"{self.disk_write_ms:.2f} / {self.disk_flush_ms:.2f}"


@dataclass(frozen=True, slots=True)
class MemorySample:
    """The RSS of one server process at one moment."""

    server: str
    moment: str
    rss_mib: float


def record_run(
    row: Row, run: WrkRun, server: Server, window: Window, accounted_cpu: float = 0.0
) -> None:
    """Fill ``row`` from a measured wrk run and the ``window`` sampled around it: rate,
    latency, errors (any makes the row INVALID), the server's CPU and RSS, wrk's CPU,
    the disk, and the other load: whatever else ran on the two benchmark CPUs meanwhile
    (other processes, hypervisor steal) besides ``accounted_cpu`` seconds the caller
    knows of; the figures of a row with much of it are depressed."""
    seconds = window.seconds
    row.server_rss_mib = rss_mib(server.pid)
    row.server_cpu_percent = 100 * window.process_cpu / seconds
    row.wrk_cpu_percent = 100 * run.wrk_cpu_seconds / seconds
    others = window.busy_cpu - window.process_cpu - run.wrk_cpu_seconds - accounted_cpu
    row.other_cpu_percent = max(0.0, 100 * others / seconds)
    row.disk_write_ms, row.disk_flush_ms = window.disk_write_ms, window.disk_flush_ms
    row.rps = run.rps
    row.p50_ms = run.latency_us["p50"] / 1000
    row.p99_ms = run.latency_us["p99"] / 1000
    row.errors = run.error_count
    row.error_detail = {name: count for name, count in run.errors.items() if count}
    row.requests = run.requests
    row.seconds = run.seconds
    if row.errors or run.requests == 0:
        row.status = "INVALID"
        row.notes.append(f"errors: {row.error_detail or 'no requests completed'}")


def measure(options: Options, server: Server, workload: Workload) -> Row:
    """Probe, warm up, then the measured run with the server's CPU and RSS sampled."""
    row = Row(workload.key, workload.label, server.name, "ok", group=workload.group)
    if workload.note:
        row.notes.append(workload.note)
    probe = workload.probe
    answer = http_call(server.port, probe.method, probe.path, probe.headers, probe.body)
    if answer.status == 404 and probe.skip_if_404:
        row.status = "skipped"
        row.notes.append(f"{probe.path} answers 404: the route is not in the app yet")
        log(f"{workload.key}: skipped ({probe.path} answers 404)")
        return row
    if answer.status != probe.expect_status:
        row.status = "INVALID"
        row.notes.append(
            f"probe answered {answer.status} (expected {probe.expect_status}): "
            f"{answer.body[:120]!r}"
        )
        log(f"{workload.key}: INVALID, probe answered {answer.status}: {answer.body[:300]!r}")
        return row

    url = f"http://{HOST}:{server.port}{workload.path}"
    env = dict(workload.env)
    if options.warmup > 0:
        log(f"{workload.key}: warm-up {options.warmup}s")
        warm = run_wrk(options, workload.script, url, env, options.warmup, None)
        if workload.after_warmup is not None:
            env.update(workload.after_warmup(warm))
    server.check_alive()
    log(f"{workload.key}: measuring {options.duration}s")
    helpers_before = sum(cpu_seconds(pid) for pid in workload.helpers)
    before = Reading.now(server.pid, BENCH_CPUS)
    result = run_wrk(options, workload.script, url, env, options.duration, workload.key)
    window = Window.between(before, Reading.now(server.pid, BENCH_CPUS))
    helpers_cpu = sum(cpu_seconds(pid) for pid in workload.helpers) - helpers_before
    server.check_alive()
    record_run(row, result, server, window, helpers_cpu)
    row.helper_cpu_percent = 100 * helpers_cpu / window.seconds
    if workload.describe is not None:
        row.notes.append(workload.describe(result))
    log(
        f"{workload.key}: {row.rps:,.0f} req/s, p50 {row.p50_ms:.2f} ms, "
        f"p99 {row.p99_ms:.2f} ms, errors {row.errors}, server CPU "
        f"{row.server_cpu_percent:.0f}%, RSS {row.server_rss_mib:.0f} MiB, other load "
        f"{row.other_cpu_percent:.0f}%, disk write/flush {row.disk_ms} ms"
    )
    return row
