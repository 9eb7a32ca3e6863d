"""Prometheus metrics of a real ``anti-grazer serve`` (issue 18 item 4): scraped at
``http://METRICS_HOST:METRICS_PORT/metrics``, in the text exposition format that
prometheus-client's parser reads; never on the public port; with ``--workers 2`` the
counts of both worker processes added up (multiprocess mode, in a private directory
removed when the server stops)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    free_port,
    run_cli,
    serving,
    sqlite_url,
)
from tests.http_helpers import TOKEN
from tests.scrape import value

pytestmark = pytest.mark.slow


def scrape(port: int) -> str:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


def issue_tokens(server: ServerProcess, client: CreatedClient, count: int) -> list[str]:
    """``count`` tokens, each over a connection of its own (any worker may take it)."""
    tokens = []
    for _ in range(count):
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            response = http.post(
                TOKEN,
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            )
        assert response.status_code == 200, response.text
        tokens.append(response.json()["access_token"])
    return tokens


def wait_for(port: int, name: str, expected: float) -> str:
    deadline = time.monotonic() + 15
    while (exposition := scrape(port)) and value(exposition, name) < expected:
        assert time.monotonic() < deadline, exposition
        time.sleep(0.1)
    return exposition


def test_one_worker_serves_its_metrics_on_the_metrics_address_only(tmp_path: Path) -> None:
    port = free_port()
    env = cli_environment(sqlite_url(tmp_path / "anti-grazer.db"), metrics_port=str(port))
    client = create_client(env)
    with serving(env, tmp_path / "server.log") as server:
        tokens = issue_tokens(server, client, 3)
        wrong = httpx.post(
            f"{server.base_url}{TOKEN}",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, "ag_cs_wrong"),
        )
        assert wrong.status_code == 401
        assert httpx.get(f"{server.base_url}/metrics").status_code == 404
        exposition = scrape(port)
    families = {family.name for family in text_string_to_metric_families(exposition)}
    assert {"anti_grazer_http_requests", "process_cpu_seconds"} <= families
    assert value(exposition, "anti_grazer_worker_starts_total") == 1
    assert value(exposition, "anti_grazer_tokens_issued_total", client_id=client.client_id) == 3
    assert value(exposition, "anti_grazer_http_requests_total", route=TOKEN, status="200") == 3
    assert value(exposition, "anti_grazer_http_requests_total", route=TOKEN, status="401") == 1
    assert value(exposition, "anti_grazer_client_auth_failures_total", reason="invalid_client") == 1
    assert client.client_secret not in exposition
    assert not any(token in exposition for token in tokens)


def test_two_workers_counts_are_added_up(tmp_path: Path) -> None:
    port = free_port()
    env = cli_environment(sqlite_url(tmp_path / "anti-grazer.db"), metrics_port=str(port))
    client = create_client(env)
    with serving(env, tmp_path / "server.log", ["--workers", "2"]) as server:
        wait_for(port, "anti_grazer_worker_starts_total", 2)
        issue_tokens(server, client, 10)
        exposition = scrape(port)
        started = [
            json.loads(line)
            for line in server.log_text().splitlines()
            if '"metrics_listening"' in line
        ]
        directory = Path(started[0]["multiprocess_directory"])
        assert directory.is_dir()
    assert value(exposition, "anti_grazer_worker_starts_total") == 2
    assert value(exposition, "anti_grazer_tokens_issued_total", client_id=client.client_id) == 10
    assert value(exposition, "anti_grazer_http_requests_total", route=TOKEN, status="200") == 10
    assert value(exposition, "anti_grazer_http_requests_in_flight") == 0
    assert not directory.exists()  # removed when the server stopped


def test_a_busy_metrics_port_stops_the_server_from_starting(tmp_path: Path) -> None:
    env = cli_environment(sqlite_url(tmp_path / "anti-grazer.db"))
    with serving(
        {**env, "ANTI_GRAZER_METRICS_PORT": str(free_port())}, tmp_path / "a.log"
    ) as first:
        busy = json.loads(
            next(line for line in first.log_text().splitlines() if "metrics_listening" in line)
        )["port"]
        second = run_cli(
            ["serve", "--port", str(free_port())], {**env, "ANTI_GRAZER_METRICS_PORT": str(busy)}
        )
    assert second.returncode == 1
    assert second.stderr.startswith(f"Error: cannot listen for metrics on 127.0.0.1:{busy}: ")
