"""Compute aggregated lists (what gcloud's list commands read), HTTP2/SSL/GRPC health checks, and
the spellings of a health check's URL, through google-cloud-compute."""

from __future__ import annotations

import requests
from google.cloud import compute_v1

from .helpers import PROJECT, health_check_body


def _wait(ops_client, operation) -> None:
    ops_client.wait(project=PROJECT, operation=operation.name)


def test_aggregated_lists_hold_the_global_scope(emu, hc_client, bs_client, ops_client):
    url = f"{emu.url}/compute/v1/projects/{PROJECT}/aggregated/healthChecks"
    empty = requests.get(url, timeout=5).json()
    assert empty["kind"] == "compute#healthChecksAggregatedList"
    assert empty["items"]["global"]["warning"]["code"] == "NO_RESULTS_ON_PAGE"
    _wait(
        ops_client,
        hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1")),
    )
    _wait(
        ops_client,
        hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc2")),
    )
    pager = hc_client.aggregated_list(
        request=compute_v1.AggregatedListHealthChecksRequest(project=PROJECT, max_results=1)
    )
    names = [hc.name for scope, scoped in pager for hc in scoped.health_checks]
    assert names == ["hc1", "hc2"]  # two pages of one, both in scope "global"
    assert {scope for scope, _ in hc_client.aggregated_list(project=PROJECT)} == {"global"}
    service = compute_v1.BackendService(name="bs1", health_checks=["global/healthChecks/hc1"])
    _wait(ops_client, bs_client.insert_unary(project=PROJECT, backend_service_resource=service))
    listed = dict(bs_client.aggregated_list(project=PROJECT))
    assert [b.name for b in listed["global"].backend_services] == ["bs1"]


def test_http2_ssl_and_grpc_health_checks(hc_client, ops_client):
    checks = [
        compute_v1.HealthCheck(
            name="h2",
            type_="HTTP2",
            http2_health_check=compute_v1.HTTP2HealthCheck(
                port=8443, request_path="/hz", host="a.example.com"
            ),
        ),
        compute_v1.HealthCheck(
            name="tls",
            type_="SSL",
            ssl_health_check=compute_v1.SSLHealthCheck(port=443, request="ping", response="pong"),
        ),
        compute_v1.HealthCheck(
            name="grpc",
            type_="GRPC",
            grpc_health_check=compute_v1.GRPCHealthCheck(port=50051, grpc_service_name="trainer"),
        ),
    ]
    for check in checks:
        _wait(ops_client, hc_client.insert_unary(project=PROJECT, health_check_resource=check))
    h2 = hc_client.get(project=PROJECT, health_check="h2")
    assert (h2.type_, h2.http2_health_check.port, h2.http2_health_check.request_path) == (
        "HTTP2",
        8443,
        "/hz",
    )
    assert h2.http2_health_check.host == "a.example.com"
    tls = hc_client.get(project=PROJECT, health_check="tls")
    assert (tls.ssl_health_check.request, tls.ssl_health_check.response) == ("ping", "pong")
    grpc = hc_client.get(project=PROJECT, health_check="grpc")
    assert (
        grpc.grpc_health_check.grpc_service_name == "trainer"
        and grpc.grpc_health_check.port == 50051
    )


def test_health_check_urls_in_every_spelling_name_one_check(emu, hc_client, bs_client, ops_client):
    _wait(
        ops_client,
        hc_client.insert_unary(project=PROJECT, health_check_resource=health_check_body("hc1")),
    )
    spellings = [
        f"{emu.url}/compute/v1/projects/{PROJECT}/global/healthChecks/hc1",
        f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/healthChecks/hc1",
        f"projects/{PROJECT}/global/healthChecks/hc1",
    ]
    for i, url in enumerate(spellings):
        service = compute_v1.BackendService(name=f"bs{i}", health_checks=[url])
        operation = bs_client.insert_unary(project=PROJECT, backend_service_resource=service)
        done = ops_client.wait(project=PROJECT, operation=operation.name)
        assert not done.error.errors, url
        got = bs_client.get(project=PROJECT, backend_service=f"bs{i}")
        assert list(got.health_checks) == [spellings[1]]
