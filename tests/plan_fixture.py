"""A plan that holds every kind of action, built as data: what the golden files of each view show.

Its bodies are the canonical bodies the providers produce (see providers/*_format.py); building it
needs no cloud, so the goldens change only when a view does.
"""

from __future__ import annotations

from typing import Any

from mldns.plan import Action, Plan
from mldns.planner import destructive_reasons

PROJECT = "ml-prod"
ZONE = "dns.ManagedZone.ml-zone"
OLD_ZONE = "dns.ManagedZone.old-zone"


def rs(zone: str, name: str, rtype: str = "A") -> str:
    return f"dns.RecordSet.{zone}/{name}.ml.example.com./{rtype}"


def record(name: str, rtype: str = "A", ttl: int = 60, **fields: Any) -> dict[str, Any]:
    return {"name": f"{name}.ml.example.com.", "type": rtype, "ttl": ttl, **fields}


def geo(*items: tuple[str, list[str]]) -> dict[str, Any]:
    return {"geo": {"items": [{"location": loc, "rrdatas": data} for loc, data in items]}}


def wrr(*items: tuple[float, list[str]]) -> dict[str, Any]:
    return {"wrr": {"items": [{"weight": w, "rrdatas": data} for w, data in items]}}


def zone_body(name: str, dns_name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "dnsName": dns_name,
        "description": description,
        "visibility": "public",
        "labels": {"team": "ml-platform"},
        "dnssecConfig": {"state": "off"},
    }


def action(op: str, address: str, kind: str, **fields: Any) -> Action:
    return Action(address=address, kind=kind, op=op, project=PROJECT, **fields)


def every_action_plan() -> Plan:
    """Create, update with nested changes, replace, delete, adopt, forget, a destructive zone
    deletion, an IAM loss, drift and warnings, in one plan."""
    zone = "ml-zone"
    hc_before = {
        "name": "trainer-hc",
        "type": "HTTP",
        "checkIntervalSec": 30,
        "timeoutSec": 5,
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
        "httpHealthCheck": {"port": 80, "requestPath": "/health"},
        "sourceRegions": ["asia-southeast1", "europe-west4", "us-central1"],
    }
    hc_after = {**hc_before, "httpHealthCheck": {"port": 8080, "requestPath": "/healthz"}}
    actions = [
        action(
            "create",
            rs(zone, "coordinator"),
            "dns.RecordSet",
            after=record("coordinator", rrdatas=["10.0.0.2"]),
            parent=ZONE,
        ),
        action(
            "create",
            rs(zone, "notes", "TXT"),
            "dns.RecordSet",
            after=record("notes", "TXT", 300, rrdatas=['"Entraînement — équipe données"']),
            parent=ZONE,
        ),
        *(
            action(
                "create",
                rs(zone, f"big{i}"),
                "dns.RecordSet",
                after=record(f"big{i}", rrdatas=[f"10.2.0.{i}"]),
                parent=ZONE,
                row_of=f"dns.RecordTable.{zone}/big",
            )
            for i in (10, 2, 1)
        ),
        action(
            "update",
            rs(zone, "dataset"),
            "dns.RecordSet",
            before=record(
                "dataset",
                ttl=30,
                routingPolicy=geo(
                    ("asia-southeast1", ["203.0.113.30"]),
                    ("europe-west4", ["203.0.113.20"]),
                    ("us-central1", ["203.0.113.10"]),
                ),
            ),
            after=record(
                "dataset",
                ttl=30,
                routingPolicy=geo(
                    ("asia-southeast1", ["203.0.113.30"]),
                    ("europe-west4", ["203.0.113.21"]),
                    ("us-central1", ["203.0.113.10"]),
                ),
            ),
            parent=ZONE,
        ),
        action(
            "update",
            rs(zone, "ps"),
            "dns.RecordSet",
            before=record(
                "ps", ttl=30, routingPolicy=wrr((0.3, ["10.1.0.11"]), (0.7, ["10.1.0.10"]))
            ),
            after=record(
                "ps", ttl=60, routingPolicy=wrr((0.4, ["10.1.0.12"]), (0.6, ["10.1.0.10"]))
            ),
            parent=ZONE,
            reason="changed outside mldns since the last apply; will be put back",
        ),
        action(
            "update",
            "compute.HealthCheck.trainer-hc",
            "compute.HealthCheck",
            before=hc_before,
            after=hc_after,
        ),
        action(
            "update",
            "iam.ProjectIamBinding.roles/dns.admin",
            "iam.ProjectIamBinding",
            before={
                "role": "roles/dns.admin",
                "members": ["user:alice@example.com", "user:carol@example.com"],
            },
            after={
                "role": "roles/dns.admin",
                "members": ["user:bob@example.com", "user:carol@example.com"],
            },
        ),
        action(
            "replace",
            "dns.ManagedZone.stage-zone",
            "dns.ManagedZone",
            before=zone_body("stage-zone", "stage.example.com.", "staging"),
            after=zone_body("stage-zone", "stage.ml.example.com.", "staging"),
            reason="a field that cannot change in place differs: replaced",
        ),
        action(
            "delete",
            rs(zone, "old"),
            "dns.RecordSet",
            before=record("old", rrdatas=["10.9.9.9"]),
            parent=ZONE,
            reason="no longer declared",
        ),
        action(
            "delete",
            OLD_ZONE,
            "dns.ManagedZone",
            before=zone_body("old-zone", "old.example.com.", "retired"),
            reason="no longer declared",
        ),
        action(
            "adopt",
            rs(zone, "found"),
            "dns.RecordSet",
            after=record("found", rrdatas=["10.0.0.9"]),
            parent=ZONE,
            reason="exists and matches; recorded without a write",
        ),
        action(
            "forget",
            rs(zone, "gone"),
            "dns.RecordSet",
            before=record("gone", rrdatas=["10.0.0.8"]),
            parent=ZONE,
            reason="already gone from the cloud; dropped from state",
        ),
    ]
    managed = {ZONE: 12}
    return Plan(
        stack="training-dns",
        project=PROJECT,
        lineage="8d5c7a52-lineage",
        serial=7,
        actions=actions,
        unmanaged={ZONE: 2},
        managed=managed,
        destructive_reasons=tuple(destructive_reasons(actions, managed)),
        prior_outputs={
            "name_servers": ["ns-cloud-a1.googledomains.com."],
            "stage_servers": ["ns-cloud-b1.googledomains.com."],
            "owner": "ml-infra",
            "legacy": "old",
        },
        outputs={
            "name_servers": {"$output": [ZONE, "name_servers"]},
            "stage_servers": {"$output": ["dns.ManagedZone.stage-zone", "name_servers"]},
            "owner": "ml-platform",
        },
        warnings=(
            "dns.RecordSet.ml-zone/ps.ml.example.com./A: weights do not sum to 1; Cloud DNS normalises them",
        ),
    )


def many_creates_plan(count: int) -> Plan:
    """`count` record sets to create in one zone, as a table of workers would give."""
    actions = [
        action(
            "create",
            rs("ml-zone", f"worker-{i}"),
            "dns.RecordSet",
            after=record(f"worker-{i}", rrdatas=[f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"]),
            parent=ZONE,
        )
        for i in range(count)
    ]
    return Plan(stack="fleet", project=PROJECT, lineage=None, serial=0, actions=actions)
