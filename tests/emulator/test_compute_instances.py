"""Compute instances through compute_v1.InstancesClient (REST): CRUD, filters, pages, addresses."""

from __future__ import annotations

import ipaddress

import pytest
from google.api_core import exceptions as gexc
from google.cloud import compute_v1

from .fleet import ZONE, insert, vm
from .helpers import PROJECT

Status = compute_v1.Operation.Status
BASE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"


def names(pager) -> list[str]:
    return [i.name for i in pager]


def aggregated(instances, **request) -> dict[str, list[str]]:
    req = compute_v1.AggregatedListInstancesRequest(project=PROJECT, **request)
    return {
        zone: [i.name for i in scoped.instances]
        for zone, scoped in instances.aggregated_list(request=req)
        if scoped.instances
    }


def test_insert_get_delete_and_zone_operations(instances, zone_ops):
    op = instances.insert_unary(
        project=PROJECT, zone=ZONE, instance_resource=vm("w0", {"job": "llama"})
    )
    assert op.status == Status.PENDING
    assert op.zone == f"{BASE}/zones/{ZONE}"
    assert op.target_link == f"{BASE}/zones/{ZONE}/instances/w0"
    assert zone_ops.get(project=PROJECT, zone=ZONE, operation=op.name).status == Status.DONE
    got = instances.get(project=PROJECT, zone=ZONE, instance="w0")
    assert got.status == "RUNNING"
    assert got.self_link == f"{BASE}/zones/{ZONE}/instances/w0"
    assert got.machine_type == f"{BASE}/zones/{ZONE}/machineTypes/n2-standard-8"
    assert got.network_interfaces[0].network == f"{BASE}/global/networks/default"
    assert dict(got.labels) == {"job": "llama"}
    with pytest.raises(gexc.Conflict):
        instances.insert_unary(project=PROJECT, zone=ZONE, instance_resource=vm("w0"))
    op = instances.delete_unary(project=PROJECT, zone=ZONE, instance="w0")
    assert zone_ops.wait(project=PROJECT, zone=ZONE, operation=op.name).status == Status.DONE
    with pytest.raises(gexc.NotFound):
        instances.get(project=PROJECT, zone=ZONE, instance="w0")
    assert [o.name for o in zone_ops.list(project=PROJECT, zone=ZONE)] != []


def test_unknown_zone_is_400_as_google_answers(instances, zone_ops):
    with pytest.raises(gexc.BadRequest, match="'mars-east1-a'. Unknown zone"):
        instances.insert_unary(project=PROJECT, zone="mars-east1-a", instance_resource=vm("w0"))
    with pytest.raises(gexc.BadRequest, match="Unknown zone"):
        names(instances.list(project=PROJECT, zone="us-east1-a"))  # us-east1 has b, c, d
    with pytest.raises(gexc.NotFound):
        zone_ops.get(project=PROJECT, zone="us-east1-b", operation="operation-missing")


def test_instance_without_interface_is_400(instances):
    with pytest.raises(gexc.BadRequest, match="networkInterfaces"):
        instances.insert_unary(
            project=PROJECT,
            zone=ZONE,
            instance_resource=compute_v1.Instance(name="w0", machine_type="n2-standard-8"),
        )


@pytest.fixture
def fleet(instances, zone_ops):
    """Five instances over two zones with job / rank labels."""
    specs = [
        ("a0", ZONE, {"job": "llama", "rank": "0"}),
        ("a1", ZONE, {"job": "llama", "rank": "1"}),
        ("a2", ZONE, {"job": "llama"}),
        ("b0", "europe-west4-b", {"job": "gemma", "rank": "0"}),
        ("b1", "europe-west4-b", {"job": "llama", "rank": "2"}),
    ]
    for name, zone, labels in specs:
        insert(instances, zone_ops, vm(name, labels), zone=zone)
    return specs


def test_aggregated_list_keys_zones_and_warns_for_empty_ones(instances, fleet):
    req = compute_v1.AggregatedListInstancesRequest(project=PROJECT)
    scopes = dict(instances.aggregated_list(request=req))
    assert names(scopes[f"zones/{ZONE}"].instances) == ["a0", "a1", "a2"]
    assert names(scopes["zones/europe-west4-b"].instances) == ["b0", "b1"]
    empty = scopes["zones/asia-east1-a"]
    assert not empty.instances
    assert empty.warning.code == "NO_RESULTS_ON_PAGE"
    assert empty.warning.data[0].value == "zones/asia-east1-a"


FILTERS = [
    ('labels.job = "llama"', {ZONE: ["a0", "a1", "a2"], "europe-west4-b": ["b1"]}),
    ("labels.rank:*", {ZONE: ["a0", "a1"], "europe-west4-b": ["b0", "b1"]}),
    ('(labels.job = "llama") (labels.rank:*)', {ZONE: ["a0", "a1"], "europe-west4-b": ["b1"]}),
    ('(labels.job = "llama") AND (labels.rank = "2")', {"europe-west4-b": ["b1"]}),
    ('(labels.job = "gemma") OR (labels.rank = "1")', {ZONE: ["a1"], "europe-west4-b": ["b0"]}),
    ('labels.job != "llama"', {"europe-west4-b": ["b0"]}),
    ("NOT labels.rank:*", {ZONE: ["a2"]}),
    ("status = RUNNING", {ZONE: ["a0", "a1", "a2"], "europe-west4-b": ["b0", "b1"]}),
    ("status = TERMINATED", {}),
    ('name eq "a[01]"', {ZONE: ["a0", "a1"]}),
    ('name = "b*"', {"europe-west4-b": ["b0", "b1"]}),
]


def test_filters(instances, fleet):
    for expression, expected in FILTERS:
        got = aggregated(instances, filter=expression)
        assert got == {f"zones/{z}": n for z, n in expected.items()}, expression


def test_bad_filter_is_400(instances, fleet):
    with pytest.raises(gexc.BadRequest, match="filter"):
        aggregated(instances, filter='(labels.job = "llama"')
    with pytest.raises(gexc.BadRequest, match="filter"):
        aggregated(instances, filter='name eq "a.*" AND labels.job = "x"')


def test_zone_list_filters_and_pages(instances, fleet):
    req = compute_v1.ListInstancesRequest(project=PROJECT, zone=ZONE, max_results=2)
    pager = instances.list(request=req)
    first = next(iter(pager.pages))
    assert [i.name for i in first.items] == ["a0", "a1"] and first.next_page_token
    assert names(instances.list(request=req)) == ["a0", "a1", "a2"]
    req.filter = "labels.rank:*"
    assert names(instances.list(request=req)) == ["a0", "a1"]


def test_aggregated_pages_cover_every_instance_once(instances, fleet):
    req = compute_v1.AggregatedListInstancesRequest(project=PROJECT, max_results=2)
    pages = list(instances.aggregated_list(request=req).pages)
    assert len(pages) == 3
    seen = [i.name for page in pages for scoped in page.items.values() for i in scoped.instances]
    assert sorted(seen) == ["a0", "a1", "a2", "b0", "b1"]
    assert len(seen) == 5
    assert all(sum(len(s.instances) for s in p.items.values()) <= 2 for p in pages)
    with pytest.raises(gexc.BadRequest):
        req.page_token = "not-a-token"
        list(instances.aggregated_list(request=req))


def test_addresses_unique_and_in_each_networks_range(instances, zone_ops):
    for i in range(4):
        insert(instances, zone_ops, vm(f"d{i}", external=True))
        insert(instances, zone_ops, vm(f"t{i}", network="global/networks/training"))
    listed = [i for _, s in instances.aggregated_list(project=PROJECT) for i in s.instances]
    by_net: dict[str, list[str]] = {}
    for inst in listed:
        nic = inst.network_interfaces[0]
        by_net.setdefault(nic.network.rsplit("/", 1)[-1], []).append(nic.network_i_p)
    assert all(
        ipaddress.ip_address(a) in ipaddress.ip_network("10.128.0.0/9") for a in by_net["default"]
    )
    training = ipaddress.ip_network(f"{by_net['training'][0].rsplit('.', 2)[0]}.0.0/16")
    assert all(ipaddress.ip_address(a) in training for a in by_net["training"])
    assert not training.overlaps(ipaddress.ip_network("10.128.0.0/9"))
    for addresses in by_net.values():
        assert len(set(addresses)) == len(addresses) == 4
    nat = [i.network_interfaces[0].access_configs[0].nat_i_p for i in listed if i.name[0] == "d"]
    assert len(set(nat)) == 4 and all(ipaddress.ip_address(a).version == 4 for a in nat)


def test_ipv6_internal_and_external(instances, zone_ops):
    insert(instances, zone_ops, vm("v6i", stack_type="IPV4_IPV6", ipv6_access_type="INTERNAL"))
    insert(instances, zone_ops, vm("v6e", stack_type="IPV4_IPV6", ipv6_access_type="EXTERNAL"))
    internal = instances.get(project=PROJECT, zone=ZONE, instance="v6i").network_interfaces[0]
    external = instances.get(project=PROJECT, zone=ZONE, instance="v6e").network_interfaces[0]
    assert ipaddress.ip_address(internal.ipv6_address).version == 6
    assert internal.network_i_p
    assert not external.ipv6_address
    assert ipaddress.ip_address(external.ipv6_access_configs[0].external_ipv6).version == 6


def test_stop_and_start(instances, zone_ops):
    insert(instances, zone_ops, vm("s0", {"job": "llama"}, external=True))
    before = instances.get(project=PROJECT, zone=ZONE, instance="s0").network_interfaces[0]
    op = instances.stop_unary(project=PROJECT, zone=ZONE, instance="s0")
    assert op.operation_type == "stop"
    stopped = instances.get(project=PROJECT, zone=ZONE, instance="s0")
    assert stopped.status == "TERMINATED"
    assert stopped.network_interfaces[0].network_i_p == before.network_i_p
    assert not stopped.network_interfaces[0].access_configs[0].nat_i_p
    assert aggregated(instances, filter="status = RUNNING") == {}
    instances.start_unary(project=PROJECT, zone=ZONE, instance="s0")
    started = instances.get(project=PROJECT, zone=ZONE, instance="s0")
    assert started.status == "RUNNING"
    assert started.network_interfaces[0].access_configs[0].nat_i_p
    assert aggregated(instances, filter="status = RUNNING") == {f"zones/{ZONE}": ["s0"]}


def test_suspend_resume_and_reset(instances, zone_ops):
    """A suspended VM leaves a RUNNING filter and comes back with its addresses; a reset keeps
    them; a call on a VM not in the state it needs is 400 resourceNotReady."""
    insert(instances, zone_ops, vm("p0", {"job": "llama"}, external=True))
    where = {"project": PROJECT, "zone": ZONE, "instance": "p0"}
    before = instances.get(**where).network_interfaces[0]
    assert instances.suspend_unary(**where).operation_type == "suspend"
    assert instances.get(**where).status == "SUSPENDED"
    assert aggregated(instances, filter="status = RUNNING") == {}
    with pytest.raises(gexc.BadRequest, match="is not ready"):
        instances.reset_unary(**where)
    assert instances.resume_unary(**where).operation_type == "resume"
    with pytest.raises(gexc.BadRequest, match="is not ready"):
        instances.resume_unary(**where)
    assert instances.reset_unary(**where).operation_type == "reset"
    after = instances.get(**where)
    assert after.status == "RUNNING"
    assert after.network_interfaces[0].network_i_p == before.network_i_p
    assert after.network_interfaces[0].access_configs[0].nat_i_p == (
        before.access_configs[0].nat_i_p
    )
    assert aggregated(instances, filter="status = RUNNING") == {f"zones/{ZONE}": ["p0"]}


def test_set_labels_needs_the_fingerprint_of_the_labels_it_replaces(instances, zone_ops):
    """A rank relabelled by hand or by a scheduler: a missing or stale fingerprint is 412, as
    Google answers, so two writers cannot lose each other's labels."""
    insert(instances, zone_ops, vm("r0", {"job": "llama"}))
    first = instances.get(project=PROJECT, zone=ZONE, instance="r0").label_fingerprint

    def set_labels(labels: dict[str, str], fingerprint: str | None) -> compute_v1.Operation:
        request = compute_v1.InstancesSetLabelsRequest(labels=labels)
        if fingerprint is not None:
            request.label_fingerprint = fingerprint
        return instances.set_labels_unary(
            project=PROJECT, zone=ZONE, instance="r0", instances_set_labels_request_resource=request
        )

    with pytest.raises(gexc.PreconditionFailed, match="Labels fingerprint either invalid"):
        set_labels({"job": "llama", "rank": "0"}, None)
    assert set_labels({"job": "llama", "rank": "0"}, first).operation_type == "setLabels"
    got = instances.get(project=PROJECT, zone=ZONE, instance="r0")
    assert dict(got.labels) == {"job": "llama", "rank": "0"}
    assert got.label_fingerprint != first
    with pytest.raises(gexc.PreconditionFailed):
        set_labels({"job": "llama"}, first)  # read before the change above
    assert aggregated(instances, filter="labels.rank = 0") == {f"zones/{ZONE}": ["r0"]}


def test_instances_survive_a_restart(tmp_path):
    from google.auth.credentials import AnonymousCredentials

    from mldns.emulator import Emulator

    data = tmp_path / "cloud.json"
    for round_ in range(2):
        with Emulator(data_file=data) as emu:
            client = compute_v1.InstancesClient(
                credentials=AnonymousCredentials(),
                transport="rest",
                client_options={"api_endpoint": emu.url},
            )
            if round_ == 0:
                client.insert_unary(project=PROJECT, zone=ZONE, instance_resource=vm("p0"))
                ip = client.get(project=PROJECT, zone=ZONE, instance="p0").network_interfaces[0]
            else:
                again = client.get(project=PROJECT, zone=ZONE, instance="p0")
                assert again.network_interfaces[0].network_i_p == ip.network_i_p
                client.insert_unary(project=PROJECT, zone=ZONE, instance_resource=vm("p1"))
                new = client.get(project=PROJECT, zone=ZONE, instance="p1")
                assert new.network_interfaces[0].network_i_p != ip.network_i_p


def test_faults_hit_instance_paths(emu, instances):
    emu.add_fault(method="GET", path=r"/aggregated/instances", status=429, count=1)
    with pytest.raises(gexc.TooManyRequests):
        aggregated(instances)
    assert aggregated(instances) == {}


def test_zones_and_regions_are_listed_as_gcloud_reads_them(emu):
    """`gcloud compute zones list` / `regions list`: the zones the emulator accepts, and each
    region with its zones."""
    from .conftest import _client

    zones_client = _client(compute_v1.ZonesClient, emu)
    regions_client = _client(compute_v1.RegionsClient, emu)
    listed = [z.name for z in zones_client.list(project=PROJECT)]
    assert ZONE in listed and "us-central1-f" in listed and "us-east1-a" not in listed
    assert listed == sorted(listed)
    only = zones_client.list(request={"project": PROJECT, "filter": 'name = "europe-west4-b"'})
    assert [z.name for z in only] == ["europe-west4-b"]
    region = regions_client.get(project=PROJECT, region="europe-west4")
    assert [z.rsplit("/", 1)[1] for z in region.zones] == [
        "europe-west4-a",
        "europe-west4-b",
        "europe-west4-c",
    ]
    assert "us-central1" in [r.name for r in regions_client.list(project=PROJECT)]
    with pytest.raises(gexc.NotFound):
        regions_client.get(project=PROJECT, region="mars-east1")


def test_networks_start_with_default_and_are_made_and_deleted(emu):
    """`gcloud compute networks create/list/describe/delete`: a project starts with `default`,
    which stays deleted once deleted."""
    from .conftest import _client

    nets = _client(compute_v1.NetworksClient, emu)
    assert [n.name for n in nets.list(project=PROJECT)] == ["default"]
    body = compute_v1.Network(name="train", auto_create_subnetworks=False)
    op = nets.insert_unary(project=PROJECT, network_resource=body)
    assert op.target_link == f"{BASE}/global/networks/train"
    train = nets.get(project=PROJECT, network="train")
    assert train.auto_create_subnetworks is False and train.routing_config.routing_mode
    with pytest.raises(gexc.Conflict):
        nets.insert_unary(project=PROJECT, network_resource=body)
    nets.delete_unary(project=PROJECT, network="default")
    assert [n.name for n in nets.list(project=PROJECT)] == ["train"]
    with pytest.raises(gexc.NotFound):
        nets.get(project=PROJECT, network="default")
