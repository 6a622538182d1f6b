"""Compute health checks and backend services: validation, plan, apply, drift, ordering, recovery."""

from __future__ import annotations

from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1
from helpers import PROJECT, google, make_workspace

import mldns
from mldns import compute, dns
from mldns.errors import ApplyError, ValidationError
from mldns.providers.compute_format import normalize_backend_service

REGIONS = ["us-central1", "europe-west4", "asia-southeast1"]
HC_URL = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/healthChecks/trainer-hc"
GROUP = f"projects/{PROJECT}/zones/us-central1-a/instanceGroups/trainers"


def fleet(hc_options: dict[str, Any] | None = None, **bs_options: Any) -> mldns.Stack:
    stack = mldns.Stack("fleet", project=PROJECT)
    hc = stack.add(
        compute.HealthCheck(
            name="trainer-hc",
            request_path="/health-check",
            check_interval_sec=30,
            **(hc_options or {}),
        )
    )
    bs_options.setdefault("backends", [compute.Backend(group=GROUP)])
    stack.add(compute.BackendService(name="trainer-backend", health_checks=[hc], **bs_options))
    return stack


def ops(plan: mldns.plan.Plan) -> dict[str, str]:
    return {a.address: a.op for a in plan.actions}


def paths(emu: Any, method: str, needle: str) -> list[str]:
    return [
        r["path"] for r in emu.requests()["recent"] if r["method"] == method and needle in r["path"]
    ]


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options,field",
    [
        ({"timeout_sec": 10, "check_interval_sec": 5}, "timeout_sec"),
        ({"source_regions": REGIONS[:2], "check_interval_sec": 30}, "source_regions"),
        (
            {"source_regions": [*REGIONS[:2], REGIONS[0]], "check_interval_sec": 30},
            "source_regions",
        ),
        ({"source_regions": REGIONS, "check_interval_sec": 10}, "check_interval_sec"),
        ({"type": "TCP", "request_path": "/health"}, "request_path"),
        ({"type": "GRPC_WITH_TLS"}, "type"),
        ({"port": 0}, "port"),
        ({"request_path": "health"}, "request_path"),
        ({"healthy_threshold": 11}, "healthy_threshold"),
    ],
)
def test_health_check_rules_fail_before_any_call(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        compute.HealthCheck(name="trainer-hc", **options)
    assert info.value.address == "compute.HealthCheck.trainer-hc"
    assert info.value.field == field


def test_health_check_for_dns_routing_is_valid() -> None:
    hc = compute.HealthCheck(name="hc", check_interval_sec=30, source_regions=REGIONS)
    assert hc.source_regions == tuple(REGIONS)


@pytest.mark.parametrize("region", ["us-centrl1", "mars-north1"])
def test_source_regions_are_google_cloud_regions(region: str) -> None:
    with pytest.raises(ValidationError) as info:
        compute.HealthCheck(name="hc", check_interval_sec=30, source_regions=[*REGIONS[:2], region])
    assert info.value.field == "source_regions"
    assert f"{region!r} is not a Google Cloud region" in str(info.value)
    if region == "us-centrl1":
        assert str(info.value).endswith("did you mean us-central1?")


def test_a_backend_service_refuses_a_health_check_with_source_regions() -> None:
    """Compute's sourceRegions: such a health check "cannot be used with BackendService"."""
    dns_hc = compute.HealthCheck(name="dns-hc", check_interval_sec=30, source_regions=REGIONS)
    with pytest.raises(ValidationError) as info:
        compute.BackendService(name="bs", health_checks=[dns_hc])
    assert info.value.address == "compute.BackendService.bs"
    assert info.value.field == "health_checks"
    assert "compute.HealthCheck.dns-hc has source_regions" in str(info.value)


@pytest.mark.parametrize(
    "options,field",
    [
        ({"capacity_scaler": 0.05}, "capacity_scaler"),  # 0 or [0.1, 1.0]
        ({"balancing_mode": "RATE", "max_utilization": 0.5}, "max_utilization"),
    ],
)
def test_backend_fields_follow_computes_ranges(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        compute.Backend(group=GROUP, **options)
    assert info.value.field == field


def test_the_only_backend_cannot_be_drained() -> None:
    hc = compute.HealthCheck(name="hc")
    with pytest.raises(ValidationError) as info:
        compute.BackendService(
            name="bs", health_checks=[hc], backends=[compute.Backend(GROUP, capacity_scaler=0)]
        )
    assert info.value.field == "backends"
    other = GROUP.replace("trainers", "spares")
    drained = [compute.Backend(GROUP, capacity_scaler=0), compute.Backend(other)]
    assert compute.BackendService(name="bs", health_checks=[hc], backends=drained).backends


def test_a_request_path_with_a_space_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        compute.HealthCheck(name="hc", request_path="/health check")
    assert info.value.field == "request_path"


def test_backend_service_takes_exactly_one_health_check() -> None:
    with pytest.raises(ValidationError) as info:
        compute.BackendService(name="bs", health_checks=[])
    assert info.value.field == "health_checks"


# --- plan and apply ------------------------------------------------------------------------------


def test_create_then_no_changes_with_one_get_per_resource(emu, tmp_path) -> None:
    ws = make_workspace(fleet(), emu, tmp_path)
    first = ws.plan()
    assert ops(first) == {
        "compute.HealthCheck.trainer-hc": "create",
        "compute.BackendService.trainer-backend": "create",
    }
    ws.apply()
    api = google(emu, "compute", root="/compute/v1/")
    hc = api.healthChecks().get(project=PROJECT, healthCheck="trainer-hc").execute()
    assert hc["httpHealthCheck"]["requestPath"] == "/health-check"
    assert "sourceRegions" not in hc and hc["checkIntervalSec"] == 30
    bs = api.backendServices().get(project=PROJECT, backendService="trainer-backend").execute()
    assert bs["healthChecks"] == [HC_URL]
    assert bs["backends"][0]["group"].endswith(GROUP)

    emu.clear_requests()
    fresh = make_workspace(fleet(), emu, tmp_path)
    assert not fresh.plan().has_changes
    assert fresh.clients.stats.calls == 2
    assert emu.requests()["by_api"] == {"compute": 2}


def test_drift_is_patched_with_the_current_fingerprint(emu, tmp_path) -> None:
    make_workspace(fleet(), emu, tmp_path).apply()
    api = google(emu, "compute", root="/compute/v1/")
    api.healthChecks().patch(
        project=PROJECT, healthCheck="trainer-hc", body={"httpHealthCheck": {"port": 8080}}
    ).execute()

    ws = make_workspace(fleet(timeout_sec=60), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {
        "compute.HealthCheck.trainer-hc": "update",
        "compute.BackendService.trainer-backend": "update",
    }
    hc_action = next(a for a in plan.actions if a.kind == "compute.HealthCheck")
    assert hc_action.field_changes() == [
        (
            "httpHealthCheck",
            {"port": 8080, "requestPath": "/health-check"},
            {"port": 80, "requestPath": "/health-check"},
        )
    ]
    emu.clear_requests()
    ws.apply()
    assert paths(emu, "PATCH", "/backendServices/trainer-backend")
    bs = api.backendServices().get(project=PROJECT, backendService="trainer-backend").execute()
    assert bs["timeoutSec"] == 60
    assert bs["connectionDraining"] == {"drainingTimeoutSec": 0}  # unmanaged field kept
    hc = api.healthChecks().get(project=PROJECT, healthCheck="trainer-hc").execute()
    assert hc["httpHealthCheck"]["port"] == 80
    assert not make_workspace(fleet(timeout_sec=60), emu, tmp_path).plan().has_changes


def test_a_backend_is_named_by_its_group_in_the_plan(emu, tmp_path) -> None:
    """Draining a backend reads as the one field it changes, not a backend removed and added."""
    other = GROUP.replace("trainers", "evaluators")
    backends = [compute.Backend(group=GROUP), compute.Backend(group=other)]
    make_workspace(fleet(backends=backends), emu, tmp_path).apply()
    backends[0] = compute.Backend(group=GROUP, capacity_scaler=0.5)
    text = str(make_workspace(fleet(backends=backends), emu, tmp_path).plan())
    url = f"https://www.googleapis.com/compute/v1/{GROUP}"
    assert f'~ backends["{url}"].capacityScaler: 1.0 -> 0.5' in text, text
    assert "- backends" not in text and "+ backends" not in text


def test_removing_fields_uses_a_full_update(emu, tmp_path) -> None:
    """Merge-patch cannot drop sourceRegions or empty the backends, so these go as PUT."""
    first = mldns.Stack("fleet", project=PROJECT)
    first.add(
        compute.HealthCheck(
            name="trainer-hc",
            request_path="/health-check",
            check_interval_sec=30,
            source_regions=REGIONS,
        )
    )
    backend_hc = first.add(compute.HealthCheck(name="backend-hc"))
    first.add(
        compute.BackendService(
            name="trainer-backend",
            health_checks=[backend_hc],
            backends=[compute.Backend(group=GROUP)],
        )
    )
    make_workspace(first, emu, tmp_path).apply()
    stack = mldns.Stack("fleet", project=PROJECT)
    hc = stack.add(compute.HealthCheck(name="trainer-hc", type="TCP", port=9000))
    stack.add(compute.BackendService(name="trainer-backend", health_checks=[hc]))
    emu.clear_requests()
    make_workspace(stack, emu, tmp_path).apply()
    assert paths(emu, "PUT", "/healthChecks/trainer-hc")
    assert paths(emu, "PUT", "/backendServices/trainer-backend")
    api = google(emu, "compute", root="/compute/v1/")
    live = api.healthChecks().get(project=PROJECT, healthCheck="trainer-hc").execute()
    assert live["type"] == "TCP" and live["tcpHealthCheck"]["port"] == 9000
    assert "sourceRegions" not in live and "httpHealthCheck" not in live
    bs = api.backendServices().get(project=PROJECT, backendService="trainer-backend").execute()
    assert not bs.get("backends")
    assert not make_workspace(stack, emu, tmp_path).plan().has_changes


def test_failed_operation_reports_googles_message(emu, tmp_path) -> None:
    stack = mldns.Stack("fleet", project=PROJECT)
    missing = f"projects/{PROJECT}/global/healthChecks/missing"
    stack.add(compute.BackendService(name="orphan", health_checks=[missing]))
    with pytest.raises(ApplyError) as info:
        make_workspace(stack, emu, tmp_path).apply()
    assert "compute.BackendService.orphan" in str(info.value)
    assert "healthChecks/missing' was not found" in str(info.value)


def test_lost_insert_reply_is_adopted_after_409(emu, tmp_path) -> None:
    """The insert lands but its reply is lost; the retry meets 409 and takes the twin over."""
    emu.add_fault(method="POST", path=r"/global/healthChecks$", drop=True, after=True, count=1)
    ws = make_workspace(fleet(), emu, tmp_path)
    result = ws.apply()
    assert result.retries >= 1
    assert len(paths(emu, "POST", "/global/healthChecks")) == 2
    assert not make_workspace(fleet(), emu, tmp_path).plan().has_changes


def test_existing_equal_resource_is_adopted_without_a_write(emu, tmp_path) -> None:
    client = compute_v1.HealthChecksClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": emu.url},
    )
    hc = compute_v1.HealthCheck(
        name="trainer-hc",
        type_="HTTP",
        check_interval_sec=30,
        http_health_check=compute_v1.HTTPHealthCheck(port=80, request_path="/health-check"),
        source_regions=REGIONS,
    )
    client.insert_unary(project=PROJECT, health_check_resource=hc)
    stack = mldns.Stack("fleet", project=PROJECT)
    stack.add(
        compute.HealthCheck(
            name="trainer-hc",
            request_path="/health-check",
            check_interval_sec=30,
            source_regions=REGIONS,
        )
    )
    plan = make_workspace(stack, emu, tmp_path).plan()
    assert ops(plan) == {"compute.HealthCheck.trainer-hc": "adopt"}
    emu.clear_requests()
    plan.apply()
    assert emu.requests()["writes"] == 0


def test_health_check_is_deleted_after_its_users(emu, tmp_path) -> None:
    """Google refuses to delete a health check in use, so destroy must delete its users first."""
    stack = fleet()
    zone = stack.add(dns.ManagedZone(name="train", dns_name="train.example.com."))
    hc = stack.resources["compute.HealthCheck.trainer-hc"]
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="workers",
            type="A",
            ttl=30,
            routing=dns.Geo({"us-central1": ["203.0.113.10"]}, health_check=hc),
        )
    )
    ws = make_workspace(stack, emu, tmp_path, parallelism=8)
    ws.apply()
    emu.clear_requests()
    ws.destroy()
    order = [(r["method"], r["path"]) for r in emu.requests()["recent"] if r["write"]]
    hc_delete = order.index(
        ("DELETE", f"/compute/v1/projects/{PROJECT}/global/healthChecks/trainer-hc")
    )
    bs_delete = order.index(
        ("DELETE", f"/compute/v1/projects/{PROJECT}/global/backendServices/trainer-backend")
    )
    change = order.index(("POST", f"/dns/v1/projects/{PROJECT}/managedZones/train/changes"))
    assert bs_delete < hc_delete and change < hc_delete
    project = emu.snapshot()["projects"][PROJECT]
    assert not project["healthChecks"] and not project["backendServices"] and not project["zones"]


def test_deleted_outside_between_plan_and_apply_counts_as_done(emu, tmp_path) -> None:
    make_workspace(fleet(), emu, tmp_path).apply()
    ws = make_workspace(fleet(), emu, tmp_path)
    plan = ws.plan(destroy=True)
    api = google(emu, "compute", root="/compute/v1/")
    api.backendServices().delete(project=PROJECT, backendService="trainer-backend").execute()
    ws.apply_plan(plan, allow_destructive=True)
    assert not ws.store.read().resources


def test_unset_max_utilization_is_not_drift() -> None:
    """Google fills maxUtilization in when a UTILIZATION backend leaves it unset."""
    group = "https://www.googleapis.com/compute/v1/" + GROUP
    desired = {
        "backends": [{"group": group, "balancingMode": "UTILIZATION", "capacityScaler": 1.0}]
    }
    raw = {
        "name": "bs",
        "backends": [{"group": GROUP, "balancingMode": "UTILIZATION", "maxUtilization": 0.8}],
    }
    assert normalize_backend_service(raw, desired)["backends"] == desired["backends"]
    assert normalize_backend_service(raw)["backends"][0]["maxUtilization"] == 0.8
