"""Reading the Prometheus text exposition (issue 18 item 4), the way a scraper does
(prometheus-client's own parser): in-process from this process's registry, or from a
real server's metrics address."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from anti_grazer.web.metrics import metrics_registry

# The sample names each metric type exposes, after its family name.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def in_process() -> str:
    """This process's exposition, as the metrics address would serve it."""
    return generate_latest(metrics_registry()).decode()


def value(exposition: str, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` (0 when there is none yet)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def exported_names(exposition: str) -> set[str]:
    """Every sample name the exposition's families can have, with or without samples."""
    return {
        family.name + suffix
        for family in text_string_to_metric_families(exposition)
        for suffix in SUFFIXES.get(family.type, ("",))
    }
