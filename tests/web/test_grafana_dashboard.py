"""The Grafana dashboard in the repository (docs/grafana/anti-grazer.json, issue 18
item 4): it loads, and every panel's PromQL names only metrics this server exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from anti_grazer.web.metrics import prometheus_metrics
from tests.scrape import exported_names, in_process

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "anti-grazer.json"
METRIC_NAME = re.compile(r"\banti_grazer_[a-z0-9_]+\b")
# Every panel an operator opens first, by the metric it reads.
EXPECTED = {
    "anti_grazer_http_requests_total",
    "anti_grazer_http_request_duration_seconds_bucket",
    "anti_grazer_tokens_issued_total",
    "anti_grazer_client_auth_failures_total",
    "anti_grazer_lockouts_started_total",
    "anti_grazer_rate_limited_requests_total",
    "anti_grazer_redis_errors_total",
    "anti_grazer_storage_batch_size_bucket",
    "anti_grazer_storage_commit_duration_seconds_bucket",
    "anti_grazer_cache_hits_total",
    "anti_grazer_cache_misses_total",
}


def test_every_panel_queries_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    prometheus_metrics()  # this process's metrics, registered on first use
    exported = exported_names(in_process())
    named: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(METRIC_NAME.findall(target["expr"]))
            assert names, target["expr"]
            assert names <= exported, (panel["title"], names - exported)
            named |= names
    assert named >= EXPECTED
