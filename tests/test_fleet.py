"""Fleet sources: declared in a stack, read through the official clients at plan time, applied."""

from __future__ import annotations

from typing import Any

import pytest
from fleet_world import World
from helpers import PROJECT, make_workspace
from test_engine import live

import mldns
from mldns import dns, fleet
from mldns.emulator import Emulator
from mldns.errors import UsageError, ValidationError
from mldns.plan import load_plan, save_plan

ZONES = ("us-central1-a", "europe-west4-b")
JOB = {"job": "llama-70b", "role": "worker"}
TABLE = "dns.RecordTable.ml-zone/workers"


def fqdn(name: str) -> str:
    return f"{name}.ml.example.com."


def build(source: Any = None, **table: Any) -> mldns.Stack:
    """The issue's stack: a table of workers by rank, every address, and an SRV set."""
    workers = source or fleet.Instances(zones=list(ZONES), labels=JOB)
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    records = workers.records(table.pop("template", "worker-{rank}"), rank_label="rank")
    stack.add(dns.RecordTable(zone=zone, name="workers", type="A", ttl=30, records=records))
    stack.add(
        dns.RecordSet(zone=zone, name="all-workers", type="A", ttl=30, rrdatas=workers.addresses())
    )
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="_trainer._tcp",
            type="SRV",
            ttl=30,
            rrdatas=workers.srv(port=29500, target="worker-{rank}", rank_label="rank"),
        )
    )
    return stack


@pytest.fixture
def world(emu: Emulator) -> World:
    return World(emu.host_port, PROJECT)


def workers(world: World, count: int = 4) -> dict[str, str]:
    """`count` workers over the two zones, ranked; their addresses by rank."""
    ips = {}
    for rank in range(count):
        zone = ZONES[rank % 2]
        instance = world.add(f"w{rank}", zone, {**JOB, "rank": str(rank)})
        ips[str(rank)] = instance.network_interfaces[0].network_i_p
    return ips


def test_three_sources_plan_and_apply_through_the_official_clients(emu, world, tmp_path):
    ips = workers(world)
    world.add("other", "us-central1-a", {"job": "other", "rank": "0"})  # another job: left out
    ws = make_workspace(build(), emu, tmp_path)
    emu.clear_requests()
    plan = ws.plan()
    reads = [r for r in emu.requests()["recent"] if "/compute/" in r["path"]]
    assert [r["path"].split("?")[0] for r in reads] == [
        f"/compute/v1/projects/{PROJECT}/aggregated/instances"
    ]  # one aggregated list, shared by the three values
    [source] = plan.sources
    assert plan.sources[source]["members"] == 4
    assert "4 members" in str(plan)
    ws.apply(plan)
    records = live(emu)
    for rank, ip in ips.items():
        assert records[(fqdn(f"worker-{rank}"), "A")]["rrdatas"] == [ip]
    assert sorted(records[(fqdn("all-workers"), "A")]["rrdatas"]) == sorted(ips.values())
    assert sorted(records[(fqdn("_trainer._tcp"), "SRV")]["rrdatas"]) == sorted(
        f"0 0 29500 {fqdn(f'worker-{r}')}" for r in ips
    )
    assert not ws.plan().has_changes


def test_a_stopped_worker_leaves_the_answer_and_a_recreated_one_gets_its_rank_back(
    emu, world, tmp_path
):
    ips = workers(world)
    ws = make_workspace(build(), emu, tmp_path)
    ws.apply()
    world.stop("w1", ZONES[1])
    ws.apply(allow_destructive=True)
    assert (fqdn("worker-1"), "A") not in live(emu)
    assert ips["1"] not in live(emu)[(fqdn("all-workers"), "A")]["rrdatas"]
    world.delete("w1", ZONES[1])
    again = world.add("w1b", ZONES[0], {**JOB, "rank": "1"})
    ws.apply()
    new_ip = again.network_interfaces[0].network_i_p
    assert new_ip != ips["1"]
    assert live(emu)[(fqdn("worker-1"), "A")]["rrdatas"] == [new_ip]


def test_two_members_of_one_rank_keep_the_current_record_and_are_reported(emu, world, tmp_path):
    ips = workers(world, 2)
    ws = make_workspace(build(), emu, tmp_path)
    ws.apply()
    world.add("w0-new", ZONES[1], {**JOB, "rank": "0"})  # a replacement, before the old one goes
    plan = ws.plan()
    assert [a.address for a in plan.actions if "worker-0" in a.address] == []
    assert any("worker-0.ml.example.com. is claimed by 2 members" in w for w in plan.warnings)
    assert "the current record is kept" in str(plan)
    ws.apply(plan)
    assert live(emu)[(fqdn("worker-0"), "A")]["rrdatas"] == [ips["0"]]


def test_a_member_without_the_rank_label_is_reported_not_dropped_silently(emu, world, tmp_path):
    workers(world, 2)
    world.add("stray", ZONES[0], JOB)
    plan = make_workspace(build(), emu, tmp_path).plan()
    [warning] = [w for w in plan.warnings if "without a record" in w]
    assert ": 1 member without a record: us-central1-a/stray has no label rank" in warning
    assert plan.sources[next(iter(plan.sources))]["members"] == 3


def test_a_saved_plan_applies_the_rows_it_read_even_if_the_fleet_moved(emu, world, tmp_path):
    ips = workers(world, 2)
    ws = make_workspace(build(), emu, tmp_path)
    save_plan(ws.plan(), tmp_path / "plan.json")
    world.delete("w0", ZONES[0])
    world.add("w9", ZONES[0], {**JOB, "rank": "9"})
    saved = load_plan(tmp_path / "plan.json")
    assert next(iter(saved.sources.values()))["members"] == 2
    ws.apply(saved)
    records = live(emu)
    assert records[(fqdn("worker-0"), "A")]["rrdatas"] == [ips["0"]]
    assert (fqdn("worker-9"), "A") not in records


def test_managed_group_members_and_templates_by_name_and_index(emu, world, tmp_path):
    world.group("ps", "us-central1-b", 3, {"role": "ps"})
    names = world.members("ps", "us-central1-b")
    source = fleet.ManagedInstanceGroup("ps", zone="us-central1-b")
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    stack.add(dns.RecordTable(zone=zone, name="ps", type="A", records=source.records("ps-{index}")))
    stack.add(dns.RecordTable(zone=zone, name="hosts", type="A", records=source.records("{name}")))
    make_workspace(stack, emu, tmp_path).apply()
    records = live(emu)
    for index, name in enumerate(names):
        ip = world.ip(name, "us-central1-b")
        assert records[(fqdn(f"ps-{index}"), "A")]["rrdatas"] == [ip]
        assert records[(fqdn(name), "A")]["rrdatas"] == [ip]


def test_tpu_hosts_are_one_member_each_named_by_worker(emu, world, tmp_path):
    node = world.tpu_node("slice", "us-central2-b", "v4-32", {"job": "llama-70b"})
    world.tpu_node("other", "us-central2-b", "v4-8", {"job": "other"})
    hosts = fleet.TpuNodes("us-central2-b", labels={"job": "llama-70b"})
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    stack.add(
        dns.RecordTable(zone=zone, name="tpu", type="A", records=hosts.records("{name}-{worker}"))
    )
    ws = make_workspace(stack, emu, tmp_path)
    emu.clear_requests()
    plan = ws.plan()
    assert [r["api"] for r in emu.requests()["recent"]].count("tpu") == 1
    ws.apply(plan)
    records = live(emu)
    endpoints = [e.ip_address for e in node.network_endpoints]
    assert len(endpoints) == 4
    for worker, ip in enumerate(endpoints):
        assert records[(fqdn(f"slice-{worker}"), "A")]["rrdatas"] == [ip]
    assert (fqdn("other-0"), "A") not in records


def test_external_addresses_and_label_fields(emu, world, tmp_path):
    instance = world.add(
        "ext", "us-central1-a", {"job": "llama-70b", "role": "head"}, external=True
    )
    nat = instance.network_interfaces[0].access_configs[0].nat_i_p
    heads = fleet.Instances(labels={"role": "head"})
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    stack.add(
        dns.RecordTable(
            zone=zone,
            name="heads",
            type="A",
            records=heads.records("{label[job]}-{region}", address="external"),
        )
    )
    make_workspace(stack, emu, tmp_path).apply()
    assert live(emu)[(fqdn("llama-70b-us-central1"), "A")]["rrdatas"] == [nat]


def test_aaaa_rows_take_ipv6_addresses(emu, world, tmp_path):
    internal = world.add(
        "v6", "us-central1-a", {"role": "v6"}, stack_type="IPV4_IPV6", ipv6_access_type="INTERNAL"
    )
    external = world.add(
        "v6e", "us-central1-a", {"role": "v6"}, stack_type="IPV4_IPV6", ipv6_access_type="EXTERNAL"
    )
    hosts = fleet.Instances(labels={"role": "v6"})
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    stack.add(dns.RecordTable(zone=zone, name="in", type="AAAA", records=hosts.records("{name}")))
    stack.add(
        dns.RecordSet(
            zone=zone, name="out", type="AAAA", rrdatas=hosts.addresses(address="external")
        )
    )
    plan = make_workspace(stack, emu, tmp_path).plan()
    make_workspace(stack, emu, tmp_path).apply()
    records = live(emu)
    assert records[(fqdn("v6"), "AAAA")]["rrdatas"] == [internal.network_interfaces[0].ipv6_address]
    v6e = external.network_interfaces[0].ipv6_access_configs[0].external_ipv6
    assert records[(fqdn("out"), "AAAA")]["rrdatas"] == [v6e]
    # v6e has no internal IPv6, v6 no external one: each is reported where it gets no record
    assert any("us-central1-a/v6e has no internal AAAA address" in w for w in plan.warnings)


def test_a_regional_group_reads_its_members_over_the_region(emu, world, tmp_path):
    world.group("serve", "", 4, {"role": "serve"}, region="europe-west4")
    source = fleet.ManagedInstanceGroup("serve", region="europe-west4")
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    stack.add(
        dns.RecordTable(zone=zone, name="s", type="A", records=source.records("{name}-{zone}"))
    )
    plan = make_workspace(stack, emu, tmp_path).plan()
    rows = [a.address for a in plan.actions if a.op == "create" and "RecordSet" in a.address]
    assert len(rows) == 4
    assert {r.split("-europe-west4-")[1][0] for r in rows} == {"a", "b", "c"}  # spread out


def test_a_group_that_does_not_exist_is_one_line_naming_it(emu, tmp_path):
    source = fleet.ManagedInstanceGroup("nope", zone="us-central1-a")
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(_zone())
    stack.add(dns.RecordTable(zone=zone, name="s", type="A", records=source.records("{name}")))
    with pytest.raises(UsageError) as caught:
        make_workspace(stack, emu, tmp_path).plan()
    assert str(caught.value).startswith("fleet.ManagedInstanceGroup(us-central1-a/nope): 404")


# --- bad input -----------------------------------------------------------------------------------


def _zone() -> dns.ManagedZone:
    return dns.ManagedZone(name="ml-zone", dns_name="ml.example.com.")


@pytest.mark.parametrize(
    "declare,message",
    [
        (
            lambda: fleet.Instances(zones=["us-centrall-a"]),
            "'us-centrall-a' is not a Google Cloud zone; did you mean us-central1-a?",
        ),
        (lambda: fleet.Instances(regions=["europe-west44"]), "did you mean europe-west4?"),
        (lambda: fleet.Instances(zones=["us-central1"]), "is a region, not a zone"),
        (lambda: fleet.Instances(labels=["job", "llama"]), "labels: must be a mapping"),
        (lambda: fleet.Instances(status="UP"), "not a Compute instance status"),
        (
            lambda: dns.RecordTable(
                zone=_zone(), name="w", type="A", records=fleet.Instances().records("w-{rank}")
            ),
            "dns.RecordTable.ml-zone/w: records: template 'w-{rank}' uses {rank}: give rank_label=",
        ),
        (
            lambda: dns.RecordTable(
                zone=_zone(), name="w", type="A", records=fleet.Instances().records("w-{host}")
            ),
            "unknown field {host}",
        ),
        (
            lambda: dns.RecordTable(
                zone=_zone(), name="w", type="A", records=fleet.Instances().records("w-{worker}")
            ),
            "fleet.Instances has no {worker}",
        ),
        (
            lambda: dns.RecordSet(
                zone=_zone(), name="w", type="TXT", rrdatas=fleet.Instances().addresses()
            ),
            "member addresses fill A or AAAA record sets, not TXT",
        ),
        (
            lambda: fleet.ManagedInstanceGroup("ps"),
            "fleet.ManagedInstanceGroup(ps): zone: give zone= for a zonal group",
        ),
        (
            lambda: fleet.Instances(status="RUNING"),
            "status: 'RUNING' is not a Compute instance status; did you mean RUNNING?",
        ),
        (
            lambda: fleet.TpuNodes("us-central2-b", project="Other_Project"),
            "project: 'Other_Project' is not a project id",
        ),
    ],
)
def test_bad_declarations_are_one_line_naming_where(declare, message):
    with pytest.raises(ValidationError) as caught:
        declare()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_tpu_location_that_does_not_exist_is_named_and_nothing_is_written(emu, tmp_path):
    hosts = fleet.TpuNodes("us-central9-z")
    stack = mldns.Stack("fleet", project=PROJECT)
    zone = stack.add(_zone())
    stack.add(dns.RecordTable(zone=zone, name="t", type="A", records=hosts.records("{name}")))
    emu.clear_requests()
    with pytest.raises(UsageError) as caught:
        make_workspace(stack, emu, tmp_path).apply()
    assert str(caught.value).startswith("fleet.TpuNodes(us-central9-z): 403 Location us-central9-z")
    assert emu.requests()["writes"] == 0


def test_a_source_without_members_says_which_record_sets_wait_for_it(emu, world, tmp_path):
    """Cloud DNS holds no empty record set: the plan names those left out, not just '0'."""
    plan = make_workspace(build(), emu, tmp_path).plan()
    [read] = plan.sources.values()
    assert read["undeclared"] == [
        f"dns.RecordSet.ml-zone/{fqdn('all-workers')}/A",
        f"dns.RecordSet.ml-zone/{fqdn('_trainer._tcp')}/SRV",
    ]
    assert (
        f"0 members; no data yet, so not declared: dns.RecordSet.ml-zone/{fqdn('all-workers')}/A"
        in str(plan)
    )
    workers(world, 1)
    plan = make_workspace(build(), emu, tmp_path).plan()
    [read] = plan.sources.values()
    assert read["undeclared"] == [] and "not declared" not in str(plan)
