"""TPU v2 nodes through google-cloud-tpu's TpuClient (REST): operations, endpoints, pages."""

from __future__ import annotations

import ipaddress

import pytest
from google.api_core import exceptions as gexc
from google.cloud import tpu_v2

from mldns.emulator.tpu_api import hosts

from .fleet import vm
from .helpers import PROJECT

LOCATION = "us-central2-b"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"


def create(tpu, node_id: str, accelerator: str = "v4-8", **fields) -> tpu_v2.Node:
    node = tpu_v2.Node(
        accelerator_type=accelerator, runtime_version="tpu-ubuntu2204-base", **fields
    )
    return tpu.create_node(parent=PARENT, node_id=node_id, node=node).result(timeout=30)


@pytest.mark.parametrize(
    "accelerator,count",
    [
        ("v2-8", 1),
        ("v3-32", 4),
        ("v4-8", 1),
        ("v4-32", 4),
        ("v5p-16", 2),
        ("v5litepod-4", 1),
        ("v5litepod-8", 1),
        ("v5litepod-16", 4),
        ("v5litepod-256", 64),
        ("v6e-8", 1),
        ("v6e-64", 16),
    ],
)
def test_hosts_per_accelerator_type(accelerator, count):
    assert hosts(accelerator) == count


def test_create_polls_operation_to_ready_node(emu, tpu):
    operation = tpu.create_node(
        parent=PARENT,
        node_id="llama",
        node=tpu_v2.Node(accelerator_type="v5litepod-16", labels={"job": "llama"}),
    )
    assert operation.operation.done is False  # the reply; the next look finishes it
    assert operation.operation.name.startswith(f"{PARENT}/operations/")
    node = operation.result(timeout=30)
    assert node.name == f"{PARENT}/nodes/llama"
    assert node.state == tpu_v2.Node.State.READY
    assert dict(node.labels) == {"job": "llama"}
    assert len(node.network_endpoints) == 4
    addresses = [e.ip_address for e in node.network_endpoints]
    assert len(set(addresses)) == 4
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.128.0.0/9") for a in addresses)
    assert {e.port for e in node.network_endpoints} == {8470}
    assert not any(e.access_config.external_ip for e in node.network_endpoints)


def test_external_ips_and_shared_address_pool(emu, tpu, instances, zone_ops):
    emu.configure(operation_polls_to_done=1)
    instances.insert_unary(project=PROJECT, zone="us-central1-a", instance_resource=vm("w0"))
    node = create(
        tpu, "ext", "v4-32", network_config=tpu_v2.NetworkConfig(enable_external_ips=True)
    )
    externals = [e.access_config.external_ip for e in node.network_endpoints]
    assert len(set(externals)) == 4 and all(externals)
    vm_ip = instances.get(project=PROJECT, zone="us-central1-a", instance="w0")
    assert vm_ip.network_interfaces[0].network_i_p not in {
        e.ip_address for e in node.network_endpoints
    }


def test_get_list_pages_stop_start_delete(emu, tpu):
    emu.configure(operation_polls_to_done=1)
    for i in range(3):
        create(tpu, f"n{i}")
    assert tpu.get_node(name=f"{PARENT}/nodes/n1").accelerator_type == "v4-8"
    request = tpu_v2.ListNodesRequest(parent=PARENT, page_size=2)
    pages = list(tpu.list_nodes(request=request).pages)
    assert [[n.name.rsplit("/", 1)[1] for n in p.nodes] for p in pages] == [["n0", "n1"], ["n2"]]
    everywhere = tpu.list_nodes(parent=f"projects/{PROJECT}/locations/-")
    assert len(list(everywhere)) == 3

    stopped = tpu.stop_node(request={"name": f"{PARENT}/nodes/n0"}).result(timeout=30)
    assert stopped.state == tpu_v2.Node.State.STOPPED
    assert tpu.get_node(name=f"{PARENT}/nodes/n0").state == tpu_v2.Node.State.STOPPED
    started = tpu.start_node(request={"name": f"{PARENT}/nodes/n0"}).result(timeout=30)
    assert started.state == tpu_v2.Node.State.READY

    tpu.delete_node(name=f"{PARENT}/nodes/n0").result(timeout=30)
    with pytest.raises(gexc.NotFound):
        tpu.get_node(name=f"{PARENT}/nodes/n0")
    assert [n.name.rsplit("/", 1)[1] for n in tpu.list_nodes(parent=PARENT)] == ["n1", "n2"]


def test_update_changes_the_fields_of_its_mask(emu, tpu):
    """Labels moved as `gcloud compute tpus tpu-vm update --update-labels` moves them; a field
    the mask names and the node leaves out is cleared; external addresses come and go."""
    from google.protobuf import field_mask_pb2

    emu.configure(operation_polls_to_done=1)
    create(tpu, "n0", "v4-16", labels={"job": "llama", "slice": "a"}, description="first")
    name = f"{PARENT}/nodes/n0"

    def update(node: tpu_v2.Node, *paths: str) -> tpu_v2.Node:
        node.name = name
        mask = field_mask_pb2.FieldMask(paths=list(paths))
        return tpu.update_node(node=node, update_mask=mask).result(timeout=30)

    moved = update(tpu_v2.Node(labels={"job": "llama", "slice": "b"}), "labels")
    assert dict(moved.labels) == {"job": "llama", "slice": "b"}
    assert moved.description == "first"  # not in the mask
    assert update(tpu_v2.Node(), "description").description == ""
    opened = update(
        tpu_v2.Node(network_config=tpu_v2.NetworkConfig(enable_external_ips=True)),
        "network_config.enable_external_ips",
    )
    assert all(e.access_config.external_ip for e in opened.network_endpoints)
    assert len(opened.network_endpoints) == 2
    closed = update(tpu_v2.Node(), "network_config.enable_external_ips")
    assert not any(e.access_config.external_ip for e in closed.network_endpoints)
    assert [e.ip_address for e in closed.network_endpoints] == [
        e.ip_address for e in opened.network_endpoints
    ]
    with pytest.raises(gexc.BadRequest, match="update_mask is required"):
        update(tpu_v2.Node(labels={"x": "y"}))
    with pytest.raises(gexc.BadRequest, match="acceleratorType cannot be updated"):
        update(tpu_v2.Node(accelerator_type="v4-8"), "accelerator_type")
    assert dict(tpu.get_node(name=name).labels) == {"job": "llama", "slice": "b"}


def test_accelerator_config_topology(emu, tpu):
    emu.configure(operation_polls_to_done=1)
    config = tpu_v2.AcceleratorConfig(
        type_=tpu_v2.AcceleratorConfig.Type.V5LITE_POD, topology="4x4"
    )
    node = tpu.create_node(
        parent=PARENT, node_id="topo", node=tpu_v2.Node(accelerator_config=config)
    ).result(timeout=30)
    assert node.accelerator_type == "v5litepod-16"
    assert len(node.network_endpoints) == 4


def test_errors(emu, tpu):
    emu.configure(operation_polls_to_done=1)
    unknown = "Location mars-1a is not found or access is unauthorized"
    with pytest.raises(gexc.Forbidden, match=unknown):
        tpu.get_node(name=f"projects/{PROJECT}/locations/mars-1a/nodes/x")
    with pytest.raises(gexc.Forbidden, match=unknown):
        list(tpu.list_nodes(parent=f"projects/{PROJECT}/locations/mars-1a"))
    with pytest.raises(gexc.BadRequest, match="v9-8"):
        create(tpu, "bad", "v9-8")
    create(tpu, "n0")
    with pytest.raises(gexc.Conflict):
        create(tpu, "n0")
    with pytest.raises(gexc.BadRequest):
        tpu.create_node(parent=PARENT, node_id="Bad_Id", node=tpu_v2.Node(accelerator_type="v4-8"))
    with pytest.raises(gexc.NotFound):
        tpu.get_node(name=f"{PARENT}/nodes/missing")


def test_faults_and_counts_on_tpu_paths(emu, tpu):
    emu.add_fault(method="POST", path=r"^/v2/.*/nodes$", status=503, count=1)
    with pytest.raises(gexc.ServiceUnavailable):
        tpu.create_node(parent=PARENT, node_id="n0", node=tpu_v2.Node(accelerator_type="v4-8"))
    assert list(tpu.list_nodes(parent=PARENT)) == []
    counts = emu.requests()
    assert counts["by_api"] == {"tpu": 2} and counts["writes_by_api"] == {"tpu": 1}
