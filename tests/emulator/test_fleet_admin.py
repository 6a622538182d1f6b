"""Admin preemption of instances and TPU nodes, seen through the official clients."""

from __future__ import annotations

import requests
from google.cloud import compute_v1, tpu_v2

from .fleet import ZONE, insert, vm
from .helpers import PROJECT


def statuses(instances) -> dict[str, str]:
    req = compute_v1.AggregatedListInstancesRequest(project=PROJECT)
    return {
        i.name: i.status for _, s in instances.aggregated_list(request=req) for i in s.instances
    }


def test_preempt_share_of_matching_instances(emu, instances, zone_ops):
    for i in range(10):
        insert(instances, zone_ops, vm(f"l{i}", {"job": "llama"}, external=True))
    insert(instances, zone_ops, vm("other", {"job": "gemma"}))
    reply = requests.post(
        f"{emu.url}/_emulator/compute/preempt",
        json={"project": PROJECT, "labels": {"job": "llama"}, "share": 0.3, "seed": 7},
        timeout=10,
    )
    assert reply.status_code == 200
    preempted = reply.json()["preempted"]
    assert len(preempted) == 3
    gone = {p.rsplit("/", 1)[1] for p in preempted}
    now = statuses(instances)
    assert {n for n, s in now.items() if s == "TERMINATED"} == gone
    assert now["other"] == "RUNNING"
    stopped = instances.get(project=PROJECT, zone=ZONE, instance=sorted(gone)[0])
    assert not stopped.network_interfaces[0].access_configs[0].nat_i_p

    # the same seed over the same candidates picks the same names
    emu.reset()
    for i in range(10):
        insert(instances, zone_ops, vm(f"l{i}", {"job": "llama"}))
    again = emu.preempt_instances(PROJECT, 0.3, labels={"job": "llama"}, seed=7)
    assert again == preempted
    # only RUNNING instances are candidates: a second round takes from the rest
    more = emu.preempt_instances(PROJECT, 1.0, labels={"job": "llama"})
    assert len(more) == 7 and not set(more) & set(again)


def test_preempt_spot_with_delete_action_removes_instance(emu, instances, zone_ops):
    body = vm("spot", {"job": "llama"})
    body.scheduling = compute_v1.Scheduling(
        provisioning_model="SPOT", instance_termination_action="DELETE"
    )
    insert(instances, zone_ops, body)
    assert emu.preempt_instances(PROJECT, 1.0) == [f"zones/{ZONE}/instances/spot"]
    assert statuses(instances) == {}


def test_preempt_tpu_nodes(emu, tpu):
    emu.configure(operation_polls_to_done=1)
    parent = f"projects/{PROJECT}/locations/us-central2-b"
    for i in range(4):
        node = tpu_v2.Node(accelerator_type="v4-8", labels={"job": "llama" if i < 3 else "x"})
        tpu.create_node(parent=parent, node_id=f"n{i}", node=node).result(timeout=30)
    reply = requests.post(
        f"{emu.url}/_emulator/tpu/preempt",
        json={"project": PROJECT, "labels": {"job": "llama"}, "share": 0.5, "seed": 1},
        timeout=10,
    )
    preempted = reply.json()["preempted"]
    assert len(preempted) == 2
    states = {n.name: n.state for n in tpu.list_nodes(parent=parent)}
    assert {n for n, s in states.items() if s == tpu_v2.Node.State.PREEMPTED} == set(preempted)
    assert states[f"{parent}/nodes/n3"] == tpu_v2.Node.State.READY


def test_preempt_bad_share_is_400(emu):
    reply = requests.post(
        f"{emu.url}/_emulator/compute/preempt", json={"project": PROJECT, "share": 2}, timeout=10
    )
    assert reply.status_code == 400 and "share" in reply.json()["error"]["message"]
