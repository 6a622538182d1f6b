"""Admin actions on the fleet: preempt a share of instances or TPU nodes, as Spot capacity goes.

The choice is deterministic for a seed: candidates are sorted (zone and name, or node name) and
`random.Random(seed).sample` picks `round(share * n)` of them, so a test can assert which went.
"""

from __future__ import annotations

import random
from typing import Any

from .compute_instances import by_zone, stop
from .store import Store


def _selection(body: dict[str, Any]) -> tuple[str, float, dict[str, str], int]:
    project = body.get("project")
    if not isinstance(project, str) or not project:
        raise ValueError("'project' is required: the project id whose fleet is preempted")
    share = body.get("share", 1.0)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise ValueError(f"'share' must be a number from 0 to 1, not {share!r}")
    labels = body.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise ValueError("'labels' must be an object of label keys to string values")
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"'seed' must be an integer, not {seed!r}")
    return project, float(share), labels, seed


def _pick(candidates: list[Any], share: float, seed: int) -> list[Any]:
    count = int(share * len(candidates) + 0.5)
    return random.Random(seed).sample(candidates, count)


def _matches(resource: dict[str, Any], labels: dict[str, str]) -> bool:
    have = resource.get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def preempt_instances(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    """RUNNING instances matching `labels` (and `zone`) become TERMINATED, or go when DELETE."""
    project_id, share, labels, seed = _selection(body)
    zone = body.get("zone")
    with store.lock:
        project = store.project(project_id)
        if project is None:
            raise ValueError(f"project {project_id!r} is configured as missing")
        instances = by_zone(project)
        candidates = [
            (z, name)
            for z in sorted(instances)
            if zone in (None, z)
            for name in sorted(instances[z])
            if instances[z][name]["status"] == "RUNNING" and _matches(instances[z][name], labels)
        ]
        chosen = sorted(_pick(candidates, share, seed))
        for z, name in chosen:
            instance = instances[z][name]
            action = (instance.get("scheduling") or {}).get("instanceTerminationAction")
            if action == "DELETE":
                del instances[z][name]
            else:
                stop(project, instance)
        store.save()
    return {"preempted": [f"zones/{z}/instances/{n}" for z, n in chosen]}


def preempt_tpu_nodes(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    """READY TPU nodes matching `labels` (and `location`) become PREEMPTED."""
    project_id, share, labels, seed = _selection(body)
    location = body.get("location")
    with store.lock:
        project = store.project(project_id)
        if project is None:
            raise ValueError(f"project {project_id!r} is configured as missing")
        nodes = project.collection("tpuNodes")
        candidates = sorted(
            node["name"]
            for loc, by_id in nodes.items()
            if location in (None, loc)
            for node in by_id.values()
            if node["state"] == "READY" and _matches(node, labels)
        )
        chosen = sorted(_pick(candidates, share, seed))
        for name in chosen:
            loc, node_id = name.split("/locations/")[1].split("/nodes/")
            nodes[loc][node_id]["state"] = "PREEMPTED"
        store.save()
    return {"preempted": chosen}


ROUTES = {
    ("POST", "compute/preempt"): preempt_instances,
    ("POST", "tpu/preempt"): preempt_tpu_nodes,
}
