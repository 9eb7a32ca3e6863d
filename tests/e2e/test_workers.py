"""The processes of ``anti-grazer serve``: one worker is the server process itself
(cli/serve.py ``OneProcessServer``); several are forked worker processes, which end with
the server process however it ends, so that no worker serves on alone (web/asgi.py
``end_with_the_server``)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.process import cli_environment, run_cli, serving, sqlite_url

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def test_one_worker_is_the_server_process_itself(tmp_path: Path) -> None:
    env = cli_environment(sqlite_url(tmp_path / "anti-grazer.db"))
    with serving(env, tmp_path / "server.log", ["--workers", "1"]) as server:
        assert children(server.process.pid) == []
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
        events = [json.loads(line)["event"] for line in server.log_text().splitlines()]
        assert "application_stopping" in events


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_end_when_the_server_is_killed(tmp_path: Path, workers: int) -> None:
    env = cli_environment(sqlite_url(tmp_path / "anti-grazer.db"))
    with serving(env, tmp_path / "server.log", ["--workers", str(workers)]) as server:
        deadline = time.monotonic() + 15
        while len(spawned := children(server.process.pid)) < workers:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.05)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=5)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in spawned):
            assert time.monotonic() < deadline, f"workers {spawned} outlived the server"
            time.sleep(0.05)


def test_a_second_server_on_a_served_port_refuses_to_start(tmp_path: Path) -> None:
    """granian binds with SO_REUSEPORT: without the check, the second server would share
    the port with the first, the kernel splitting the connections between them."""
    env = cli_environment(sqlite_url(tmp_path / "anti-grazer.db"))
    with serving(env, tmp_path / "server.log") as server:
        port = server.base_url.rsplit(":", 1)[1]
        second = run_cli(["serve", "--host", "127.0.0.1", "--port", port], env)
        assert second.returncode == 1
        assert second.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
        assert alive(server.process.pid)
