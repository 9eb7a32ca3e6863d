"""The Redis of the rows whose rate limits are counted there (``ours-*-limited-redis``):
Debian's ``redis-server`` (installed if missing), on 127.0.0.1 and a free port, pinned
to the server's CPU (its work is part of the server's cost per request), nothing kept on
disk, stopped with the run."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.runner import HOST, SERVER_CPU, debian_tool, free_port, log

READY_TIMEOUT_SECONDS = 10.0


def ensure_redis() -> str:
    """The path of ``redis-server``, installing the Debian package if it is missing."""
    return debian_tool("redis-server", "redis-server")


@dataclass(frozen=True, slots=True)
class Redis:
    """A running redis-server: the URL the server is given, and its process id."""

    url: str
    pid: int


def answers_ping(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


@contextlib.contextmanager
def running_redis(work: Path) -> Iterator[Redis]:
    port = free_port()
    command = [
        *("taskset", "-c", str(SERVER_CPU), ensure_redis()),
        *("--bind", HOST, "--port", str(port), "--dir", str(work)),
        *("--save", "", "--appendonly", "no"),
    ]
    log(f"starting redis-server on port {port}")
    with (work / "redis.log").open("w") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start (see {work / 'redis.log'})")
            time.sleep(0.05)
        yield Redis(f"redis://{HOST}:{port}/0", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
