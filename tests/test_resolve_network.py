"""`mldns resolve NAME --network NETWORK`: answers as a VM on a VPC network gets them, response
policy rules first, then the network's private zones, then public zones, then the internet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, make_workspace, run_cli

import mldns
from mldns import dns
from mldns.emulator import Emulator
from mldns.resolve import ResolveError, resolve

NET = f"projects/{PROJECT}/global/networks/{{}}"
VIPS = ["199.36.153.10", "199.36.153.11", "199.36.153.8", "199.36.153.9"]
RESTRICTED = ["199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"]

STACK = f'''
import mldns
from mldns import dns

stack = mldns.Stack("net", project="{PROJECT}")
for resource in dns.private_google_apis(["{NET.format("train")}"]):
    stack.add(resource)
policy = stack.resources["dns.ResponsePolicy.google-apis"]
stack.add(dns.ResponsePolicyRule(policy, "corp.googleapis.com.", behavior="bypassResponsePolicy"))
corp = stack.add(
    dns.ManagedZone(
        name="corp", dns_name="corp.googleapis.com.", visibility="private",
        networks=["{NET.format("train")}"],
    )
)
stack.add(dns.RecordSet(zone=corp, name="@", type="A", rrdatas=["10.0.0.7"]))
stack.add(
    dns.ManagedZone(
        name="onprem", dns_name="onprem.example.com.", visibility="private",
        networks=["{NET.format("train")}"], forwarding=["10.8.0.53"],
    )
)
stack.add(
    dns.ManagedZone(
        name="hub", dns_name="hub.example.com.", visibility="private",
        networks=["{NET.format("train")}"], peering_network="{NET.format("hub")}",
    )
)
web = stack.add(dns.ManagedZone(name="web", dns_name="example.com."))
stack.add(dns.RecordSet(zone=web, name="www", type="A", rrdatas=["203.0.113.5"]))
'''


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "stack.py"
    path.write_text(STACK)
    return path


def answer(capsys: Any, stack_file: Path, name: str, network: str, *more: str) -> dict[str, Any]:
    run = run_cli(
        capsys, "resolve", name, "--network", network, "-f", str(stack_file), "--json", *more
    )
    assert run.code == 0, run.err
    return json.loads(run.out)


def test_the_preset_sends_google_apis_to_the_vips(capsys: Any, stack_file: Path) -> None:
    body = answer(capsys, stack_file, "storage.googleapis.com", "train")
    (only,) = body["answers"]
    assert [r["type"] for r in only["records"]] == ["CNAME", "A"]
    assert sorted(only["records"][-1]["rrdatas"]) == VIPS
    assert only["why"][0] == (
        "response policy google-apis rule any-googleapis-com (*.googleapis.com.) answers "
        "storage.googleapis.com."
    )
    assert "rule private-googleapis-com (private.googleapis.com.)" in " ".join(only["why"])
    for name in ("gcr.io", "europe-docker.pkg.dev", "notebooks.cloud.google.com"):
        data = answer(capsys, stack_file, name, NET.format("train"))["answers"][0]["records"]
        assert sorted(data[-1]["rrdatas"]) == VIPS, name
    run = run_cli(
        capsys, "resolve", "storage.googleapis.com", "--network", "train", "-f", str(stack_file)
    )
    assert run.code == 0 and "199.36.153.8" in run.out and "response policy google-apis" in run.out


def test_bypass_private_zone_forwarding_peering_public_internet(
    capsys: Any, stack_file: Path
) -> None:
    body = answer(capsys, stack_file, "corp.googleapis.com", "train")
    assert body["answers"][0]["records"][-1]["rrdatas"] == ["10.0.0.7"]
    assert body["answers"][0]["why"][:2] == [
        "response policy google-apis rule corp-googleapis-com (corp.googleapis.com.) lets "
        "corp.googleapis.com. bypass the policy",
        "private zone corp (corp.googleapis.com.) of network train answers corp.googleapis.com.",
    ]
    forwarded = answer(capsys, stack_file, "db.onprem.example.com", "train")
    assert (
        forwarded["status"] == "FORWARDED"
        and "forwards to 10.8.0.53" in forwarded["answers"][0]["why"][0]
    )
    peered = answer(capsys, stack_file, "x.hub.example.com", "train")
    assert (
        peered["status"] == "PEERED"
        and f"peers with {NET.format('hub')}" in peered["answers"][0]["why"][0]
    )
    public = answer(capsys, stack_file, "www.example.com", "train")
    assert public["answers"][0]["records"][0]["rrdatas"] == ["203.0.113.5"]
    # another network sees neither the policy nor the private zones
    other = answer(capsys, stack_file, "storage.googleapis.com", "eval")
    assert other["status"] == "INTERNET" and other["answers"][0]["records"] == []
    run = run_cli(
        capsys, "resolve", "db.onprem.example.com", "--network", "eval", "-f", str(stack_file)
    )
    assert run.code == 1 and "NXDOMAIN" in run.err and run.err.count("\n") == 1


def test_restricted_preset_from_the_library() -> None:
    stack = mldns.Stack("lib", project=PROJECT)
    for resource in dns.private_google_apis([NET.format("tpu")], vip="restricted"):
        stack.add(resource)
    result = resolve(stack, "us-docker.pkg.dev", network="tpu")
    assert sorted(result.outcomes[0].data) == RESTRICTED
    with pytest.raises(ResolveError, match="NODATA"):
        resolve(stack, "restricted.googleapis.com", "MX", network="tpu")


def test_live_answers_from_the_emulator(
    emu: Emulator, tmp_path: Path, stack_file: Path, capsys: Any
) -> None:
    stack = mldns.Stack("live", project=PROJECT)
    for resource in dns.private_google_apis([NET.format("train")], vip="restricted"):
        stack.add(resource)
    assert make_workspace(stack, emu, tmp_path).apply().ok
    body = answer(
        capsys,
        stack_file,
        "bigquery.googleapis.com",
        NET.format("train"),
        "--live",
        "--emulator",
        emu.host_port,
    )
    assert sorted(body["answers"][0]["records"][-1]["rrdatas"]) == RESTRICTED


def test_the_readme_example_resolves_to_the_vips() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Private Google APIs", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) == 3
    stack = mldns.Stack("readme", project="my-project")
    exec(code, {"dns": dns, "stack": stack})
    result = resolve(stack, "storage.googleapis.com", network="train")
    assert sorted(result.outcomes[0].data) == VIPS


def test_the_emulators_dns_server_answers_the_applied_preset(tmp_path: Path) -> None:
    """Applied through the real clients, the preset is answered by the emulator's DNS server to
    a client mapped to the network as `mldns resolve --network` says, and not to another."""
    import dns.message as dns_message
    import dns.query as dns_query
    import requests

    with Emulator(dns_port=0) as emu:
        stack = mldns.Stack("dns-server", project=PROJECT)
        for resource in dns.private_google_apis([NET.format("train")]):
            stack.add(resource)
        assert make_workspace(stack, emu, tmp_path).apply().ok
        expected = resolve(stack, "storage.googleapis.com", network="train")

        def ask(name: str) -> list[str]:
            query = dns_message.make_query(name, "A")
            reply = dns_query.udp(query, "127.0.0.1", port=emu.dns_port, timeout=3)
            return sorted(rd.to_text() for rrset in reply.answer for rd in rrset)

        assert "199.36.153.8" not in ask("storage.googleapis.com.")  # not on the network yet
        table = {"127.0.0.0/8": NET.format("train")}
        url = f"{emu.url}/_emulator/dns/client-networks"
        assert requests.put(url, json=table, timeout=5).ok
        got = ask("storage.googleapis.com.")
        assert got == sorted(["private.googleapis.com.", *VIPS])
        assert sorted(expected.outcomes[0].data) == VIPS
        assert ask("us-docker.pkg.dev.") == sorted(["private.googleapis.com.", *VIPS])


def test_a_wildcard_rule_that_answers_its_own_target_loops() -> None:
    """The Private Google Access rules half written: `*.googleapis.com` sent to
    private.googleapis.com without the rule that gives its addresses, which the wildcard then
    matches again. A VM gets SERVFAIL, and the question fails naming the loop."""
    stack = mldns.Stack("half", project=PROJECT)
    policy = stack.add(dns.ResponsePolicy(name="pga", networks=[NET.format("train")]))
    alias = dns.Record(name="*.googleapis.com.", type="CNAME", rrdatas=["private.googleapis.com."])
    stack.add(dns.ResponsePolicyRule(policy, "*.googleapis.com.", local_data=[alias], name="apis"))
    with pytest.raises(
        ResolveError,
        match=r"-> private\.googleapis\.com\. -> private\.googleapis\.com\. loops \(SERVFAIL\)",
    ):
        resolve(stack, "storage.googleapis.com", network="train")
