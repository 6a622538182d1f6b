"""Cloud TPU v2 nodes and their long-running operations (`tpu.googleapis.com/v2`).

A node is one TPU slice; `networkEndpoints` holds one entry per host VM, with an internal address
from the node's network range (the same pools as Compute instances, see fleet_addresses), port
8470, and an external address when `networkConfig.enableExternalIps`. Hosts per accelerator type
follow Google's TPU system-architecture pages: v2, v3, v4 and v5p count TensorCores in the type's
number (two per chip) and put 4 chips on a host; v5e (`v5litepod-N`) and v6e (`v6e-N`) count
chips, and slices up to 8 chips are one host, larger ones 4 chips per host.

Writes take effect at once (a created node is READY); the operation says `done` on the look
after the reply, or at once with `operation_polls_to_done` 1.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
import time
from typing import Any

from .call import Call, Reply
from .compute_zones import zone_set
from .errors import ApiError
from .fleet_addresses import external_v4, internal_v4, network_url
from .ids import decode_token, encode_token, new_id, rfc3339_now
from .schema import validate
from .store import Project, Store

PORT = 8470
MAX_PAGE = 1000
NODE_ID = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_TYPE = re.compile(r"^(v2|v3|v4|v5p|v5litepod|v6e)-(\d+)$")
# AcceleratorConfig.Type by name and by proto number (clients send `enum-encoding=int`).
_TYPE_NUMBERS = {2: "V2", 4: "V3", 7: "V4", 9: "V5LITE_POD", 10: "V5P", 11: "V6E"}
_CONFIG_TYPES = {
    "V2": "v2",
    "V3": "v3",
    "V4": "v4",
    "V5P": "v5p",
    "V5LITE_POD": "v5litepod",
    "V6E": "v6e",
}
_OUTPUT = ("name", "state", "health", "createTime", "id", "networkEndpoints", "apiVersion")


def hosts(accelerator_type: str) -> int:
    """How many host VMs a slice of this type has; ValueError for an unknown type."""
    match = _TYPE.match(accelerator_type)
    if not match:
        raise ValueError(accelerator_type)
    generation, number = match[1], int(match[2])
    if generation in ("v5litepod", "v6e"):
        return 1 if number <= 8 else math.ceil(number / 4)
    chips = max(1, number // 2)
    return max(1, math.ceil(chips / 4))


def _error(code: int, status: str, message: str) -> ApiError:
    return ApiError(code, status.lower(), message, status=status)


def _project(call: Call) -> Project:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise _error(
            403, "PERMISSION_DENIED", f"Permission denied on resource project {project_id}."
        )
    return project


def _location(call: Call, project: Project, allow_all: bool = False) -> str:
    location = call.params["location"]
    if location == "-" and allow_all:
        return location
    if location not in zone_set():
        # Google's answer, e.g. "403 Location europe-west1-b is not found or access is
        # unauthorized." for a zone without TPUs
        raise _error(
            403, "PERMISSION_DENIED", f"Location {location} is not found or access is unauthorized."
        )
    return location


def _nodes(project: Project, location: str) -> dict[str, dict[str, Any]]:
    return project.collection("tpuNodes").setdefault(location, {})


def _node(call: Call) -> tuple[Project, str, dict[str, Any]]:
    project = _project(call)
    location = _location(call, project)
    node = _nodes(project, location).get(call.params["node"])
    if node is None:
        name = f"projects/{project.id}/locations/{location}/nodes/{call.params['node']}"
        raise _error(404, "NOT_FOUND", f"Resource '{name}' was not found")
    return project, location, node


# ---------------------------------------------------------------- operations


def _operation(
    store: Store, project: Project, location: str, verb: str, target: str, response: Any
) -> dict[str, Any]:
    op_id = f"operation-{int(time.time() * 1000)}-{secrets.token_hex(6)}"
    name = f"projects/{project.id}/locations/{location}/operations/{op_id}"
    if response is None:
        result = {"@type": "type.googleapis.com/google.protobuf.Empty"}
    else:
        result = {
            "@type": "type.googleapis.com/google.cloud.tpu.v2.Node",
            **copy.deepcopy(response),
        }
    operation = {
        "name": name,
        "metadata": {
            "@type": "type.googleapis.com/google.cloud.tpu.v2.OperationMetadata",
            "createTime": rfc3339_now(),
            "target": target,
            "verb": verb,
            "cancelRequested": False,
            "apiVersion": "v2",
        },
        "done": False,
    }
    entry = {"operation": operation, "looks": 0, "response": result}
    project.collection("tpuOperations")[op_id] = entry
    return _look(store, entry)


def _look(store: Store, entry: dict[str, Any]) -> dict[str, Any]:
    entry["looks"] += 1
    operation = entry["operation"]
    if not operation["done"] and entry["looks"] >= store.operation_polls_to_done:
        operation["done"] = True
        operation["metadata"]["endTime"] = rfc3339_now()
        operation["response"] = entry["response"]
    return operation


def get_operation(call: Call) -> Reply:
    project = _project(call)
    location = _location(call, project)
    entry = project.collection("tpuOperations").get(call.params["operation"])
    name = f"projects/{project.id}/locations/{location}/operations/{call.params['operation']}"
    if entry is None or entry["operation"]["name"] != name:
        raise _error(404, "NOT_FOUND", f"Resource '{name}' was not found")
    return 200, _look(call.store, entry)


# ---------------------------------------------------------------- nodes


def _endpoints(
    store: Store, project: Project, network: str, external: bool, count: int
) -> list[dict[str, Any]]:
    """One endpoint per host: an internal address of `network` (and an external one)."""
    endpoints = []
    for _ in range(count):
        endpoint: dict[str, Any] = {"ipAddress": internal_v4(store, network), "port": PORT}
        if external:
            endpoint["accessConfig"] = {"externalIp": external_v4(project)}
        endpoints.append(endpoint)
    return endpoints


def _accelerator(body: dict[str, Any]) -> str:
    if body.get("acceleratorType"):
        return str(body["acceleratorType"])
    config = body.get("acceleratorConfig") or {}
    kind = config.get("type", "")
    generation = _CONFIG_TYPES.get(
        _TYPE_NUMBERS.get(kind, str(kind)) if isinstance(kind, int) else str(kind)
    )
    topology = str(config.get("topology", ""))
    if generation and re.fullmatch(r"\d+(x\d+)*", topology):
        chips = math.prod(int(d) for d in topology.split("x"))
        number = chips if generation in ("v5litepod", "v6e") else chips * 2
        return f"{generation}-{number}"
    raise _error(400, "INVALID_ARGUMENT", "Node must set acceleratorType or acceleratorConfig.")


def create_node(call: Call) -> Reply:
    body = call.body or {}
    validate("tpu", "Node", body, where="node")
    project = _project(call)
    location = _location(call, project)
    node_id = call.query.get("nodeId") or ""
    if not NODE_ID.match(node_id):
        raise _error(
            400, "INVALID_ARGUMENT", f"Invalid node id '{node_id}': must match {NODE_ID.pattern}"
        )
    nodes = _nodes(project, location)
    name = f"projects/{project.id}/locations/{location}/nodes/{node_id}"
    if node_id in nodes:
        raise _error(409, "ALREADY_EXISTS", f"Resource '{name}' already exists")
    accelerator = _accelerator(body)
    try:
        count = hosts(accelerator)
    except ValueError:
        raise _error(
            400,
            "INVALID_ARGUMENT",
            f"Accelerator type '{accelerator}' is not available in zone {location}.",
        ) from None
    node = {k: copy.deepcopy(v) for k, v in body.items() if k not in _OUTPUT}
    config = dict(node.get("networkConfig") or {})
    network = network_url(project.id, config.get("network"))
    config["network"] = network.split("/compute/v1/", 1)[1]
    node.update(
        name=name,
        acceleratorType=accelerator,
        state="READY",
        health="HEALTHY",
        createTime=rfc3339_now(),
        id=new_id(),
        apiVersion="V2",
        networkConfig=config,
    )
    node.setdefault("runtimeVersion", "tpu-ubuntu2204-base")
    external = bool(config.get("enableExternalIps"))
    node["networkEndpoints"] = _endpoints(call.store, project, network, external, count)
    nodes[node_id] = node
    return 200, _operation(call.store, project, location, "create", name, node)


def get_node(call: Call) -> Reply:
    return 200, _node(call)[2]


def list_nodes(call: Call) -> Reply:
    project = _project(call)
    location = _location(call, project, allow_all=True)
    if location == "-":
        everything = project.collection("tpuNodes")
        nodes = [n for loc in sorted(everything) for _, n in sorted(everything[loc].items())]
    else:
        nodes = [n for _, n in sorted(_nodes(project, location).items())]
    limit = call.int_arg("pageSize", MAX_PAGE, MAX_PAGE)
    start = 0
    token = call.query.get("pageToken")
    if token:
        try:
            last = str(decode_token(token))
        except ValueError:
            raise _error(400, "INVALID_ARGUMENT", f"Invalid page token '{token}'") from None
        start = sum(1 for n in nodes if n["name"] <= last)
    page = nodes[start : start + limit]
    reply: dict[str, Any] = {"nodes": page}
    if start + limit < len(nodes):
        reply["nextPageToken"] = encode_token(page[-1]["name"])
    return 200, reply


def delete_node(call: Call) -> Reply:
    project, location, node = _node(call)
    del _nodes(project, location)[call.params["node"]]
    return 200, _operation(call.store, project, location, "delete", node["name"], None)


def _set_state(call: Call, state: str, verb: str) -> Reply:
    project, location, node = _node(call)
    node["state"] = state
    return 200, _operation(call.store, project, location, verb, node["name"], node)


def start_node(call: Call) -> Reply:
    return _set_state(call, "READY", "start")


def stop_node(call: Call) -> Reply:
    return _set_state(call, "STOPPED", "stop")


# The fields `updateMask` may name, as Google documents them, by both spellings clients send.
_PATCHABLE = {
    "description": "description",
    "tags": "tags",
    "labels": "labels",
    "metadata": "metadata",
    "network_config.enable_external_ips": "networkConfig.enableExternalIps",
    "networkConfig.enableExternalIps": "networkConfig.enableExternalIps",
}


def patch_node(call: Call) -> Reply:
    """Change the fields `updateMask` names (labels, as `gcloud compute tpus tpu-vm update
    --update-labels` does); a field of the mask the body leaves out is cleared."""
    body = call.body or {}
    validate("tpu", "Node", body, where="node")
    project, location, node = _node(call)
    mask = [f.strip() for f in (call.query.get("updateMask") or "").split(",") if f.strip()]
    if not mask:
        raise _error(400, "INVALID_ARGUMENT", "update_mask is required.")
    unknown = [f for f in mask if f not in _PATCHABLE]
    if unknown:
        raise _error(
            400,
            "INVALID_ARGUMENT",
            f"Field(s) {', '.join(unknown)} cannot be updated; the supported fields are "
            "description, tags, labels, metadata and network_config.enable_external_ips.",
        )
    for field in {_PATCHABLE[f] for f in mask}:
        if field == "networkConfig.enableExternalIps":
            external = (body.get("networkConfig") or {}).get("enableExternalIps")
            _set_external(project, node, bool(external))
        elif field in body:
            node[field] = copy.deepcopy(body[field])
        else:
            node.pop(field, None)
    return 200, _operation(call.store, project, location, "update", node["name"], node)


def _set_external(project: Project, node: dict[str, Any], external: bool) -> None:
    node.setdefault("networkConfig", {})["enableExternalIps"] = external
    for endpoint in node["networkEndpoints"]:
        if not external:
            endpoint.pop("accessConfig", None)
        elif "accessConfig" not in endpoint:
            endpoint["accessConfig"] = {"externalIp": external_v4(project)}


_L = "/v2/projects/<project>/locations/<location>"
RULES = [
    (f"{_L}/nodes", ["GET"], list_nodes),
    (f"{_L}/nodes", ["POST"], create_node),
    (f"{_L}/nodes/<node>", ["GET"], get_node),
    (f"{_L}/nodes/<node>", ["DELETE"], delete_node),
    (f"{_L}/nodes/<node>", ["PATCH"], patch_node),
    (f"{_L}/nodes/<node>:start", ["POST"], start_node),
    (f"{_L}/nodes/<node>:stop", ["POST"], stop_node),
    (f"{_L}/operations/<operation>", ["GET"], get_operation),
]
