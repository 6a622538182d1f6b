"""Resource Manager v3: project get and IAM policy read-modify-write via resourcemanager_v3."""

from __future__ import annotations

import base64

import pytest
from google.api_core import exceptions as gexc
from google.iam.v1 import policy_pb2

from mldns.emulator.iam_api import CONCURRENT_CHANGE

from .helpers import PROJECT

RESOURCE = f"projects/{PROJECT}"


def test_get_project(projects_client):
    project = projects_client.get_project(name=RESOURCE)
    assert project.project_id == PROJECT
    assert project.name.startswith("projects/") and project.name.split("/")[1].isdigit()
    assert project.state == project.State.ACTIVE
    by_number = projects_client.get_project(name=project.name)
    assert by_number.project_id == PROJECT


def test_default_policy_has_an_owner_and_base64_etag(emu, projects_client):
    policy = projects_client.get_iam_policy(resource=RESOURCE)
    assert [(b.role, list(b.members)) for b in policy.bindings] == [
        ("roles/owner", ["user:owner@example.com"])
    ]
    assert len(policy.etag) == 8
    raw = emu.snapshot()["projects"][PROJECT]["policy"]["etag"]
    assert base64.b64decode(raw) == policy.etag


def test_read_modify_write_and_etag_changes(projects_client):
    policy = projects_client.get_iam_policy(resource=RESOURCE)
    policy.bindings.add(
        role="roles/dns.admin",
        members=["serviceAccount:mldns@p.iam.gserviceaccount.com", "group:ml@example.com"],
    )
    written = projects_client.set_iam_policy(request={"resource": RESOURCE, "policy": policy})
    assert written.etag != policy.etag
    again = projects_client.get_iam_policy(resource=RESOURCE)
    assert again.etag == written.etag
    roles = {b.role: list(b.members) for b in again.bindings}
    assert roles["roles/dns.admin"] == [
        "serviceAccount:mldns@p.iam.gserviceaccount.com",
        "group:ml@example.com",
    ]


def test_stale_etag_is_aborted(projects_client):
    first = projects_client.get_iam_policy(resource=RESOURCE)
    projects_client.set_iam_policy(request={"resource": RESOURCE, "policy": first})
    with pytest.raises(gexc.Conflict) as info:
        projects_client.set_iam_policy(request={"resource": RESOURCE, "policy": first})
    assert info.value.message.endswith(CONCURRENT_CHANGE)
    assert info.value.response.json()["error"]["status"] == "ABORTED"


def test_conditions_need_version_3(projects_client):
    condition = {
        "title": "expires",
        "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")',
    }
    binding = {"role": "roles/viewer", "members": ["domain:example.com"], "condition": condition}
    with pytest.raises(gexc.BadRequest) as info:
        projects_client.set_iam_policy(
            request={"resource": RESOURCE, "policy": {"version": 1, "bindings": [binding]}}
        )
    assert "version 3" in info.value.message
    written = projects_client.set_iam_policy(
        request={"resource": RESOURCE, "policy": {"version": 3, "bindings": [binding]}}
    )
    assert written.version == 3
    assert written.bindings[0].condition.title == "expires"


@pytest.mark.parametrize(
    "binding",
    [
        {"role": "roles/viewer", "members": ["alice@example.com"]},
        {"role": "roles/viewer", "members": ["robot:x"]},
        {"role": "viewer", "members": ["user:a@example.com"]},
    ],
)
def test_bad_members_and_roles(projects_client, binding):
    with pytest.raises(gexc.BadRequest):
        projects_client.set_iam_policy(
            request={"resource": RESOURCE, "policy": {"bindings": [binding]}}
        )


def test_set_without_etag_overwrites_and_dedupes(projects_client):
    policy = policy_pb2.Policy(
        bindings=[policy_pb2.Binding(role="roles/viewer", members=["user:a@x.com", "user:a@x.com"])]
    )
    written = projects_client.set_iam_policy(request={"resource": RESOURCE, "policy": policy})
    assert [list(b.members) for b in written.bindings] == [["user:a@x.com"]]


def test_unknown_project_is_permission_denied(emu, projects_client):
    emu.configure(missing_projects=["ghost"])
    for call in (
        lambda: projects_client.get_project(name="projects/ghost"),
        lambda: projects_client.get_iam_policy(resource="projects/ghost"),
        lambda: projects_client.get_project(name="projects/999999999999"),
    ):
        with pytest.raises(gexc.Forbidden) as info:
            call()
        assert info.value.response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_test_iam_permissions(projects_client):
    reply = projects_client.test_iam_permissions(
        request={"resource": RESOURCE, "permissions": ["dns.changes.create"]}
    )
    assert list(reply.permissions) == ["dns.changes.create"]
