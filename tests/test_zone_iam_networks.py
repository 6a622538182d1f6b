"""IAM on managed zones and networks bound to zones another stack owns, end to end against the
emulator over HTTP, read back with the discovery client (zone IAM also through the v2 path that
gcloud calls)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import PROJECT, google, make_workspace, ops

import mldns
from mldns import dns
from mldns.cli import main
from mldns.clients import Clients
from mldns.emulator import Emulator
from mldns.errors import ValidationError
from mldns.providers.zone_networks import ZoneNetworkProvider

NET = "projects/ml-test/global/networks/{}"
URL = "https://www.googleapis.com/compute/v1/projects/ml-test/global/networks/{}"
CTL = "serviceAccount:ctl@team-a.iam.gserviceaccount.com"
READER = "group:ml@example.com"


def stack_of(*resources: Any) -> mldns.Stack:
    stack = mldns.Stack("team", project=PROJECT)
    for resource in resources:
        stack.add(resource)
    return stack


def zone_policy(emu: Emulator, zone: str) -> dict[str, list[str]]:
    """The zone's bindings as gcloud reads them: the v2 path."""
    url = f"{emu.url}/dns/v2/projects/{PROJECT}/locations/global/managedZones/{zone}:getIamPolicy"
    reply = requests.post(url, json={}, timeout=10).json()
    return {b["role"]: sorted(b["members"]) for b in reply.get("bindings", [])}


def make_zone(emu: Emulator, name: str, visibility: str = "private", networks: tuple = ()) -> None:
    body: dict[str, Any] = {
        "name": name,
        "dnsName": f"{name}.internal.",
        "description": "",
        "visibility": visibility,
    }
    if visibility == "private":
        body["privateVisibilityConfig"] = {"networks": [{"networkUrl": n} for n in networks]}
    google(emu).managedZones().create(project=PROJECT, body=body).execute()


def test_zone_iam_binding_and_member_round_trip(emu: Emulator, tmp_path: Path) -> None:
    def grants(members: list[str]) -> mldns.Stack:
        stack = stack_of()
        zone = stack.add(dns.ManagedZone(name="team-a", dns_name="team-a.example.com."))
        stack.add(dns.ManagedZoneIamBinding(zone, "roles/dns.admin", members))
        stack.add(dns.ManagedZoneIamMember(zone, "roles/dns.reader", READER))
        return stack

    ws = make_workspace(grants([CTL]), emu, tmp_path)
    assert set(ops(ws.plan()).values()) == {"create"}
    result = ws.apply()
    assert result.ok, result.failed
    assert zone_policy(emu, "team-a") == {"roles/dns.admin": [CTL], "roles/dns.reader": [READER]}
    assert not ws.plan().has_changes

    # someone else's grant on the zone is kept by the member kind's read-modify-write
    other = "user:auditor@example.com"
    zones = google(emu).managedZones()
    resource = f"projects/{PROJECT}/managedZones/team-a"
    policy = zones.getIamPolicy(resource=resource, body={}).execute()
    policy["bindings"].append({"role": "roles/viewer", "members": [other]})
    zones.setIamPolicy(resource=resource, body={"policy": policy}).execute()

    ws = make_workspace(grants([CTL, "user:lead@example.com"]), emu, tmp_path)
    plan = ws.plan()
    assert ops(plan) == {"dns.ManagedZoneIamBinding.team-a/roles/dns.admin": "update"}
    assert ws.apply().ok
    assert zone_policy(emu, "team-a") == {
        "roles/dns.admin": sorted([CTL, "user:lead@example.com"]),
        "roles/dns.reader": [READER],
        "roles/viewer": [other],
    }
    assert not ws.plan().has_changes
    assert ws.destroy().ok
    listed = zones.list(project=PROJECT).execute().get("managedZones", [])
    assert listed == []


def test_zone_iam_on_a_zone_another_stack_owns(emu: Emulator, tmp_path: Path) -> None:
    make_zone(emu, "shared", visibility="public")
    ws = make_workspace(
        stack_of(dns.ManagedZoneIamMember("shared", "roles/dns.admin", CTL)), emu, tmp_path
    )
    assert ws.apply().ok
    assert zone_policy(emu, "shared") == {"roles/dns.admin": [CTL]}
    assert not ws.plan().has_changes
    assert ws.destroy().ok
    assert zone_policy(emu, "shared") == {}

    ws = make_workspace(
        stack_of(dns.ManagedZoneIamMember("nowhere", "roles/dns.admin", CTL)), emu, tmp_path
    )
    emu.clear_requests()
    with pytest.raises(ValidationError, match="zone nowhere does not exist in project"):
        ws.plan()
    assert not [r for r in emu.requests()["recent"] if r["write"]]


def test_zone_network_binds_reads_back_and_unbinds(emu: Emulator, tmp_path: Path) -> None:
    make_zone(emu, "corp", networks=(URL.format("hub"),))
    binding = dns.ZoneNetwork("corp", NET.format("train"))
    ws = make_workspace(stack_of(binding), emu, tmp_path)
    assert ops(ws.plan()) == {binding.address: "create"}
    assert ws.apply().ok
    live = google(emu).managedZones().get(project=PROJECT, managedZone="corp").execute()
    networks = {n["networkUrl"] for n in live["privateVisibilityConfig"]["networks"]}
    assert networks == {URL.format("hub"), URL.format("train")}
    assert not ws.plan().has_changes
    assert ws.destroy().ok
    live = google(emu).managedZones().get(project=PROJECT, managedZone="corp").execute()
    assert [n["networkUrl"] for n in live["privateVisibilityConfig"]["networks"]] == [
        URL.format("hub")
    ]


def test_zone_network_on_a_public_or_missing_zone_is_refused(emu: Emulator, tmp_path: Path) -> None:
    make_zone(emu, "www", visibility="public")
    for zone, message in [("www", "is a public zone"), ("gone", "does not exist")]:
        ws = make_workspace(stack_of(dns.ZoneNetwork(zone, NET.format("a"))), emu, tmp_path)
        emu.clear_requests()
        with pytest.raises(ValidationError, match=message):
            ws.plan()
        assert not [r for r in emu.requests()["recent"] if r["write"]]


def test_concurrent_zone_network_writers_both_land(emu: Emulator) -> None:
    """Eight writers each bind their own network to one zone at once: with no precondition on
    zone patches some patches undo others. Each writer's re-read puts its own back, but a
    writer still in flight may undo one that has finished: the next run puts that back."""
    make_zone(emu, "busy")
    zone = f"projects/{PROJECT}/managedZones/busy"
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        provider = ZoneNetworkProvider(Clients(PROJECT, emulator=emu.host_port))
        try:
            provider._read_modify_write(zone, {URL.format(f"n{i}")}, set())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    provider = ZoneNetworkProvider(Clients(PROJECT, emulator=emu.host_port))
    for i in range(8):  # the next run of each stack: a network another writer undid comes back
        provider._read_modify_write(zone, {URL.format(f"n{i}")}, set())
    live = google(emu).managedZones().get(project=PROJECT, managedZone="busy").execute()
    networks = {n["networkUrl"] for n in live["privateVisibilityConfig"]["networks"]}
    assert networks == {URL.format(f"n{i}") for i in range(8)}


def test_a_patch_undone_by_a_stale_writer_is_put_back(emu: Emulator) -> None:
    """Right after mldns patches the zone, another writer that read it earlier patches it back
    with its own network only: the re-read sees the loss and the network is patched in again."""
    make_zone(emu, "busy")
    provider = ZoneNetworkProvider(Clients(PROJECT, emulator=emu.host_port))
    real = provider.clients.dns_request
    patches: list[str] = []

    def request(method: str, path: str, **kwargs: Any) -> Any:
        reply = real(method, path, **kwargs)
        if method == "PATCH":
            patches.append(path)
            if len(patches) == 1:
                stale = {"networks": [{"networkUrl": URL.format("theirs")}]}
                google(emu).managedZones().patch(
                    project=PROJECT, managedZone="busy", body={"privateVisibilityConfig": stale}
                ).execute()
        return reply

    provider.clients.dns_request = request  # type: ignore[method-assign]
    provider._read_modify_write(
        f"projects/{PROJECT}/managedZones/busy", {URL.format("mine")}, set()
    )
    assert len(patches) == 2
    live = google(emu).managedZones().get(project=PROJECT, managedZone="busy").execute()
    networks = {n["networkUrl"] for n in live["privateVisibilityConfig"]["networks"]}
    assert networks == {URL.format("theirs"), URL.format("mine")}


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            'dns.ManagedZoneIamMember("nowhere", "roles/dns.admin", "user:a@example.com")',
            "dns.ManagedZoneIamMember.nowhere/roles/dns.admin/user:a@example.com: zone: zone "
            "nowhere does not exist in project ml-test",
        ),
        (
            f'dns.ZoneNetwork("www", "{NET.format("a")}")',
            "zone: projects/ml-test/managedZones/www is a public zone; only private zones are "
            "bound to networks",
        ),
        (
            'dns.ManagedZone(name="www", dns_name="www.internal.", dnssec=dns.Dnssec('
            'key_specs=[dns.KeySpec("keySigning", "rsasha512"), '
            'dns.KeySpec("zoneSigning", "rsasha512")]))',
            "dns.ManagedZone.www: dnssec: Cloud DNS does not change the key specs of a signed zone",
        ),
    ],
)
def test_plan_time_refusals_give_one_line_and_no_write(
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    declaration: str,
    message: str,
) -> None:
    body = {"name": "www", "dnsName": "www.internal.", "description": "", "visibility": "public"}
    body["dnssecConfig"] = {"state": "on"}
    google(emu).managedZones().create(project=PROJECT, body=body).execute()
    path = tmp_path / "stack.py"
    path.write_text(
        "import mldns\nfrom mldns import dns\n"
        f'stack = mldns.Stack("team", project="{PROJECT}")\n'
        f"stack.add({declaration})\n"
    )
    emu.clear_requests()
    args = ["apply", "--auto-approve", "--emulator", emu.host_port, "--state-dir", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_:
        main([*args, str(path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert message in err, err
    assert not [r for r in emu.requests()["recent"] if r["write"]]
