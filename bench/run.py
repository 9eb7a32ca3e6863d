"""The Anti Grazer load benchmarks (DESIGN.md §6): one command, three real servers.

``bench/run`` (or ``.venv/bin/python -m bench.run``) installs what it lacks (``wrk`` from
apt, node ``oidc-provider`` from npm into ``bench/peer/node_modules``), then for each
server — the raw-ASGI ceiling (``bench/ceiling.py``), Anti Grazer itself
(``anti-grazer serve`` on a fresh SQLite file) and the reference peer (node
``oidc-provider``, ``bench/peer/server.mjs``) — starts it as a real process pinned to CPU
0, drives each of its workloads with ``wrk`` pinned to CPU 1 (1 thread, keep-alive
connections, a warm-up run then the measured run), and records req/s, p50/p99 latency,
errors, the server's CPU and RSS.  Token issuance runs in rounds that alternate between
Anti Grazer and the peer, both started (``token_rounds``), so that the ratio of the two
does not rest on two moments of a drifting machine.  The Markdown table goes to
``bench/results/latest.md`` (and stdout), with every figure as a ratio to the ceiling
measured in the same run.

Not a test: pytest never collects it, and nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import functools
import http.client
import importlib.metadata
import json
import os
import platform
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Literal, TextIO

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
LUA_DIR = BENCH_DIR / "lua"
PEER_DIR = BENCH_DIR / "peer"
RESULTS_DIR = BENCH_DIR / "results"
# The servers run from a production install of the project (``pip install .``, no dev
# extras), as deployed: the dev venv also holds the test and lint tools, and some of
# them change what the server imports (import-linter brings rich, which structlog then
# loads: about 3 MiB more in the server).
SERVE_VENV = BENCH_DIR / ".venv-serve"
SERVE_BIN = SERVE_VENV / "bin"

SERVER_CPU = 0
LOAD_CPU = 1
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
WRK_TIMEOUT = "5s"  # a request slower than this counts as a (timeout) error

# The client both authorization servers know, and the scope every token request names
# (ours would grant its default scope anyway; the peer needs it spelled out).
CLIENT_SCOPE = "reports:write profiles:read"
TOKEN_SCOPE = "profiles:read"  # noqa: S105 (a scope, not a secret)

# ---------------------------------------------------------------------------------------
# The resource-server workloads (DESIGN.md §3 last sentence, §6 "a protected request") run
# against bench/app.py: the product app plus, for benchmarking only, the unguarded twin of
# the profile route and a guarded/plain pair of plain Starlette routes.
#   * PROTECTED_PATH is served by a FastAPI route guarded by require_scopes("profiles:read").
#   * UNGUARDED_PATH is the same handler without the guard (bench/app.py builds it from the
#     product's route), so that "protected / unguarded" is the guard's cost alone.
#   * STARLETTE_GUARDED_PATH / STARLETTE_PLAIN_PATH: a fixed-JSON Starlette endpoint with
#     and without @requires_bearer("profiles:read").
PROTECTED_PATH = "/v1/profiles/facebook/some-profile"
UNGUARDED_PATH = "/bench/unguarded/profiles/facebook/some-profile"
STARLETTE_GUARDED_PATH = "/bench/starlette/guarded"
STARLETTE_PLAIN_PATH = "/bench/starlette/plain"
RSS_RUNS = 3  # token workload runs against one server process for the RSS check
TOKEN_ROUNDS = 5  # token issuance runs per server, ours and the peer's taking turns
# ---------------------------------------------------------------------------------------

ServerName = Literal["ceiling", "ours", "peer"]
Status = Literal["ok", "INVALID", "skipped"]


# --- small helpers ----------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def basic_credentials(client_id: str, client_secret: str) -> str:
    """base64(id:secret) for ``Authorization: Basic`` (RFC 6749 §2.3.1 form-encodes both
    first; the ids and secrets used here are URL-safe already)."""
    return base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: bytes

    def json(self) -> dict[str, object]:
        loaded = json.loads(self.body)
        if not isinstance(loaded, dict):
            raise ValueError(f"expected a JSON object, got {self.body[:200]!r}")
        return loaded


def http_call(
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    timeout: float = 5.0,
) -> HttpAnswer:
    """One HTTP/1.1 request to ``127.0.0.1:port``."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return HttpAnswer(response.status, response.read())
    finally:
        connection.close()


def form_headers(basic: str) -> dict[str, str]:
    return {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def issue_token(port: int, path: str, basic: str) -> str:
    """A fresh access token by client_credentials from the server on ``port``."""
    answer = http_call(
        port,
        "POST",
        path,
        form_headers(basic),
        f"grant_type=client_credentials&scope={TOKEN_SCOPE}",
    )
    if answer.status != 200:
        raise RuntimeError(f"token request answered {answer.status}: {answer.body[:300]!r}")
    token = answer.json().get("access_token")
    if not isinstance(token, str):
        raise RuntimeError(f"no access_token in {answer.body[:300]!r}")
    return token


# --- /proc sampling ---------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (the server's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found.extend(process_tree(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` and its workers so far, in seconds
    (/proc/<pid>/stat)."""
    total = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """VmRSS of ``pid`` and its workers, in MiB (/proc/<pid>/status)."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def busy_cpu_seconds(cpus: Sequence[int]) -> float:
    """Busy time (everything but idle and iowait, steal included) of ``cpus`` so far, in
    seconds, from /proc/stat: whatever ran there, ours or not."""
    wanted = {f"cpu{cpu}" for cpu in cpus}
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name in wanted:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in values[:8])
            total += user + nice + system + irq + softirq + steal
    return total / CLOCK_TICKS


@dataclass(frozen=True, slots=True)
class DiskCounters:
    """A block device's write and flush (``fsync``) counters so far (/proc/diskstats)."""

    writes: int
    write_ms: int
    flushes: int
    flush_ms: int


@functools.cache
def scratch_disk() -> str | None:
    """The /proc/diskstats name of the whole disk under the temporary directory, where
    the benchmarks' databases live; None when it is no block device (tmpfs)."""
    device = os.stat(tempfile.gettempdir()).st_dev
    sysfs = Path(f"/sys/dev/block/{os.major(device)}:{os.minor(device)}")
    if not sysfs.exists():
        return None
    sysfs = sysfs.resolve()
    # Flushes are counted on the whole disk, not on its partitions.
    return sysfs.parent.name if (sysfs / "partition").exists() else sysfs.name


def disk_counters() -> DiskCounters | None:
    """The scratch disk's counters now: fields 5 and 8 (writes completed, ms writing) and
    16 and 17 (flushes completed, ms flushing) after the device name."""
    disk = scratch_disk()
    for line in Path("/proc/diskstats").read_text().splitlines() if disk else ():
        fields = line.split()
        if fields[2] == disk and len(fields) >= 20:
            return DiskCounters(int(fields[7]), int(fields[10]), int(fields[18]), int(fields[19]))
    return None


def mean_disk_ms(before: DiskCounters | None, after: DiskCounters | None) -> tuple[float, float]:
    """Mean ms per write and per flush between two readings (0 without any): a slow host
    disk shows here, and with ``synchronous=FULL`` every token waits for one flush."""
    if before is None or after is None:
        return 0.0, 0.0
    writes, flushes = after.writes - before.writes, after.flushes - before.flushes
    return (
        (after.write_ms - before.write_ms) / writes if writes else 0.0,
        (after.flush_ms - before.flush_ms) / flushes if flushes else 0.0,
    )


# --- installation -----------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of ``wrk``, installing the Debian package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise SystemExit("bench: wrk is missing and there is no apt-get; install wrk")
    log("installing wrk (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk is still missing after apt-get install")
    return found


def pinned_peer_version() -> str:
    manifest = json.loads((PEER_DIR / "package.json").read_text())
    version: str = manifest["dependencies"]["oidc-provider"]
    return version


def installed_peer_version() -> str | None:
    manifest = PEER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if not manifest.exists():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


def ensure_peer() -> str:
    """Install the pinned ``oidc-provider`` into bench/peer/node_modules (``npm ci``, from
    the committed package-lock.json) unless it is there already; returns its version."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("bench: node and npm are needed for the reference peer")
    if installed_peer_version() != pinned_peer_version():
        log(f"installing oidc-provider {pinned_peer_version()} (npm ci in bench/peer)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)
    version = installed_peer_version()
    if version is None:
        raise SystemExit("bench: npm ci did not install oidc-provider")
    return version


def ensure_serving_venv() -> None:
    """Create bench/.venv-serve if missing, then install the working tree into it (a
    regular, not editable, install of the project and its runtime dependencies only)."""
    if not (SERVE_BIN / "python").exists():
        log(f"creating {SERVE_VENV.relative_to(REPO_DIR)} (the servers' production install)")
        subprocess.run([sys.executable, "-m", "venv", str(SERVE_VENV)], check=True)
    log(f"installing the working tree into {SERVE_VENV.relative_to(REPO_DIR)}")
    # setuptools builds in build/ and never removes what it copied there before: a module
    # deleted from src/ would still be installed.
    shutil.rmtree(REPO_DIR / "build", ignore_errors=True)
    subprocess.run(
        [
            str(SERVE_BIN / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(REPO_DIR),
        ],
        check=True,
    )


# --- servers ----------------------------------------------------------------------------


@dataclass
class Server:
    """A server process pinned to ``SERVER_CPU``, with its workers; ``pid`` is the server
    itself (taskset execs it); CPU time and RSS are counted over it and its workers."""

    name: ServerName
    argv: list[str]
    port: int
    ready_path: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: TextIO | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def start(self) -> None:
        command = ["taskset", "-c", str(SERVER_CPU), *self.argv]
        log(f"starting {self.name}: {shlex.join(command)}")
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_DIR,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_call(self.port, "GET", self.ready_path, timeout=1.0).status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {READY_TIMEOUT_SECONDS}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        if self._log is not None:
            self._log.close()
            self._log = None

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"{self.name} died:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --- wrk --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrkRun:
    requests: int
    seconds: float
    errors: dict[str, int]
    latency_us: dict[str, float]
    extra: dict[str, float]
    wrk_cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True, slots=True)
class Options:
    wrk: str
    duration: int
    warmup: int
    connections: int
    raw_dir: Path


def wrk_command(options: Options, script: str, url: str, duration: int) -> list[str]:
    """wrk pinned to ``LOAD_CPU``: 1 thread, keep-alive connections, the Lua script."""
    return [
        "taskset",
        "-c",
        str(LOAD_CPU),
        options.wrk,
        "-t1",
        f"-c{options.connections}",
        f"-d{duration}s",
        f"--timeout={WRK_TIMEOUT}",
        "-s",
        str(LUA_DIR / script),
        url,
    ]


def start_wrk(command: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        list(command),
        cwd=LUA_DIR,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def parse_wrk(output: str, wrk_cpu_seconds: float) -> WrkRun:
    """The ``BENCH_JSON`` line the Lua ``done()`` printed."""
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            return WrkRun(
                requests=int(data["requests"]),
                seconds=float(data["duration_us"]) / 1e6,
                errors={name: int(count) for name, count in data["errors"].items()},
                latency_us={name: float(value) for name, value in data["latency_us"].items()},
                extra={name: float(value) for name, value in (data["extra"] or {}).items()},
                wrk_cpu_seconds=wrk_cpu_seconds,
            )
    raise RuntimeError(f"no BENCH_JSON line in wrk output:\n{output[-2000:]}")


def run_wrk(
    options: Options,
    script: str,
    url: str,
    env: Mapping[str, str],
    duration: int,
    raw_name: str | None,
) -> WrkRun:
    """One wrk run pinned to ``LOAD_CPU`` (1 thread, keep-alive); the Lua ``done()``
    prints the ``BENCH_JSON`` line this parses."""
    command = wrk_command(options, script, url, duration)
    children_before = children_cpu_seconds()
    process = start_wrk(command, env)
    try:
        output, _ = process.communicate(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(f"wrk did not finish: {shlex.join(command)}") from None
    # wrk has been reaped: its CPU time is now part of RUSAGE_CHILDREN (no other child
    # of ours ends while it runs: the servers outlive it).
    usage = children_cpu_seconds() - children_before
    if raw_name is not None:
        (options.raw_dir / f"{raw_name}.raw").write_text(f"$ {shlex.join(command)}\n{output}")
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output[-2000:]}")
    return parse_wrk(output, usage)


def children_cpu_seconds() -> float:
    """User + system CPU seconds of every child process reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- workloads and results --------------------------------------------------------------


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


@dataclass(slots=True)
class Row:
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

    @property
    def workload(self) -> str:
        """The workload this row measured (its group, for one round of several)."""
        return self.group or self.key


def record_run(
    row: Row, run: WrkRun, server: Server, wall: float, server_cpu: float, wrk_cpu: float
) -> None:
    """Fill ``row`` from a measured wrk run: rate, latency, errors (any makes the row
    INVALID), the server's CPU and RSS, and wrk's CPU over the ``wall`` seconds."""
    row.server_rss_mib = rss_mib(server.pid)
    row.server_cpu_percent = 100 * server_cpu / wall
    row.wrk_cpu_percent = 100 * wrk_cpu / wall
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
    cpu_before = cpu_seconds(server.pid)
    busy_before = busy_cpu_seconds((SERVER_CPU, LOAD_CPU))
    disk_before = disk_counters()
    wall_before = time.monotonic()
    result = run_wrk(options, workload.script, url, env, options.duration, workload.key)
    wall = time.monotonic() - wall_before
    busy = busy_cpu_seconds((SERVER_CPU, LOAD_CPU)) - busy_before
    row.disk_write_ms, row.disk_flush_ms = mean_disk_ms(disk_before, disk_counters())
    cpu = cpu_seconds(server.pid) - cpu_before
    server.check_alive()
    record_run(row, result, server, wall, cpu, result.wrk_cpu_seconds)
    # Anything else that ran on the two benchmark cores meanwhile (other processes,
    # hypervisor steal): the figures of a row with much of it are depressed.
    row.other_cpu_percent = max(0.0, 100 * (busy - cpu - result.wrk_cpu_seconds) / wall)
    if workload.describe is not None:
        row.notes.append(workload.describe(result))
    log(
        f"{workload.key}: {row.rps:,.0f} req/s, p50 {row.p50_ms:.2f} ms, "
        f"p99 {row.p99_ms:.2f} ms, errors {row.errors}, server CPU "
        f"{row.server_cpu_percent:.0f}%, RSS {row.server_rss_mib:.0f} MiB, other load "
        f"{row.other_cpu_percent:.0f}%, disk write/flush {disk_cell(row)} ms"
    )
    return row


def selected(only: set[str] | None, key: str) -> bool:
    return only is None or key in only or key == "ceiling"


def any_selected(only: set[str] | None, keys: Sequence[str]) -> bool:
    return any(selected(only, key) for key in keys)


DRIFT_LABEL = "ceiling again, at the end (drift check; ratios use the first)"
DRIFT_TOLERANCE = 0.15
NOISY_OTHER_LOAD_PERCENT = 25.0


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


# --- the three servers ------------------------------------------------------------------


def ceiling_argv(port: int) -> list[str]:
    """The ceiling served like ``anti-grazer serve`` serves the product (bench/ceiling.py)."""
    return [str(SERVE_BIN / "python"), "-m", "bench.ceiling", "--port", str(port)]


def bench_ceiling(options: Options, work: Path, key: str, label: str) -> list[Row]:
    port = free_port()
    server = Server("ceiling", ceiling_argv(port), port, "/", work / f"{key}.log")
    workload = Workload(
        key=key,
        label=label,
        script="ceiling.lua",
        path="/",
        env={},
        probe=Probe("GET", "/", {}),
    )
    with running(server):
        return [measure(options, server, workload)]


def create_client(env: Mapping[str, str]) -> tuple[str, str]:
    """Register the benchmark client with the CLI; its id and secret."""
    completed = subprocess.run(
        [
            str(SERVE_BIN / "anti-grazer"),
            "clients",
            "create",
            "bench",
            "--scope",
            CLIENT_SCOPE,
            "--default-scope",
            TOKEN_SCOPE,
            "--json",
        ],
        cwd=REPO_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"clients create failed: {completed.stderr[-2000:]}")
    created = json.loads(completed.stdout.strip().splitlines()[-1])
    return str(created["client_id"]), str(created["client_secret"])


def fill_token_pool(options: Options, server: Server, basic: str, path: Path, seconds: int) -> int:
    """Issue tokens for ``seconds`` (not measured) and keep them in ``path``."""
    log(f"ours-revoke-fresh: issuing a pool of tokens for {seconds}s (not measured)")
    run = run_wrk(
        options,
        "collect_tokens.lua",
        f"http://{HOST}:{server.port}/oauth/token",
        {"BENCH_BASIC": basic, "BENCH_SCOPE": TOKEN_SCOPE, "BENCH_TOKEN_OUT": str(path)},
        seconds,
        None,
    )
    if run.error_count:
        raise RuntimeError(f"filling the token pool failed: {run.errors}")
    return sum(1 for line in path.read_text().splitlines() if line)


@dataclass(frozen=True, slots=True)
class MemorySample:
    """The RSS of one server process at one moment."""

    server: str
    moment: str
    rss_mib: float


def ours_server(port: int, env: Mapping[str, str], log_path: Path) -> Server:
    """``anti-grazer serve`` (the product, exactly as shipped)."""
    return Server(
        "ours",
        [str(SERVE_BIN / "anti-grazer"), "serve", "--port", str(port)],
        port,
        "/health",
        log_path,
        env=dict(env),
    )


def bench_app_server(port: int, env: Mapping[str, str], log_path: Path) -> Server:
    """``bench.app:app`` (product app + the benchmark-only routes) served like ``serve``."""
    return Server(
        "ours",
        [str(SERVE_BIN / "python"), "-m", "bench.app", "--port", str(port)],
        port,
        "/health",
        log_path,
        env=dict(env),
    )


def token_workload(
    key: str,
    label: str,
    basic: str,
    path: str = "/oauth/token",
    *,
    group: str = "",
    note: str = "",
) -> Workload:
    """POST ``path`` for a token with client_secret_basic (RFC 6749 §4.4.2)."""
    token_body = f"grant_type=client_credentials&scope={TOKEN_SCOPE}"
    return Workload(
        key=key,
        label=label,
        script="token.lua",
        path=path,
        env={"BENCH_BASIC": basic, "BENCH_SCOPE": TOKEN_SCOPE},
        probe=Probe("POST", path, form_headers(basic), token_body),
        note=note,
        group=group,
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

    def round(self, number: int, rounds: int) -> Workload:
        return token_workload(
            f"{self.key}-{number}",
            f"{self.label}, round {number}/{rounds}",
            self.basic,
            self.path,
            group=self.key,
            note=self.note if number == 1 else "",
        )


def token_rounds(options: Options, contenders: Sequence[Contender], rounds: int) -> list[Row]:
    """Token issuance, ``rounds`` times per contender, taking turns: ours, the peer's,
    ours, ...  The machine's speed drifts (±15 % over tens of seconds on a shared VM,
    bench/README.md); rounds side by side see the same machine, and the comparison
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
    memory: list[MemorySample],
) -> list[Row]:
    """Anti Grazer and the peer, both started for the token rounds (the one not measured
    idles); then each one's other workloads; then the guard rows against bench/app.py."""
    database = work / "anti-grazer.db"
    env = {"ANTI_GRAZER_DATABASE_URL": f"sqlite+aiosqlite:///{database}", **extra_env}
    wants_ours = any_selected(only, (*OURS_SERVE_KEYS, *OURS_GUARD_KEYS))
    basic = basic_credentials(*create_client(env)) if wants_ours else ""
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        peer: Contender | None = None
        if any_selected(only, PEER_KEYS):
            peer = stack.enter_context(running_peer(work))
        rival = peer if peer is not None and selected(only, "peer-token") else None
        if any_selected(only, OURS_SERVE_KEYS):
            rows += bench_ours_serve(
                options, work, only, env, basic, pool_seconds, memory, rival, rounds
            )
        elif rival is not None:
            rows += token_rounds(options, [rival], rounds)
        if peer is not None:
            rows += bench_peer(options, peer, only)
    if any_selected(only, OURS_GUARD_KEYS):
        rows += bench_ours_guard(options, work, only, env, basic, unguarded_path, memory)
    return rows


OURS_SERVE_KEYS = ("ours-token", "ours-revoke-fresh", "ours-revoke-same", "ours-rss")
OURS_GUARD_KEYS = (
    "ours-protected",
    "ours-unguarded",
    "ours-starlette-guarded",
    "ours-starlette-plain",
)
PEER_KEYS = ("peer-introspect", "peer-token", "peer-revoke-same")


def bench_ours_serve(
    options: Options,
    work: Path,
    only: set[str] | None,
    env: Mapping[str, str],
    basic: str,
    pool_seconds: int,
    memory: list[MemorySample],
    rival: Contender | None,
    rounds: int,
) -> list[Row]:
    """The authorization-server workloads against ``anti-grazer serve``; the token
    rounds take turns with ``rival`` (the peer, already running) if given."""
    headers = form_headers(basic)
    port = free_port()
    server = ours_server(port, env, work / "anti-grazer.log")
    rows: list[Row] = []
    with running(server):
        memory.append(MemorySample("anti-grazer serve", "started", rss_mib(server.pid)))
        contenders = [rival] if rival is not None else []
        if selected(only, "ours-token"):
            label = "ours: token issuance (POST /oauth/token)"
            contenders.insert(0, Contender(server, "ours-token", label, basic, "/oauth/token"))
        rows += token_rounds(options, contenders, rounds)

        if selected(only, "ours-revoke-fresh"):
            pool = work / "token-pool.txt"
            pool_size = fill_token_pool(options, server, basic, pool, pool_seconds)
            log(f"ours-revoke-fresh: {pool_size} tokens in the pool")
            offset = {"value": 0}

            def after_warmup(warm: WrkRun) -> dict[str, str]:
                offset["value"] = int(warm.extra.get("sent", 0))
                return {"BENCH_TOKEN_OFFSET": str(offset["value"])}

            def describe(result: WrkRun) -> str:
                sent = int(result.extra.get("sent", 0)) - offset["value"]
                fresh = max(0, min(sent, pool_size - offset["value"]))
                share = 100 * fresh / sent if sent else 0.0
                return f"{share:.0f}% of requests revoked a live token (pool {pool_size:,})"

            rows.append(
                measure(
                    options,
                    server,
                    Workload(
                        key="ours-revoke-fresh",
                        label="ours: revocation, a live token each (POST /oauth/revoke)",
                        script="revoke.lua",
                        path="/oauth/revoke",
                        env={"BENCH_BASIC": basic, "BENCH_TOKEN_FILE": str(pool)},
                        probe=Probe("POST", "/oauth/revoke", headers, "token=not-a-token"),
                        after_warmup=after_warmup,
                        describe=describe,
                    ),
                )
            )

        if selected(only, "ours-revoke-same"):
            token = issue_token(port, "/oauth/token", basic)
            rows.append(
                measure(
                    options,
                    server,
                    Workload(
                        key="ours-revoke-same",
                        label="ours: revocation, the same token again (already revoked)",
                        script="revoke.lua",
                        path="/oauth/revoke",
                        env={"BENCH_BASIC": basic, "BENCH_TOKEN": token},
                        probe=Probe("POST", "/oauth/revoke", headers, f"token={token}"),
                    ),
                )
            )

        memory.append(
            MemorySample("anti-grazer serve", "after the workloads above", rss_mib(server.pid))
        )
        # The RSS check: the token workload again, RSS_RUNS times, same process.
        if selected(only, "ours-rss"):
            for run in range(1, RSS_RUNS + 1):
                row = measure(
                    options,
                    server,
                    token_workload(
                        f"ours-rss-{run}",
                        f"ours: token issuance again, run {run}/{RSS_RUNS} (RSS check)",
                        basic,
                    ),
                )
                rows.append(row)
                memory.append(
                    MemorySample(
                        "anti-grazer serve",
                        f"after token run {run}/{RSS_RUNS}",
                        rss_mib(server.pid),
                    )
                )
    return rows


def bench_ours_guard(
    options: Options,
    work: Path,
    only: set[str] | None,
    env: Mapping[str, str],
    basic: str,
    unguarded_path: str,
    memory: list[MemorySample],
) -> list[Row]:
    """The guard-cost workloads against bench/app.py (same database, after the above)."""
    port = free_port()
    server = bench_app_server(port, env, work / "bench-app.log")
    rows: list[Row] = []
    with running(server):
        token = issue_token(port, "/oauth/token", basic)
        bearer = {"Authorization": f"Bearer {token}"}
        pairs = (
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
            (
                "ours-starlette-guarded",
                f"ours (bench.app): Starlette GET {STARLETTE_GUARDED_PATH}, @requires_bearer "
                "(valid bearer)",
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
        )
        for key, label, path, guarded in pairs:
            if not selected(only, key):
                continue
            # The unguarded twins get the same Authorization header (ignored): the
            # request bytes differ only by the path.
            rows.append(
                measure(
                    options,
                    server,
                    Workload(
                        key=key,
                        label=label,
                        script="bearer_get.lua",
                        path=path,
                        env={"BENCH_TOKEN": token},
                        probe=Probe("GET", path, bearer if guarded else {}, skip_if_404=True),
                    ),
                )
            )
        memory.append(
            MemorySample("bench.app (guard rows)", "after its workloads", rss_mib(server.pid))
        )
    return rows


PEER_TOKEN_PATH = "/token"  # noqa: S105 (a path, not a secret)
PEER_INTROSPECTION_PATH = "/token/introspection"
PEER_REVOCATION_PATH = "/token/revocation"


@contextlib.contextmanager
def running_peer(work: Path) -> Iterator[Contender]:
    """node oidc-provider with one client_secret_basic client, running."""
    client_id = "bench-peer-client"
    client_secret = secrets.token_urlsafe(32)
    port = free_port()
    server = Server(
        "peer",
        ["node", str(PEER_DIR / "server.mjs"), str(port), client_id, client_secret],
        port,
        "/.well-known/openid-configuration",
        work / "peer.log",
        env={"NODE_ENV": "production"},
    )
    with running(server):
        yield Contender(
            server,
            "peer-token",
            f"peer: token issuance (POST {PEER_TOKEN_PATH})",
            basic_credentials(client_id, client_secret),
            PEER_TOKEN_PATH,
            note="in-memory LRU store of 1,000 entries: nothing durable",
        )


def bench_peer(options: Options, peer: Contender, only: set[str] | None) -> list[Row]:
    """The peer's workloads besides token issuance (``token_rounds``)."""
    server, basic = peer.server, peer.basic
    headers = form_headers(basic)
    rows: list[Row] = []
    if selected(only, "peer-introspect"):
        # Issued just before: the in-memory adapter is an LRU of 1,000 entries, and
        # nothing else issues tokens while this runs.
        token = issue_token(server.port, PEER_TOKEN_PATH, basic)
        body = f"token={token}"

        def still_active(_result: WrkRun) -> str:
            answer = http_call(server.port, "POST", PEER_INTROSPECTION_PATH, headers, body)
            active = answer.status == 200 and answer.json().get("active") is True
            return "token active throughout" if active else "TOKEN NO LONGER ACTIVE"

        rows.append(
            measure(
                options,
                server,
                Workload(
                    key="peer-introspect",
                    label=f"peer: introspection (POST {PEER_INTROSPECTION_PATH})",
                    script="introspect.lua",
                    path=PEER_INTROSPECTION_PATH,
                    env={"BENCH_BASIC": basic, "BENCH_TOKEN": token},
                    probe=Probe("POST", PEER_INTROSPECTION_PATH, headers, body),
                    describe=still_active,
                ),
            )
        )
    if selected(only, "peer-revoke-same"):
        token = issue_token(server.port, PEER_TOKEN_PATH, basic)
        rows.append(
            measure(
                options,
                server,
                Workload(
                    key="peer-revoke-same",
                    label="peer: revocation, the same token again (already revoked)",
                    script="revoke.lua",
                    path=PEER_REVOCATION_PATH,
                    env={"BENCH_BASIC": basic, "BENCH_TOKEN": token},
                    probe=Probe("POST", PEER_REVOCATION_PATH, headers, f"token={token}"),
                ),
            )
        )
    return rows


# --- report -----------------------------------------------------------------------------


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def tool_version(command: Sequence[str]) -> str:
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


def disk_cell(row: Row) -> str:
    """The scratch disk's mean write and flush latency during ``row``, in ms."""
    return f"{row.disk_write_ms:.2f} / {row.disk_flush_ms:.2f}"


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
            f"| {row.wrk_cpu_percent:.0f}% | {row.other_cpu_percent:.0f}% | {disk_cell(row)} |"
        )
    return lines


COMPARED = (
    ("token issuance", "ours-token", "peer-token"),
    ("revocation of an already revoked token", "ours-revoke-same", "peer-revoke-same"),
)


def runs_of(rows: Sequence[Row], workload: str) -> list[Row]:
    """The runs of ``workload`` (one, or its rounds), in the order they ran."""
    return [row for row in rows if row.workload == workload]


def median_of(rows: Sequence[Row], value: Callable[[Row], float]) -> float:
    return statistics.median(value(row) for row in rows)


def render_comparisons(rows: Sequence[Row]) -> list[str]:
    lines: list[str] = []
    by_round: list[str] = []
    for label, ours_key, peer_key in COMPARED:
        ours_runs, peer_runs = runs_of(rows, ours_key), runs_of(rows, peer_key)
        ours = [row for row in ours_runs if row.status == "ok"]
        peer = [row for row in peer_runs if row.status == "ok"]
        if not ours or not peer:
            continue
        medians = [
            ratio(median_of(ours, value), median_of(peer, value))
            for value in (attrgetter("rps"), attrgetter("p50_ms"), attrgetter("p99_ms"))
        ]
        medians.append(
            ratio(median_of(ours, cpu_us_per_request), median_of(peer, cpu_us_per_request))
        )
        lines.append(f"| {label} | {len(ours)} / {len(peer)} | {' | '.join(medians)} |")
        if len(ours_runs) > 1:
            pairs = zip(ours_runs, peer_runs, strict=False)
            ratios = [
                ratio(mine.rps, theirs.rps) if mine.status == theirs.status == "ok" else "–"
                for mine, theirs in pairs
            ]
            by_round.append(f"- {label}, round by round (req/s): {', '.join(ratios)}")
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


def cpu_us_per_request(row: Row) -> float:
    """The server's CPU time per request over the measured window, in µs."""
    return row.server_cpu_percent / 100 / row.rps * 1e6 if row.rps > 0 else 0.0


GUARD_PAIRS = (
    ("FastAPI route (require_scopes dependency)", "ours-protected", "ours-unguarded"),
    ("plain Starlette route (@requires_bearer)", "ours-starlette-guarded", "ours-starlette-plain"),
)


def render_guard_cost(rows: Sequence[Row]) -> list[str]:
    """Guarded ÷ unguarded for both kinds of route (DESIGN.md §3: the guard must cost
    little on either kind of route)."""
    by_key = {row.key: row for row in rows if row.status == "ok" and row.rps > 0}
    lines: list[str] = []
    for label, guarded_key, plain_key in GUARD_PAIRS:
        guarded, plain = by_key.get(guarded_key), by_key.get(plain_key)
        if guarded is None or plain is None:
            continue
        guarded_cpu, plain_cpu = cpu_us_per_request(guarded), cpu_us_per_request(plain)
        lines.append(
            f"| {label} | {guarded.rps:,.0f} | {plain.rps:,.0f} "
            f"| {ratio(guarded.rps, plain.rps)} | {ratio(guarded.p50_ms, plain.p50_ms)} "
            f"| {ratio(guarded.p99_ms, plain.p99_ms)} | {guarded_cpu:,.0f} | {plain_cpu:,.0f} "
            f"| {guarded_cpu - plain_cpu:+,.0f} | {ratio(guarded_cpu, plain_cpu)} |"
        )
    if not lines:
        return []
    return [
        "",
        "### Guard cost: guarded ÷ unguarded (same server process, same run)",
        "",
        "The same route with and without the guard (bench/app.py; the unguarded twins exist "
        "only there). Both requests carry the same valid `Authorization: Bearer` header. "
        "req/s ratio below 1 and latency/CPU ratios above 1 are the guard's cost; CPU per "
        "request is the server's CPU time over the window ÷ requests.",
        "",
        "| route kind | guarded req/s | unguarded req/s | req/s ratio | p50 ratio | p99 ratio "
        "| CPU µs/req guarded | CPU µs/req unguarded | guard's CPU µs/req | CPU ratio |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *lines,
    ]


RSS_GROWTH_TOLERANCE_MIB = 2.0


def render_memory(memory: Sequence[MemorySample]) -> list[str]:
    """The servers' RSS at several moments, and whether the RSS-check runs grew it."""
    if not memory:
        return []
    lines = [
        "",
        "### Server memory (RSS)",
        "",
        "`VmRSS` of the server process (one process throughout per server) at each moment.",
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
    load_before: tuple[float, float, float],
    ours_env: Mapping[str, str],
    memory: Sequence[MemorySample] = (),
) -> str:
    notes = [f"- **{row.label}**: {'; '.join(row.notes)}" for row in rows if row.notes]
    invalid = [row.label for row in rows if row.status == "INVALID"]
    settings = ", ".join(f"`{name}={value}`" for name, value in ours_env.items()) or "defaults"
    lines = [
        "# Anti Grazer benchmarks",
        "",
        f"- **date**: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- **command**: `{command}`",
        f"- **commit**: {git_commit()} (the working tree may hold uncommitted changes)",
        f"- **machine**: {os.cpu_count()} CPUs ({cpu_model()}), Linux {platform.release()}, "
        f"load average before the run {load_before[0]:.2f} / {load_before[1]:.2f} / "
        f"{load_before[2]:.2f}",
        f"- **software**: Python {platform.python_version()}, granian "
        f"{package_version('granian')}, uvloop {package_version('uvloop')}, "
        f"FastAPI {package_version('fastapi')}, Starlette "
        f"{package_version('starlette')}; node {tool_version(['node', '--version'])}, "
        f"oidc-provider {peer_version}; {tool_version([options.wrk, '-v'])}",
        f"- **method**: the servers on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU} (taskset), "
        "one server under load at a time; "
        f"wrk 1 thread, {options.connections} keep-alive connections, {options.warmup} s "
        f"warm-up then {options.duration} s measured; every server of ours is run by "
        "`http_server` (cli/serve.py: granian, 1 worker, uvloop, HTTP/1.1); CPU and RSS "
        "count its main process and its worker. Token issuance runs "
        f"{len(runs_of(rows, 'ours-token'))} rounds on ours and "
        f"{len(runs_of(rows, 'peer-token'))} on the peer, taking turns, with both servers "
        "started (the one not measured idles)",
        f"- **Anti Grazer**: `anti-grazer serve` on a fresh SQLite file, settings {settings}; "
        "its own JSON access log on (the default) and written to a file. The guard rows "
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


# --- main -------------------------------------------------------------------------------

WORKLOAD_KEYS = (
    "ceiling",
    "ours-token",
    "ours-revoke-fresh",
    "ours-revoke-same",
    "ours-rss",
    "ours-protected",
    "ours-unguarded",
    "ours-starlette-guarded",
    "ours-starlette-plain",
    "peer-introspect",
    "peer-token",
    "peer-revoke-same",
)


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
    if args.duration < 1 or args.warmup < 0 or args.connections < 1 or args.token_rounds < 1:
        parser.error("--duration >= 1, --warmup >= 0, --connections >= 1, --token-rounds >= 1")
    if args.only is not None:
        unknown = set(args.only.split(",")) - set(WORKLOAD_KEYS)
        if unknown:
            parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    for item in args.ours_env:
        if "=" not in item:
            parser.error(f"--ours-env wants NAME=VALUE, got {item!r}")
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
    pool_seconds = args.pool_seconds or (args.warmup + args.duration + 2)

    if args.growth:
        from bench.growth import run_growth  # noqa: PLC0415 (only this mode needs it)

        return run_growth(args, command)

    wrk = ensure_wrk()
    ensure_serving_venv()
    wants_peer = any_selected(only, PEER_KEYS)
    peer_version = ensure_peer() if wants_peer else "not run"
    RESULTS_DIR.mkdir(exist_ok=True)
    options = Options(wrk, args.duration, args.warmup, args.connections, RESULTS_DIR)
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()

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
            args.unguarded_path,
            pool_seconds,
            args.token_rounds,
            memory,
        )
        if not args.no_drift_check:
            rows += bench_ceiling(options, work, "ceiling-end", DRIFT_LABEL)
            note_drift(rows)

    report = render_report(
        rows, options, command, started, peer_version, load_before, ours_env, memory
    )
    output: Path = args.output or RESULTS_DIR / "latest.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    output.with_suffix(".json").write_text(
        json.dumps(
            {
                "date": started.isoformat(),
                "command": command,
                "rows": [asdict(r) for r in rows],
                "memory": [asdict(m) for m in memory],
            },
            indent=2,
        )
        + "\n"
    )
    print(report)
    log(f"wrote {output}")
    return 1 if any(row.status == "INVALID" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
