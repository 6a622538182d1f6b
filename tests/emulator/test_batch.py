"""Google's batch endpoint, driven by google-api-python-client's batch requests: each call is
answered as if sent alone, in order, faulted and counted on its own."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest
from helpers import google

from mldns.emulator import Emulator
from mldns.emulator.batch import MAX_CALLS

from .helpers import PROJECT


@pytest.fixture
def compute(emu: Emulator) -> Any:
    return google(emu, "compute", root="/compute/v1/")


def run_batch(emu: Emulator, *requests: Any) -> dict[str, Any]:
    """Each request's reply (or HttpError) by its position. The client's own
    `new_batch_http_request` posts to the discovery document's root, not the endpoint given."""
    replies: dict[str, Any] = {}

    def keep(request_id: str, response: Any, exception: Any) -> None:
        replies[request_id] = exception if exception is not None else response

    batch = BatchHttpRequest(callback=keep, batch_uri=f"{emu.url}/batch/compute/v1")
    for index, request in enumerate(requests):
        batch.add(request, request_id=str(index))
    batch.execute()
    return replies


def check(name: str) -> dict[str, Any]:
    return {"name": name, "type": "TCP", "tcpHealthCheck": {"port": 22}}


def test_calls_of_a_batch_are_made_in_order_each_answered(compute, emu):
    checks = compute.healthChecks()
    replies = run_batch(
        emu,
        checks.insert(project=PROJECT, body=check("hc-a")),
        checks.insert(project=PROJECT, body=check("hc-b")),
        checks.get(project=PROJECT, healthCheck="hc-a"),
        checks.get(project=PROJECT, healthCheck="missing"),
    )
    assert replies["0"]["operationType"] == "insert"
    assert replies["1"]["targetLink"].endswith("/healthChecks/hc-b")
    assert replies["2"]["name"] == "hc-a"  # made by the call before it in the same batch
    assert isinstance(replies["3"], HttpError) and replies["3"].resp.status == 404
    assert "missing" in json.loads(replies["3"].content)["error"]["message"]
    calls = [(r["method"], r["path"].rsplit("/", 2)[-2:]) for r in emu.requests()["recent"]]
    assert calls == [
        ("POST", ["global", "healthChecks"]),
        ("POST", ["global", "healthChecks"]),
        ("GET", ["healthChecks", "hc-a"]),
        ("GET", ["healthChecks", "missing"]),
    ]


def test_a_fault_hits_its_call_alone(compute, emu):
    emu.add_fault(method="DELETE", path="/healthChecks/hc-b", status=503)
    checks = compute.healthChecks()
    run_batch(
        emu,
        checks.insert(project=PROJECT, body=check("hc-a")),
        checks.insert(project=PROJECT, body=check("hc-b")),
    )
    replies = run_batch(
        emu,
        checks.delete(project=PROJECT, healthCheck="hc-a"),
        checks.delete(project=PROJECT, healthCheck="hc-b"),
    )
    assert replies["0"]["operationType"] == "delete"
    assert replies["1"].resp.status == 503
    left = compute.healthChecks().list(project=PROJECT).execute()
    assert [item["name"] for item in left["items"]] == ["hc-b"]


def post(emu: Emulator, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{emu.url}/batch/compute/v1",
        data=body,
        method="POST",
        headers={"Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def part(index: int) -> bytes:
    return (
        b"--b\r\nContent-Type: application/http\r\n"
        + f"Content-ID: <x+{index}>\r\n\r\n".encode()
        + f"GET /compute/v1/projects/{PROJECT}/global/healthChecks HTTP/1.1\r\n\r\n".encode()
    )


@pytest.mark.parametrize(
    ("content_type", "body", "says"),
    [
        ("application/json", b"{}", "multipart/mixed, not application/json"),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\n\r\nnonsense\r\n--b--",
            "part 1 does not start with a request line",
        ),
        (
            "multipart/mixed; boundary=b",
            b"".join(map(part, range(MAX_CALLS + 1))) + b"--b--",
            f"at most {MAX_CALLS} calls, not {MAX_CALLS + 1}",
        ),
    ],
    ids=["not-multipart", "no-request-line", "too-many-calls"],
)
def test_a_batch_that_cannot_be_read_is_refused_whole(emu, content_type, body, says):
    status, reply = post(emu, content_type, body)
    assert status == 400
    assert says in reply["error"]["message"]
    assert emu.requests()["total"] == 0  # no call of it was made
