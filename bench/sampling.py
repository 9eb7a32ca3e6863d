"""What the benchmarks read from the kernel around a measured window: a process tree's CPU
time and RSS, the busy time of the benchmark's CPUs (whoever used them), the scratch disk's
write and flush counters, and the CPU time of the child processes reaped so far.

A window is the difference of two ``Reading`` s: ``Window.between(before, after)``.
"""

from __future__ import annotations

import functools
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (the server's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        for child in children:
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
    """The memory of ``pid`` and its workers, in MiB: the sum of their proportional set
    sizes (/proc/<pid>/smaps_rollup ``Pss``), so that pages a forked worker shares with
    its server process are counted once, not once per process."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
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


def children_cpu_seconds() -> float:
    """User + system CPU seconds of every child process reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


@dataclass(frozen=True, slots=True)
class Reading:
    """The counters a measured window is the difference of, read at one moment: the
    clock, one process tree's CPU time, the benchmark CPUs' busy time, the scratch disk."""

    wall: float
    process_cpu: float
    busy_cpu: float
    disk: DiskCounters | None

    @classmethod
    def now(cls, pid: int, cpus: Sequence[int]) -> Reading:
        return cls(time.monotonic(), cpu_seconds(pid), busy_cpu_seconds(cpus), disk_counters())


@dataclass(frozen=True, slots=True)
class Window:
    """What happened between two readings: seconds, the process tree's CPU seconds, the
    CPUs' busy seconds (anyone's), and the mean ms per disk write and per flush (0
    without any: a slow host disk shows here, and with ``synchronous=FULL`` every token
    waits for one flush)."""

    seconds: float
    process_cpu: float
    busy_cpu: float
    disk_write_ms: float
    disk_flush_ms: float

    @classmethod
    def between(cls, before: Reading, after: Reading) -> Window:
        write_ms = flush_ms = 0.0
        if before.disk is not None and after.disk is not None:
            writes = after.disk.writes - before.disk.writes
            flushes = after.disk.flushes - before.disk.flushes
            if writes:
                write_ms = (after.disk.write_ms - before.disk.write_ms) / writes
            if flushes:
                flush_ms = (after.disk.flush_ms - before.disk.flush_ms) / flushes
        return cls(
            after.wall - before.wall,
            after.process_cpu - before.process_cpu,
            after.busy_cpu - before.busy_cpu,
            write_ms,
            flush_ms,
        )
