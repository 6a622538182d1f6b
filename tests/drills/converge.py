"""The check every drill ends with: the cloud, the state and the declaration all agree."""

from __future__ import annotations

from google.auth.credentials import AnonymousCredentials
from google.cloud import dns as gdns

from mldns.emulator import Emulator
from mldns.providers import dns_format
from mldns.providers.registry import build_providers
from mldns.render import render_text
from mldns.resources.dns import RecordSet, RecordTable
from mldns.stack import Stack
from mldns.workspace import Workspace


def live_records(emu: Emulator, project: str, zone: str) -> dict[tuple[str, str], dict]:
    """Every record set of a zone, read through google-cloud-dns independently of the engine."""
    client = gdns.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emu.url},
    )
    found: dict[tuple[str, str], dict] = {}
    params: dict = {}
    while True:
        page = client._connection.api_request(
            method="GET",
            path=f"/projects/{project}/managedZones/{zone}/rrsets",
            query_params=params,
        )
        for raw in page.get("rrsets", []):
            key = (raw["name"], raw["type"])
            assert key not in found, f"{key} listed twice"
            found[key] = raw
        if not page.get("nextPageToken"):
            return found
        params = {"pageToken": page["nextPageToken"]}


def assert_converged(ws: Workspace, stack: Stack, emu: Emulator) -> None:
    plan = ws.plan()
    assert not plan.has_changes, render_text(plan)
    state = ws.store.read()
    assert state is not None
    assert set(state.addresses()) == set(stack.resources), (
        "state and declaration name different resources"
    )
    providers = build_providers(ws.clients)
    for address, resource in stack.resources.items():
        if isinstance(resource, RecordTable):
            assert state.resources[address]["attributes"]["rows"] == {
                fqdn: [resource.ttl, *data] for fqdn, data in resource.rows.items()
            }, address
            continue
        provider = next(p for p in providers if resource.kind in p.kinds)
        entry = state.entry(address)
        assert entry is not None, address
        assert entry["attributes"] == provider.desired_body(resource, ws.project), address
    zones = {r.zone.name for r in stack if isinstance(r, (RecordSet, RecordTable))}
    for zone in zones:
        live = live_records(emu, ws.project, zone)
        declared = {
            (r.fqdn, r.type): dns_format.record_body(r, ws.project)
            for r in stack
            if isinstance(r, RecordSet) and r.zone.name == zone
        }
        for table in stack:
            if isinstance(table, RecordTable) and table.zone.name == zone:
                declared.update(
                    (
                        (fqdn, table.type),
                        {"name": fqdn, "type": table.type, "ttl": table.ttl, "rrdatas": data},
                    )
                    for fqdn, data in table.rows.items()
                )
        extra = {k for k in live if k not in declared and k[1] not in ("SOA", "NS")}
        assert not extra, f"record sets nobody declared: {sorted(extra)[:5]}"
        for key, body in declared.items():
            assert key in live, f"{key} missing"
            assert dns_format.normalize_record(live[key]) == body, key
    snapshot = emu.snapshot()["projects"][ws.project]
    assert sorted(snapshot["zones"]) == sorted(zones), "a zone exists twice or is missing"
