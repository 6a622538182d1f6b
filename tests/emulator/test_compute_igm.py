"""Managed instance groups through the official compute_v1 clients (REST), zonal and regional."""

from __future__ import annotations

import re

import pytest
from google.api_core import exceptions as gexc
from google.cloud import compute_v1

from .fleet import ZONE
from .helpers import PROJECT

BASE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"
Status = compute_v1.Operation.Status


@pytest.fixture
def template(templates) -> str:
    body = compute_v1.InstanceTemplate(
        name="llama-tpl",
        properties=compute_v1.InstanceProperties(
            machine_type="a3-highgpu-8g",
            labels={"job": "llama"},
            network_interfaces=[compute_v1.NetworkInterface(network="global/networks/default")],
        ),
    )
    templates.insert_unary(project=PROJECT, instance_template_resource=body)
    got = templates.get(project=PROJECT, instance_template="llama-tpl")
    assert got.self_link == f"{BASE}/global/instanceTemplates/llama-tpl"
    return got.self_link


def _group(name: str, template: str, size: int, **extra) -> compute_v1.InstanceGroupManager:
    return compute_v1.InstanceGroupManager(
        name=name, base_instance_name=name, instance_template=template, target_size=size, **extra
    )


def managed(client, **where) -> list[compute_v1.ManagedInstance]:
    return list(client.list_managed_instances(project=PROJECT, **where))


def members_in_aggregated(instances) -> dict[str, str]:
    """Name -> zone of every instance the aggregated list shows."""
    req = compute_v1.AggregatedListInstancesRequest(project=PROJECT)
    return {
        i.name: zone.split("/")[1]
        for zone, scoped in instances.aggregated_list(request=req)
        for i in scoped.instances
    }


def test_zonal_group_insert_resize_list_delete(igms, instances, zone_ops, template):
    op = igms.insert_unary(
        project=PROJECT, zone=ZONE, instance_group_manager_resource=_group("llama", template, 3)
    )
    assert op.zone == f"{BASE}/zones/{ZONE}"
    assert zone_ops.wait(project=PROJECT, zone=ZONE, operation=op.name).status == Status.DONE
    group = igms.get(project=PROJECT, zone=ZONE, instance_group_manager="llama")
    assert group.target_size == 3 and group.current_actions.none == 3
    assert group.instance_template == template
    where = {"zone": ZONE, "instance_group_manager": "llama"}
    members = managed(igms, **where)
    assert len(members) == 3
    for m in members:
        assert re.fullmatch(r"llama-[a-z0-9]{4}", m.name)
        assert m.instance == f"{BASE}/zones/{ZONE}/instances/{m.name}"
        assert m.instance_status == "RUNNING" and m.current_action == "NONE"
        got = instances.get(project=PROJECT, zone=ZONE, instance=m.name)
        assert dict(got.labels) == {"job": "llama"}
        assert got.machine_type.endswith("/machineTypes/a3-highgpu-8g")
        assert got.network_interfaces[0].network_i_p
    assert set(members_in_aggregated(instances)) == {m.name for m in members}

    igms.resize_unary(project=PROJECT, size=5, **where)
    assert len(managed(igms, **where)) == 5
    assert len(members_in_aggregated(instances)) == 5
    igms.resize_unary(project=PROJECT, size=2, **where)
    left = {m.name for m in managed(igms, **where)}
    assert len(left) == 2 and set(members_in_aggregated(instances)) == left
    assert igms.get(project=PROJECT, **where).target_size == 2

    victim = sorted(left)[0]
    request = compute_v1.InstanceGroupManagersDeleteInstancesRequest(
        instances=[f"zones/{ZONE}/instances/{victim}"]
    )
    igms.delete_instances_unary(
        project=PROJECT,
        instance_group_managers_delete_instances_request_resource=request,
        **where,
    )
    assert {m.name for m in managed(igms, **where)} == left - {victim}
    assert igms.get(project=PROJECT, **where).target_size == 1
    with pytest.raises(gexc.NotFound):
        instances.get(project=PROJECT, zone=ZONE, instance=victim)

    igms.delete_unary(project=PROJECT, **where)
    assert members_in_aggregated(instances) == {}
    with pytest.raises(gexc.NotFound):
        igms.get(project=PROJECT, **where)


def test_recreated_members_keep_their_names_with_new_addresses(igms, instances, template):
    igms.insert_unary(
        project=PROJECT, zone=ZONE, instance_group_manager_resource=_group("llama", template, 2)
    )
    where = {"zone": ZONE, "instance_group_manager": "llama"}
    victim, other = sorted(m.name for m in managed(igms, **where))
    before = {n: instances.get(project=PROJECT, zone=ZONE, instance=n) for n in (victim, other)}
    request = compute_v1.InstanceGroupManagersRecreateInstancesRequest(
        instances=[f"zones/{ZONE}/instances/{victim}"]
    )
    op = igms.recreate_instances_unary(
        project=PROJECT,
        instance_group_managers_recreate_instances_request_resource=request,
        **where,
    )
    assert op.operation_type == "compute.instanceGroupManagers.recreateInstances"
    assert sorted(m.name for m in managed(igms, **where)) == [victim, other]
    after = {n: instances.get(project=PROJECT, zone=ZONE, instance=n) for n in (victim, other)}
    assert after[victim].id != before[victim].id
    assert after[victim].network_interfaces[0].network_i_p != (
        before[victim].network_interfaces[0].network_i_p
    )
    assert dict(after[victim].labels) == {"job": "llama"}  # from the template again
    assert after[other].id == before[other].id
    assert igms.get(project=PROJECT, **where).target_size == 2
    stranger = compute_v1.InstanceGroupManagersRecreateInstancesRequest(
        instances=[f"zones/{ZONE}/instances/not-a-member"]
    )
    with pytest.raises(gexc.BadRequest, match="not a member"):
        igms.recreate_instances_unary(
            project=PROJECT,
            instance_group_managers_recreate_instances_request_resource=stranger,
            **where,
        )


def test_abandoned_members_leave_the_group_and_keep_running(igms, instances, template):
    igms.insert_unary(
        project=PROJECT, zone=ZONE, instance_group_manager_resource=_group("llama", template, 2)
    )
    where = {"zone": ZONE, "instance_group_manager": "llama"}
    left, kept = sorted(m.name for m in managed(igms, **where))
    request = compute_v1.InstanceGroupManagersAbandonInstancesRequest(
        instances=[f"zones/{ZONE}/instances/{left}"]
    )
    op = igms.abandon_instances_unary(
        project=PROJECT,
        instance_group_managers_abandon_instances_request_resource=request,
        **where,
    )
    assert op.operation_type == "compute.instanceGroupManagers.abandonInstances"
    assert [m.name for m in managed(igms, **where)] == [kept]
    assert igms.get(project=PROJECT, **where).target_size == 1
    assert instances.get(project=PROJECT, zone=ZONE, instance=left).status == "RUNNING"
    igms.delete_unary(project=PROJECT, **where)  # the group's own go with it; not the abandoned
    assert set(members_in_aggregated(instances)) == {left}


def test_managed_instances_page(emu, igms, template):
    igms.insert_unary(
        project=PROJECT, zone=ZONE, instance_group_manager_resource=_group("big", template, 5)
    )
    emu.clear_requests()
    request = compute_v1.ListManagedInstancesInstanceGroupManagersRequest(
        project=PROJECT, zone=ZONE, instance_group_manager="big", max_results=2
    )
    pages = list(igms.list_managed_instances(request=request).pages)
    assert [len(p.managed_instances) for p in pages] == [2, 2, 1]
    assert len({m.name for p in pages for m in p.managed_instances}) == 5
    counts = emu.requests()
    assert counts["by_method"] == {"POST": 3} and counts["writes"] == 0


def test_regional_group_spreads_over_zones(region_igms, region_ops, instances, template):
    policy = compute_v1.DistributionPolicy(
        zones=[
            compute_v1.DistributionPolicyZoneConfiguration(zone=f"zones/us-central1-{z}")
            for z in "abc"
        ]
    )
    op = region_igms.insert_unary(
        project=PROJECT,
        region="us-central1",
        instance_group_manager_resource=_group("serve", template, 6, distribution_policy=policy),
    )
    assert op.region == f"{BASE}/regions/us-central1"
    done = region_ops.wait(project=PROJECT, region="us-central1", operation=op.name)
    assert done.status == Status.DONE
    where = {"region": "us-central1", "instance_group_manager": "serve"}
    zones = members_in_aggregated(instances)
    assert (
        sorted(zones.values())
        == ["us-central1-a"] * 2 + ["us-central1-b"] * 2 + ["us-central1-c"] * 2
    )
    assert {m.name for m in managed(region_igms, **where)} == set(zones)
    region_igms.resize_unary(project=PROJECT, size=3, **where)
    assert len(managed(region_igms, **where)) == 3 == len(members_in_aggregated(instances))
    group = region_igms.get(project=PROJECT, **where)
    assert group.region == f"{BASE}/regions/us-central1" and group.target_size == 3


def test_aggregated_groups_by_scope(igms, region_igms, template):
    igms.insert_unary(
        project=PROJECT, zone=ZONE, instance_group_manager_resource=_group("z", template, 1)
    )
    region_igms.insert_unary(
        project=PROJECT,
        region="europe-west4",
        instance_group_manager_resource=_group("r", template, 1),
    )
    request = compute_v1.AggregatedListInstanceGroupManagersRequest(project=PROJECT)
    scopes = dict(igms.aggregated_list(request=request))
    found = {k: [g.name for g in v.instance_group_managers] for k, v in scopes.items()}
    assert {k: v for k, v in found.items() if v} == {
        f"zones/{ZONE}": ["z"],
        "regions/europe-west4": ["r"],
    }
    assert scopes["regions/us-east1"].warning.code == "NO_RESULTS_ON_PAGE"


def test_group_errors(igms, region_igms, template):
    with pytest.raises(gexc.NotFound, match="instanceTemplates/nope"):
        igms.insert_unary(
            project=PROJECT,
            zone=ZONE,
            instance_group_manager_resource=_group("g", "global/instanceTemplates/nope", 1),
        )
    with pytest.raises(gexc.NotFound):
        igms.get(project=PROJECT, zone=ZONE, instance_group_manager="missing")
    with pytest.raises(gexc.BadRequest, match="Unknown region"):
        region_igms.get(project=PROJECT, region="mars1", instance_group_manager="g")
    policy = compute_v1.DistributionPolicy(
        zones=[compute_v1.DistributionPolicyZoneConfiguration(zone="zones/europe-west4-a")]
    )
    with pytest.raises(gexc.BadRequest, match="must be a valid zone in region us-central1"):
        region_igms.insert_unary(
            project=PROJECT,
            region="us-central1",
            instance_group_manager_resource=_group("g", template, 1, distribution_policy=policy),
        )
    igms.insert_unary(
        project=PROJECT, zone=ZONE, instance_group_manager_resource=_group("g", template, 1)
    )
    with pytest.raises(gexc.Conflict):
        igms.insert_unary(
            project=PROJECT, zone=ZONE, instance_group_manager_resource=_group("g", template, 1)
        )
    bad = compute_v1.InstanceGroupManagersDeleteInstancesRequest(
        instances=[f"zones/{ZONE}/instances/stranger"]
    )
    with pytest.raises(gexc.BadRequest, match="not a member"):
        igms.delete_instances_unary(
            project=PROJECT,
            zone=ZONE,
            instance_group_manager="g",
            instance_group_managers_delete_instances_request_resource=bad,
        )
