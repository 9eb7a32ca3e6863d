"""The load generator: ``wrk`` installed if missing, started pinned to ``LOAD_CPU`` (one
thread, keep-alive connections, a Lua script from bench/lua/), and its report parsed from
the ``BENCH_JSON`` line each script's ``done()`` prints (through ``common.lua``)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.runner import BENCH_DIR, LOAD_CPU, debian_tool
from bench.sampling import children_cpu_seconds

LUA_DIR = BENCH_DIR / "lua"
WRK_TIMEOUT = "5s"  # a request slower than this counts as a (timeout) error


def ensure_wrk() -> str:
    """The path of ``wrk``, installing the Debian package if it is missing."""
    return debian_tool("wrk", "wrk")


@dataclass(frozen=True, slots=True)
class Options:
    """How every wrk run of one benchmark goes, and where its raw output is kept."""

    wrk: str
    duration: int
    warmup: int
    connections: int
    raw_dir: Path


@dataclass(frozen=True, slots=True)
class WrkRun:
    """What one wrk run reported, and the CPU time wrk itself used."""

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
    """Start wrk in bench/lua/ (where the scripts ``dofile("common.lua")``); the scripts
    read their secrets and tokens from ``env``, never from the command line."""
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
    """One wrk run of ``duration`` seconds to its end; its output goes to
    ``<raw_name>.raw`` in ``options.raw_dir`` when named."""
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
