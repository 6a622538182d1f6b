"""Response policies, their rules and the Private Google Access preset, end to end against the
emulator over HTTP, read back with google-api-python-client's discovery client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, google, make_workspace, ops, writes

import mldns
from mldns import dns
from mldns.cli import main
from mldns.emulator import Emulator
from mldns.errors import ValidationError
from mldns.state.local import LocalStateStore

NET = "projects/ml-test/global/networks/{}"
URL = "https://www.googleapis.com/compute/v1/projects/ml-test/global/networks/{}"
POLICY = "dns.ResponsePolicy.fleet"
PRIVATE_VIPS = ["199.36.153.10", "199.36.153.11", "199.36.153.8", "199.36.153.9"]


def stack_of(*resources: Any) -> mldns.Stack:
    stack = mldns.Stack("rpz", project=PROJECT)
    for resource in resources:
        stack.add(resource)
    return stack


def rules_of(emu: Emulator, policy: str = "fleet") -> dict[str, dict[str, Any]]:
    rules = google(emu).responsePolicyRules().list(project=PROJECT, responsePolicy=policy)
    return {r["ruleName"]: r for r in rules.execute().get("responsePolicyRules", [])}


def test_policy_and_rules_create_noop_update_destroy(emu: Emulator, tmp_path: Path) -> None:
    def declared(target: str, bypass: bool) -> mldns.Stack:
        policy = dns.ResponsePolicy("fleet", networks=[NET.format("train")], description="gpu")
        stack = stack_of(policy)
        stack.add(
            dns.ResponsePolicyRule(
                policy,
                "*.Storage.example.com.",
                local_data=[dns.Record("*.storage.example.com.", "CNAME", 60, [target])],
            )
        )
        stack.add(
            dns.ResponsePolicyRule(
                policy,
                "vip.example.com.",
                local_data=[
                    dns.Record("vip.example.com.", "A", 300, ["10.0.0.2", "10.0.0.1"]),
                    dns.Record("vip.example.com.", "AAAA", 300, ["fd00:0::1"]),
                ],
            )
        )
        if bypass:
            stack.add(
                dns.ResponsePolicyRule(
                    policy, "keep.storage.example.com.", behavior="bypassResponsePolicy"
                )
            )
        return stack

    ws = make_workspace(declared("vip.example.com.", bypass=False), emu, tmp_path)
    assert ops(ws.plan()) == {
        POLICY: "create",
        "dns.ResponsePolicyRule.fleet/any-storage-example-com": "create",
        "dns.ResponsePolicyRule.fleet/vip-example-com": "create",
    }
    result = ws.apply()
    assert result.ok, result.failed
    live = google(emu).responsePolicies().get(project=PROJECT, responsePolicy="fleet").execute()
    assert [n["networkUrl"] for n in live["networks"]] == [URL.format("train")]
    assert live["description"] == "gpu"
    rules = rules_of(emu)
    assert rules["any-storage-example-com"]["dnsName"] == "*.storage.example.com."
    vip = rules["vip-example-com"]["localData"]["localDatas"]
    assert {d["type"]: d["rrdatas"] for d in vip} == {
        "A": ["10.0.0.1", "10.0.0.2"],
        "AAAA": ["fd00::1"],
    }
    assert not ws.plan().has_changes

    ws = make_workspace(declared("other.example.com.", bypass=True), emu, tmp_path)
    assert ops(ws.plan()) == {
        "dns.ResponsePolicyRule.fleet/any-storage-example-com": "update",
        "dns.ResponsePolicyRule.fleet/keep-storage-example-com": "create",
    }
    emu.clear_requests()
    assert ws.apply().ok
    assert [m for m, _ in writes(emu)] == ["POST", "PATCH"] or [m for m, _ in writes(emu)] == [
        "PATCH",
        "POST",
    ]
    rules = rules_of(emu)
    assert rules["keep-storage-example-com"]["behavior"] == "bypassResponsePolicy"
    cname = rules["any-storage-example-com"]["localData"]["localDatas"][0]["rrdatas"]
    assert cname == ["other.example.com."]
    assert not ws.plan().has_changes

    emu.clear_requests()
    result = ws.destroy()
    assert result.ok, result.failed
    paths = [p for m, p in writes(emu) if m == "DELETE"]
    assert paths[-1] == f"/dns/v1/projects/{PROJECT}/responsePolicies/fleet"  # rules went first
    assert len(paths) == 4
    listed = google(emu).responsePolicies().list(project=PROJECT).execute()
    assert listed.get("responsePolicies", []) == []
    assert LocalStateStore(tmp_path, "rpz").read().resources == {}


def test_a_network_moves_between_policies_in_one_apply(emu: Emulator, tmp_path: Path) -> None:
    def policies(a: str, b: str) -> mldns.Stack:
        return stack_of(
            dns.ResponsePolicy("alpha", networks=[NET.format(a)]),
            dns.ResponsePolicy("beta", networks=[NET.format(b)]),
        )

    make_workspace(policies("train", "eval"), emu, tmp_path).apply()
    ws = make_workspace(policies("eval", "train"), emu, tmp_path)
    result = ws.apply()
    assert result.ok, result.failed
    listed = google(emu).responsePolicies().list(project=PROJECT).execute()["responsePolicies"]
    bound = {p["responsePolicyName"]: [n["networkUrl"] for n in p["networks"]] for p in listed}
    assert bound == {"alpha": [URL.format("eval")], "beta": [URL.format("train")]}
    assert not ws.plan().has_changes


def test_a_network_held_outside_the_stack_is_refused_at_plan(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"responsePolicyName": "theirs", "networks": [{"networkUrl": URL.format("train")}]}
    google(emu).responsePolicies().create(project=PROJECT, body=body).execute()
    ws = make_workspace(
        stack_of(dns.ResponsePolicy("fleet", networks=[NET.format("train")])), emu, tmp_path
    )
    with pytest.raises(ValidationError, match="held by response policy theirs"):
        ws.plan()
    path = tmp_path / "stack.py"
    path.write_text(
        "import mldns\nfrom mldns import dns\n"
        f'stack = mldns.Stack("rpz", project="{PROJECT}")\n'
        f'stack.add(dns.ResponsePolicy("fleet", networks=["{NET.format("train")}"]))\n'
    )
    emu.clear_requests()
    args = ["apply", "--auto-approve", "--emulator", emu.host_port, "--state-dir", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_:
        main([*args, str(path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "dns.ResponsePolicy.fleet: networks: projects/ml-test/global/networks/train" in err
    assert writes(emu) == []


def test_private_google_apis_preset_applies_and_answers(emu: Emulator, tmp_path: Path) -> None:
    stack = stack_of(*dns.private_google_apis([NET.format("train")], name="pga"))
    ws = make_workspace(stack, emu, tmp_path)
    plan = ws.plan()
    assert len(plan.actions) == 43 and set(ops(plan).values()) == {"create"}
    assert ws.apply().ok
    rules = rules_of(emu, "pga")
    vip = rules["private-googleapis-com"]["localData"]["localDatas"][0]
    assert (vip["type"], sorted(vip["rrdatas"])) == ("A", PRIVATE_VIPS)
    for name, dns_name in [
        ("any-googleapis-com", "*.googleapis.com."),
        ("gcr-io", "gcr.io."),
        ("any-pkg-dev", "*.pkg.dev."),
        ("notebooks-cloud-google-com", "notebooks.cloud.google.com."),
    ]:
        data = rules[name]["localData"]["localDatas"][0]
        assert (rules[name]["dnsName"], data["type"], data["rrdatas"]) == (
            dns_name,
            "CNAME",
            ["private.googleapis.com."],
        )
    assert not ws.plan().has_changes
    assert ws.destroy().ok
    assert (
        google(emu).responsePolicies().list(project=PROJECT).execute().get("responsePolicies", [])
        == []
    )


def test_preset_shapes() -> None:
    restricted = dns.private_google_apis([NET.format("a")], vip="restricted")
    names = {r.dns_name: r for r in restricted if isinstance(r, dns.ResponsePolicyRule)}
    assert set(names) == {
        "restricted.googleapis.com.",
        "*.googleapis.com.",
        "gcr.io.",
        "*.gcr.io.",
        "pkg.dev.",
        "*.pkg.dev.",
        "*.notebooks.cloud.google.com.",
        "*.notebooks.googleusercontent.com.",
    }
    assert names["restricted.googleapis.com."].local_data[0].rrdatas == (
        "199.36.153.4",
        "199.36.153.5",
        "199.36.153.6",
        "199.36.153.7",
    )
    psc = dns.private_google_apis([NET.format("a")], psc_endpoint="10.1.2.3", domains=["gcr.io"])
    assert [(r.dns_name, r.local_data[0].type, r.local_data[0].rrdatas) for r in psc[1:]] == [
        ("gcr.io.", "A", ("10.1.2.3",))
    ]
    zones = dns.private_google_apis(
        [NET.format("a")], domains=["*.googleapis.com", "gcr.io"], zones=True
    )
    assert [r.address for r in zones] == [
        "dns.ManagedZone.google-apis-gcr-io",
        "dns.RecordSet.google-apis-gcr-io/gcr.io./A",
        "dns.ManagedZone.google-apis-googleapis-com",
        "dns.RecordSet.google-apis-googleapis-com/private.googleapis.com./A",
        "dns.RecordSet.google-apis-googleapis-com/*.googleapis.com./CNAME",
    ]
    with pytest.raises(ValidationError, match="vip: must be 'private' or 'restricted'"):
        dns.private_google_apis([NET.format("a")], vip="public")


ZONELESS = "policy = stack.add(dns.ResponsePolicy('fleet'))\n"


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            "dns.ResponsePolicyRule(policy, 'a.*.example.com.', behavior='bypassResponsePolicy')",
            "dns.ResponsePolicyRule.fleet/a.*.example.com.: dns_name: must be a DNS name ending in '.', with '*' "
            "only as its whole first label",
        ),
        (
            "dns.ResponsePolicyRule(policy, 'example.com', behavior='bypassResponsePolicy')",
            "dns_name: must be a DNS name ending in '.'",
        ),
        (
            "dns.ResponsePolicyRule(policy, 'x.example.com.', "
            "local_data=[dns.Record('x.example.com.', 'A', 300, ['10.0.0.300'])])",
            "dns.ResponsePolicyRule.fleet/x-example-com: local_data: A record: '10.0.0.300' is "
            "not valid A data",
        ),
        (
            "dns.ResponsePolicyRule(policy, 'x.example.com.', "
            "local_data=[dns.Record('y.example.com.', 'A', 300, ['10.0.0.3'])])",
            "local_data: A record is named 'y.example.com.', not x.example.com.",
        ),
        (
            "dns.ResponsePolicyRule(policy, 'x.example.com.')",
            "local_data: give local_data or behavior='bypassResponsePolicy', exactly one",
        ),
        (
            f"dns.ResponsePolicy('one', networks=['{NET.format('a')}']))\n"
            f"stack.add(dns.ResponsePolicy('two', networks=['{URL.format('a')}'])",
            "dns.ResponsePolicy.two: networks: projects/ml-test/global/networks/a is also bound "
            "to dns.ResponsePolicy.one",
        ),
    ],
)
def test_bad_declarations_give_one_line_and_no_write(
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    declaration: str,
    message: str,
) -> None:
    path = tmp_path / "stack.py"
    path.write_text(
        "import mldns\nfrom mldns import dns\n"
        f'stack = mldns.Stack("rpz", project="{PROJECT}")\n'
        + ZONELESS
        + f"stack.add({declaration})\n"
    )
    state_dir = str(tmp_path / "state")
    apply = ["apply", "--auto-approve", "--emulator", emu.host_port, "--state-dir", state_dir]
    for args in (["validate"], apply):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            main([*args, str(path)])
        err = capsys.readouterr().err
        assert exit_.value.code == 1
        assert message in err, err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert emu.requests()["total"] == 0
