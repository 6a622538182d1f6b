"""Project IAM: one policy read per plan, one read-modify-write per apply, nobody's change lost."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import resourcemanager_v3
from helpers import PROJECT, make_workspace

import mldns
from mldns import iam
from mldns.errors import ApplyError, UnsafePlanError, ValidationError
from mldns.providers import iam as iam_provider

RESOURCE = f"projects/{PROJECT}"
OWNER = ("roles/owner", "user:owner@example.com")  # the emulator's initial policy
ML_SYSTEM = f"serviceAccount:ml-system@{PROJECT}.iam.gserviceaccount.com"
RESEARCHERS = "group:ml-researchers@example.com"
UNTIL_2030 = iam.Condition("request.time < timestamp('2030-01-01T00:00:00Z')", "until-2030")


def projects(emu: Any) -> resourcemanager_v3.ProjectsClient:
    return resourcemanager_v3.ProjectsClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": emu.url},
    )


def grants(emu: Any) -> set[tuple[str, str]]:
    """(role, member) pairs of the live policy, read by an independent client."""
    policy = projects(emu).get_iam_policy(
        request={"resource": RESOURCE, "options": {"requested_policy_version": 3}}
    )
    return {(b.role, m) for b in policy.bindings for m in b.members}


def grant(emu: Any, role: str, member: str) -> None:
    """Another writer's read-modify-write of the project policy."""
    client = projects(emu)
    policy = client.get_iam_policy(resource=RESOURCE)
    policy.bindings.add(role=role, members=[member])
    client.set_iam_policy(request={"resource": RESOURCE, "policy": policy})


def iam_stack(*resources: Any) -> mldns.Stack:
    stack = mldns.Stack("iam", project=PROJECT)
    for resource in resources:
        stack.add(resource)
    return stack


def both() -> mldns.Stack:
    return iam_stack(
        iam.ProjectIamBinding(role="roles/dns.admin", members=[ML_SYSTEM]),
        iam.ProjectIamMember(role="roles/dns.reader", member=RESEARCHERS),
    )


def set_calls(emu: Any) -> int:
    return sum(1 for r in emu.requests()["recent"] if r["path"].endswith(":setIamPolicy"))


def test_binding_and_member_for_one_role_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        iam_stack(
            iam.ProjectIamBinding(role="roles/dns.admin", members=[ML_SYSTEM]),
            iam.ProjectIamMember(role="roles/dns.admin", member=RESEARCHERS),
        )
    assert info.value.field == "role"


def test_plan_reads_the_policy_once_and_apply_writes_it_once(emu, tmp_path) -> None:
    ws = make_workspace(both(), emu, tmp_path)
    plan = ws.plan()
    assert ws.clients.stats.calls == 1
    assert {a.op for a in plan.actions} == {"create"}
    emu.clear_requests()
    ws.apply()
    assert set_calls(emu) == 1
    assert grants(emu) == {OWNER, ("roles/dns.admin", ML_SYSTEM), ("roles/dns.reader", RESEARCHERS)}
    fresh = make_workspace(both(), emu, tmp_path)
    assert not fresh.plan().has_changes and fresh.clients.stats.calls == 1


def test_member_leaves_the_roles_other_members_alone(emu, tmp_path) -> None:
    grant(emu, "roles/dns.reader", "user:alice@example.com")
    ws = make_workspace(both(), emu, tmp_path)
    ws.apply()
    assert ("roles/dns.reader", "user:alice@example.com") in grants(emu)
    ws.destroy()
    assert grants(emu) == {OWNER, ("roles/dns.reader", "user:alice@example.com")}


def test_binding_is_authoritative_and_the_plan_names_who_loses_the_role(emu, tmp_path) -> None:
    make_workspace(both(), emu, tmp_path).apply()
    grant(emu, "roles/dns.admin", "user:mallory@example.com")
    ws = make_workspace(both(), emu, tmp_path)
    plan = ws.plan()
    assert plan.destructive() == [
        "iam.ProjectIamBinding.roles/dns.admin removes user:mallory@example.com"
    ]
    with pytest.raises(UnsafePlanError):
        ws.apply()
    ws.apply(allow_destructive=True)
    assert ("roles/dns.admin", "user:mallory@example.com") not in grants(emu)
    assert ("roles/dns.admin", ML_SYSTEM) in grants(emu)


def test_conditional_member_uses_policy_version_3(emu, tmp_path) -> None:
    stack = iam_stack(
        iam.ProjectIamMember(role="roles/dns.reader", member=RESEARCHERS, condition=UNTIL_2030)
    )
    ws = make_workspace(stack, emu, tmp_path)
    ws.apply()
    policy = emu.snapshot()["projects"][PROJECT]["policy"]
    assert policy["version"] == 3
    [binding] = [b for b in policy["bindings"] if b["role"] == "roles/dns.reader"]
    assert binding["condition"]["title"] == "until-2030"
    assert not make_workspace(stack, emu, tmp_path).plan().has_changes
    ws.destroy()
    assert grants(emu) == {OWNER}


def test_a_writer_between_read_and_write_loses_nothing(emu, tmp_path) -> None:
    """mldns' setIamPolicy is held back while another writer changes the policy: the etag
    no longer matches, Google answers 409 ABORTED, and mldns redoes its edit on the new policy."""
    emu.add_fault(method="POST", path=r":setIamPolicy$", delay_ms=600, count=1)
    ws = make_workspace(both(), emu, tmp_path)
    errors: list[BaseException] = []

    def apply() -> None:
        try:
            ws.apply()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=apply)
    thread.start()
    deadline = time.monotonic() + 5
    while emu.app.faults.list() and time.monotonic() < deadline:
        time.sleep(0.01)  # the fault is used up once mldns' set is being held back
    grant(emu, "roles/viewer", "user:bob@example.com")
    thread.join(timeout=10)
    assert not errors
    conflicts = [
        r
        for r in emu.requests()["recent"]
        if r["path"].endswith(":setIamPolicy") and r["status"] == 409
    ]
    assert len(conflicts) == 1
    assert grants(emu) == {
        OWNER,
        ("roles/viewer", "user:bob@example.com"),
        ("roles/dns.admin", ML_SYSTEM),
        ("roles/dns.reader", RESEARCHERS),
    }


def test_aborted_set_is_retried_on_a_fresh_policy(emu, tmp_path) -> None:
    ws = make_workspace(both(), emu, tmp_path)
    plan = ws.plan()
    grant(emu, "roles/dns.reader", "user:carol@example.com")
    emu.add_fault(method="POST", path=r":setIamPolicy$", status=409, reason="aborted", count=1)
    ws.apply_plan(plan)
    assert {
        ("roles/dns.reader", "user:carol@example.com"),
        ("roles/dns.reader", RESEARCHERS),
    } <= grants(emu)


def test_gives_up_after_a_bounded_number_of_conflicts(emu, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(iam_provider, "BACKOFF_INITIAL", 0.001)
    emu.add_fault(method="POST", path=r":setIamPolicy$", status=409, reason="aborted")
    with pytest.raises(ApplyError) as info:
        make_workspace(both(), emu, tmp_path).apply()
    assert f"gave up after {iam_provider.MAX_TRIES} attempts" in str(info.value)
    assert set_calls(emu) == iam_provider.MAX_TRIES
    state = make_workspace(both(), emu, tmp_path).store.read()
    assert state is None or not state.resources
    assert grants(emu) == {OWNER}
