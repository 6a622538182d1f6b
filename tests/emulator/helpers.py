"""Helpers of the emulator's tests: the project they use and request bodies."""

from __future__ import annotations

from typing import Any

from google.cloud import compute_v1

PROJECT = "emu-proj"


def a_record(name: str, *ips: str, ttl: int = 300) -> dict[str, Any]:
    return {"name": name, "type": "A", "ttl": ttl, "rrdatas": list(ips)}


def health_check_body(name: str = "hc1", **extra: Any) -> compute_v1.HealthCheck:
    fields = {
        "name": name,
        "type_": "HTTP",
        "check_interval_sec": 30,
        "timeout_sec": 5,
        "http_health_check": compute_v1.HTTPHealthCheck(port=8080, request_path="/healthz"),
        "source_regions": ["us-central1", "europe-west1", "asia-east1"],
    }
    fields.update(extra)
    return compute_v1.HealthCheck(**fields)
