"""Compute health checks, backend services and operations through compute_v1 (REST)."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.cloud import compute_v1

from .helpers import PROJECT, health_check_body

BASE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global"


def done(ops_client, op):
    """Poll the way mldns does: wait, then get."""
    ops_client.wait(project=PROJECT, operation=op.name)
    return ops_client.get(project=PROJECT, operation=op.name)


def test_health_check_insert_get_list(hc_client, ops_client):
    op = hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    assert op.status == compute_v1.Operation.Status.PENDING
    assert op.target_link == f"{BASE}/healthChecks/hc1"
    assert done(ops_client, op).status == compute_v1.Operation.Status.DONE
    hc = hc_client.get(project=PROJECT, health_check="hc1")
    assert hc.self_link == f"{BASE}/healthChecks/hc1"
    assert hc.id > 0 and hc.creation_timestamp
    assert hc.http_health_check.port == 8080
    assert hc.http_health_check.request_path == "/healthz"
    assert hc.healthy_threshold == 2 and hc.unhealthy_threshold == 2
    assert list(hc.source_regions) == ["us-central1", "europe-west1", "asia-east1"]
    assert [h.name for h in hc_client.list(project=PROJECT)] == ["hc1"]


def test_health_check_defaults(hc_client):
    hc_client.insert_unary(
        project=PROJECT, health_check_resource=compute_v1.HealthCheck(name="tcp", type_="TCP")
    )
    hc = hc_client.get(project=PROJECT, health_check="tcp")
    assert hc.tcp_health_check.port == 80
    assert hc.check_interval_sec == 5 and hc.timeout_sec == 5


def test_list_pages(hc_client):
    for i in range(5):
        hc_client.insert_unary(
            project=PROJECT, health_check_resource=compute_v1.HealthCheck(name=f"h{i}", type_="TCP")
        )
    request = compute_v1.ListHealthChecksRequest(project=PROJECT, max_results=2)
    pager = hc_client.list(request=request)
    assert [h.name for h in pager] == ["h0", "h1", "h2", "h3", "h4"]
    filtered = hc_client.list(
        request=compute_v1.ListHealthChecksRequest(project=PROJECT, filter='name = "h3"')
    )
    assert [h.name for h in filtered] == ["h3"]


def test_operation_progresses_over_polls(emu, hc_client, ops_client):
    emu.configure(operation_polls_to_done=3)
    op = hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    Status = compute_v1.Operation.Status
    seen = [op.status] + [
        ops_client.get(project=PROJECT, operation=op.name).status for _ in range(3)
    ]
    assert seen == [Status.PENDING, Status.RUNNING, Status.DONE, Status.DONE]
    default_done = hc_client.delete_unary(project=PROJECT, health_check="hc1")
    emu.configure(operation_polls_to_done=2)
    assert ops_client.get(project=PROJECT, operation=default_done.name).status == Status.DONE
    listed = ops_client.list(project=PROJECT)
    assert {o.name for o in listed} == {op.name, default_done.name}
    with pytest.raises(gexc.NotFound):
        ops_client.get(project=PROJECT, operation="operation-missing")


@pytest.mark.parametrize(
    "resource,needle",
    [
        (health_check_body("Bad_Name"), "resource.name"),
        (health_check_body(source_regions=["us-central1", "europe-west1"]), "sourceRegions"),
        (health_check_body(check_interval_sec=10), "checkIntervalSec"),
        (
            health_check_body(
                type_="SSL",
                http_health_check=None,
                ssl_health_check=compute_v1.SSLHealthCheck(port=443),
            ),
            "sourceRegions supports only",
        ),
        (health_check_body(source_regions=[], check_interval_sec=5, timeout_sec=10), "TimeoutSec"),
    ],
)
def test_health_check_validation(hc_client, resource, needle):
    with pytest.raises(gexc.BadRequest) as info:
        hc_client.insert_unary(project=PROJECT, health_check_resource=resource)
    assert needle in info.value.message
    assert info.value.errors[0]["reason"] == "invalid"


def test_duplicate_and_missing(hc_client):
    hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    with pytest.raises(gexc.Conflict) as info:
        hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    assert info.value.errors[0]["reason"] == "alreadyExists"
    for call in (
        lambda: hc_client.get(project=PROJECT, health_check="nope"),
        lambda: hc_client.delete_unary(project=PROJECT, health_check="nope"),
        lambda: hc_client.patch_unary(
            project=PROJECT, health_check="nope", health_check_resource=compute_v1.HealthCheck()
        ),
    ):
        with pytest.raises(gexc.NotFound) as info:
            call()
        assert info.value.errors[0]["reason"] == "notFound"


def test_health_check_patch_and_update(hc_client):
    hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    before = hc_client.get(project=PROJECT, health_check="hc1")
    hc_client.patch_unary(
        project=PROJECT,
        health_check="hc1",
        health_check_resource=compute_v1.HealthCheck(check_interval_sec=60),
    )
    patched = hc_client.get(project=PROJECT, health_check="hc1")
    assert patched.check_interval_sec == 60
    assert patched.http_health_check.request_path == "/healthz"
    assert patched.id == before.id
    hc_client.update_unary(
        project=PROJECT,
        health_check="hc1",
        health_check_resource=compute_v1.HealthCheck(
            name="hc1", type_="TCP", tcp_health_check=compute_v1.TCPHealthCheck(port=9000)
        ),
    )
    updated = hc_client.get(project=PROJECT, health_check="hc1")
    assert updated.type_ == "TCP" and updated.tcp_health_check.port == 9000
    assert not updated.source_regions and updated.check_interval_sec == 5
    with pytest.raises(gexc.BadRequest):
        hc_client.patch_unary(
            project=PROJECT,
            health_check="hc1",
            health_check_resource=compute_v1.HealthCheck(name="other"),
        )


def _service(name="bs1", hc="hc1", **extra):
    return compute_v1.BackendService(
        name=name, health_checks=[f"{BASE}/healthChecks/{hc}"], **extra
    )


def test_backend_service_lifecycle_and_fingerprint(hc_client, bs_client, ops_client):
    hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    op = bs_client.insert_unary(project=PROJECT, backend_service_resource=_service())
    assert done(ops_client, op).error.errors == []
    bs = bs_client.get(project=PROJECT, backend_service="bs1")
    assert bs.self_link == f"{BASE}/backendServices/bs1"
    assert list(bs.health_checks) == [f"{BASE}/healthChecks/hc1"]
    assert bs.protocol == "HTTP" and bs.timeout_sec == 30 and bs.fingerprint
    patched = compute_v1.BackendService(fingerprint=bs.fingerprint, description="v2")
    bs_client.patch_unary(project=PROJECT, backend_service="bs1", backend_service_resource=patched)
    bs2 = bs_client.get(project=PROJECT, backend_service="bs1")
    assert bs2.description == "v2" and bs2.fingerprint != bs.fingerprint
    with pytest.raises(gexc.PreconditionFailed) as info:
        bs_client.patch_unary(
            project=PROJECT, backend_service="bs1", backend_service_resource=patched
        )
    assert info.value.errors[0]["reason"] == "conditionNotMet"
    with pytest.raises(gexc.PreconditionFailed):
        bs_client.update_unary(
            project=PROJECT,
            backend_service="bs1",
            backend_service_resource=_service(fingerprint=bs.fingerprint),
        )
    bs_client.update_unary(
        project=PROJECT,
        backend_service="bs1",
        backend_service_resource=_service(fingerprint=bs2.fingerprint, timeout_sec=60),
    )
    bs3 = bs_client.get(project=PROJECT, backend_service="bs1")
    assert bs3.timeout_sec == 60 and bs3.description == ""
    assert [b.name for b in bs_client.list(project=PROJECT)] == ["bs1"]


def test_health_check_in_use_cannot_be_deleted(hc_client, bs_client):
    hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    bs_client.insert_unary(project=PROJECT, backend_service_resource=_service())
    with pytest.raises(gexc.BadRequest) as info:
        hc_client.delete_unary(project=PROJECT, health_check="hc1")
    assert info.value.errors[0]["reason"] == "resourceInUseByAnotherResource"
    bs_client.delete_unary(project=PROJECT, backend_service="bs1")
    hc_client.delete_unary(project=PROJECT, health_check="hc1")
    assert list(hc_client.list(project=PROJECT)) == []


def test_missing_health_check_fails_the_operation(bs_client, ops_client):
    op = bs_client.insert_unary(project=PROJECT, backend_service_resource=_service(hc="ghost"))
    assert op.status == compute_v1.Operation.Status.PENDING and not op.error.errors
    final = done(ops_client, op)
    assert final.status == compute_v1.Operation.Status.DONE
    assert final.http_error_status_code == 404
    assert final.error.errors[0].code == "RESOURCE_NOT_FOUND"
    with pytest.raises(gexc.NotFound):
        bs_client.get(project=PROJECT, backend_service="bs1")


def test_relative_health_check_reference_is_normalised(hc_client, bs_client):
    hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1"))
    bs_client.insert_unary(
        project=PROJECT,
        backend_service_resource=compute_v1.BackendService(
            name="bs1", health_checks=["global/healthChecks/hc1"]
        ),
    )
    assert list(bs_client.get(project=PROJECT, backend_service="bs1").health_checks) == [
        f"{BASE}/healthChecks/hc1"
    ]


def test_unknown_project_compute(emu, hc_client):
    emu.configure(missing_projects=["ghost"])
    with pytest.raises(gexc.NotFound) as info:
        hc_client.get(project="ghost", health_check="x")
    assert "projects/ghost" in info.value.message
