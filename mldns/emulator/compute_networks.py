"""Compute v1 VPC networks (global): what `gcloud compute networks create/list/describe/delete`
reads and writes before a private zone or a response policy names a network.

Every project starts with the `default` network, as a new Google Cloud project does. The rest of
the emulator stays lenient: a private zone, a response policy or an instance may name a network
never created here (each network's addresses come from `fleet_addresses`), so the tests and
stacks that name networks need not create them first.
"""

from __future__ import annotations

from typing import Any

from .call import Call, Reply
from .compute_api import _check_name, _link, _operation, _page
from .compute_zones import project_of
from .errors import already_exists, not_found
from .ids import compute_timestamp, new_id
from .schema import validate
from .store import Project


def _network(project: Project, name: str, body: dict[str, Any]) -> dict[str, Any]:
    auto = body.get("autoCreateSubnetworks", name == "default")
    network = {k: v for k, v in body.items() if k not in ("id", "kind", "selfLink")}
    network.update(
        kind="compute#network",
        id=new_id(),
        creationTimestamp=compute_timestamp(),
        name=name,
        selfLink=_link(project.id, "networks", name),
        autoCreateSubnetworks=bool(auto),
        subnetworks=[],
        mtu=int(body.get("mtu") or 1460),
        networkFirewallPolicyEnforcementOrder="AFTER_CLASSIC_FIREWALL",
    )
    network.setdefault("routingConfig", {"routingMode": "REGIONAL"})
    return network


def networks(project: Project) -> dict[str, dict[str, Any]]:
    """The project's networks by name: `default` is made on the first look, and stays deleted
    once deleted."""
    held = project.collection("vpcNetworks")
    seeded = project.collection("vpcNetworksSeeded")
    if not seeded:
        held["default"] = _network(project, "default", {"description": "Default network"})
        seeded["default"] = True
    return held


def _get(call: Call) -> tuple[Project, dict[str, Any]]:
    project = project_of(call)
    name = call.params["network"]
    network = networks(project).get(name)
    if network is None:
        raise not_found(
            f"The resource 'projects/{project.id}/global/networks/{name}' was not found"
        )
    return project, network


def list_networks(call: Call) -> Reply:
    project = project_of(call)
    return 200, _page(
        call, project, "networks", "compute#networkList", list(networks(project).values())
    )


def get_network(call: Call) -> Reply:
    return 200, _get(call)[1]


def insert_network(call: Call) -> Reply:
    body = call.body or {}
    validate("compute", "Network", body)
    project = project_of(call)
    name = _check_name(body.get("name"))
    if name in networks(project):
        raise already_exists(
            f"The resource 'projects/{project.id}/global/networks/{name}' already exists"
        )
    network = networks(project)[name] = _network(project, name, body)
    return 200, _operation(call.store, project, "insert", network["selfLink"], network["id"])


def delete_network(call: Call) -> Reply:
    project, network = _get(call)
    del networks(project)[network["name"]]
    return 200, _operation(call.store, project, "delete", network["selfLink"], network["id"])


_N = "/compute/v1/projects/<project>/global/networks"
RULES = [
    (_N, ["GET"], list_networks),
    (_N, ["POST"], insert_network),
    (f"{_N}/<network>", ["GET"], get_network),
    (f"{_N}/<network>", ["DELETE"], delete_network),
]
