"""Health checks of types HTTP2, SSL and GRPC with their own fields, through google-cloud-compute
against the emulator, read back with google-api-python-client's discovery client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, google, make_workspace

import mldns
from mldns import compute
from mldns.emulator import Emulator
from mldns.errors import ValidationError


def stack_of(*checks: compute.HealthCheck) -> mldns.Stack:
    stack = mldns.Stack("hc", project=PROJECT)
    for hc in checks:
        stack.add(hc)
    return stack


def checks(response: str = "ok") -> list[compute.HealthCheck]:
    return [
        compute.HealthCheck(
            name="h2",
            type="HTTP2",
            port=8443,
            request_path="/healthz",
            host="trainer.internal",
            response=response,
            proxy_header="PROXY_V1",
        ),
        compute.HealthCheck(name="tls", type="SSL", port=9443, request="PING", response="PONG"),
        compute.HealthCheck(name="rpc", type="GRPC", port=50051, grpc_service_name="trainer.v1"),
    ]


def test_http2_ssl_grpc_create_noop_update_destroy(emu: Emulator, tmp_path: Path) -> None:
    ws = make_workspace(stack_of(*checks()), emu, tmp_path)
    assert {a.op for a in ws.plan().actions} == {"create"}
    result = ws.apply()
    assert result.ok, result.failed
    api = google(emu, "compute", root="/compute/v1/").healthChecks()
    h2 = api.get(project=PROJECT, healthCheck="h2").execute()
    assert h2["type"] == "HTTP2"
    assert {k: h2["http2HealthCheck"][k] for k in ("port", "requestPath", "host", "response")} == {
        "port": 8443,
        "requestPath": "/healthz",
        "host": "trainer.internal",
        "response": "ok",
    }
    assert h2["http2HealthCheck"]["proxyHeader"] == "PROXY_V1"
    tls = api.get(project=PROJECT, healthCheck="tls").execute()["sslHealthCheck"]
    assert (tls["port"], tls["request"], tls["response"]) == (9443, "PING", "PONG")
    rpc = api.get(project=PROJECT, healthCheck="rpc").execute()["grpcHealthCheck"]
    assert (rpc["port"], rpc["grpcServiceName"]) == (50051, "trainer.v1")
    assert not ws.plan().has_changes

    ws = make_workspace(stack_of(*checks(response="ready")), emu, tmp_path)
    plan = ws.plan()
    assert {a.address: a.op for a in plan.actions} == {"compute.HealthCheck.h2": "update"}
    assert ws.apply().ok
    h2 = api.get(project=PROJECT, healthCheck="h2").execute()
    assert h2["http2HealthCheck"]["response"] == "ready"
    assert not ws.plan().has_changes

    assert ws.destroy().ok
    assert api.list(project=PROJECT).execute().get("items", []) == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"type": "GRPC", "request_path": "/x"}, "request_path"),
        ({"type": "SSL", "host": "a.example.com"}, "request_path"),
        ({"type": "HTTP2", "request": "PING"}, "request"),
        ({"type": "GRPC", "response": "ok"}, "response"),
        ({"type": "SSL", "grpc_service_name": "svc"}, "grpc_service_name"),
        ({"type": "HTTP2", "proxy_header": "PROXY_V2"}, "proxy_header"),
    ],
)
def test_fields_of_another_type_are_refused(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        compute.HealthCheck(name="hc", **options)
    assert info.value.field == field
