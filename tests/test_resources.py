"""Validation: bad declarations fail when built or added, naming the resource's address and field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import mldns
from mldns import dns
from mldns.errors import ValidationError

ZONE = dns.ManagedZone(name="ml-zone", dns_name="ml.example.com.")
PRIVATE = dns.ManagedZone(
    name="vpc-zone",
    dns_name="train.internal.",
    visibility="private",
    networks=["projects/p/global/networks/training"],
)
ILB = dns.InternalLoadBalancer(
    ip="10.0.0.5",
    port=443,
    network="projects/p/global/networks/training",
    project="p",
    region="us-central1",
)
HC = "projects/p/global/healthChecks/workers"
REC = "dns.RecordSet.ml-zone/a.ml.example.com./A"


def record(**kwargs: Any) -> dns.RecordSet:
    fields: dict[str, Any] = {"zone": ZONE, "name": "a", "type": "A", "rrdatas": ["10.0.0.1"]}
    fields.update(kwargs)
    return dns.RecordSet(**fields)


def error_of(build: Callable[[], Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        build()
    return info.value


def expect(build: Callable[[], Any], address: str, field: str | None, fragment: str) -> None:
    exc = error_of(build)
    assert exc.address == address
    assert exc.field == field
    assert fragment in str(exc)
    assert str(exc).startswith(address)


# --- zones ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"name": "Bad_Name"}, "name", "must match"),
        ({"name": "-leading"}, "name", "must match"),
        ({"name": "x" * 64}, "name", "must match"),
        ({"dns_name": "ml.example.com"}, "dns_name", "ending in '.'"),
        ({"dns_name": "."}, "dns_name", "DNS name"),
        ({"dns_name": "a..example.com."}, "dns_name", "DNS name"),
        ({"visibility": "internal"}, "visibility", "'public' or 'private'"),
        ({"labels": {"Team": "ml"}}, "labels", "keys must match"),
        ({"labels": {"team": "ML Platform"}}, "labels", "values"),
        ({"description": "d" * 1025}, "description", "1024"),
        ({"networks": ["projects/p/global/networks/n"]}, "networks", "only private zones"),
        ({"dnssec": "yes"}, "dnssec", "True or False"),
        ({"protect": 1}, "protect", "True or False"),
        ({"authoritative": None}, "authoritative", "True or False"),
    ],
)
def test_zone_fields_are_validated(kwargs: dict[str, Any], field: str, fragment: str) -> None:
    fields = {"name": "ml-zone", "dns_name": "ml.example.com.", **kwargs}
    exc = error_of(lambda: dns.ManagedZone(**fields))
    assert exc.field == field
    assert exc.address == f"dns.ManagedZone.{fields['name']}"
    assert fragment in exc.message


def test_private_zone_cannot_have_dnssec() -> None:
    expect(
        lambda: dns.ManagedZone(
            name="p", dns_name="p.internal.", visibility="private", dnssec=True
        ),
        "dns.ManagedZone.p",
        "dnssec",
        "only for public zones",
    )


def test_zone_dns_name_is_lower_cased_and_address_is_stable() -> None:
    zone = dns.ManagedZone(name="ml-zone", dns_name="ML.Example.COM.")
    assert zone.dns_name == "ml.example.com."
    assert zone.address == "dns.ManagedZone.ml-zone"
    rs = dns.RecordSet(zone=zone, name="Coordinator", type="a", rrdatas=["10.0.0.2"])
    assert rs.address == "dns.RecordSet.ml-zone/coordinator.ml.example.com./A"
    assert dns.RecordSet(zone=zone, name="@", type="TXT", rrdatas=["x"]).fqdn == "ml.example.com."


# --- record sets: names, TTL, types --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("www.other.com.", "outside the zone"),
        ("xml.example.com.", "outside the zone"),
        ("a..b", "not a valid DNS name"),
        ("x" * 64, "not a valid DNS name"),
        ("", "relative to the zone"),
    ],
)
def test_record_names(name: str, fragment: str) -> None:
    exc = error_of(lambda: record(name=name))
    assert exc.field == "name"
    assert exc.address.startswith("dns.RecordSet.ml-zone/")
    assert fragment in exc.message


def test_fully_qualified_name_inside_the_zone_is_accepted() -> None:
    rs = record(name="Deep.Sub.ML.example.com.")
    assert rs.fqdn == "deep.sub.ml.example.com."


@pytest.mark.parametrize("ttl", [-1, 2**31, "60", 1.5, True, None])
def test_ttl_range_and_type(ttl: Any) -> None:
    expect(lambda: record(ttl=ttl), REC, "ttl", "integer from 0 to 2147483647")


@pytest.mark.parametrize("ttl", [0, 2**31 - 1])
def test_ttl_bounds_are_inclusive(ttl: int) -> None:
    assert record(ttl=ttl).ttl == ttl


@pytest.mark.parametrize("rtype", ["BOGUS", "SOA", "ANY"])
def test_record_types(rtype: str) -> None:
    exc = error_of(lambda: record(type=rtype))
    assert exc.field == "type"
    assert exc.address == f"dns.RecordSet.ml-zone/a.ml.example.com./{rtype}"
    assert "must be one of" in exc.message


def test_record_set_needs_a_zone_object() -> None:
    exc = error_of(lambda: dns.RecordSet(zone="ml-zone", name="a", type="A", rrdatas=["10.0.0.1"]))
    assert exc.field == "zone"
    assert "dns.ManagedZone" in exc.message


# --- record data per type (dnspython) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rtype", "value"),
    [
        ("A", "1.2.3.400"),
        ("A", "2001:db8::1"),
        ("A", "coordinator"),
        ("AAAA", "10.0.0.1"),
        ("AAAA", "2001:db8:::1"),
        ("MX", "mail.example.com."),
        ("SRV", "10 5 port host.example.com."),
        ("CAA", "0 issue"),
        ("TXT", '"' + "x" * 300 + '"'),  # a quoted string holds at most 255 bytes
        ("SSHFP", "1 1 nothex"),
        # dnspython reads up to a line break and would drop the rest without a word
        ("A", "10.0.0.1\n10.0.0.2"),
        ("MX", "10 a.example.com.\n20 b.example.com."),
        ("TXT", '"a"\r\n"b"'),
        # a single label would point outside the zone ('ps' read as 'ps.')
        ("CNAME", "ps"),
        ("MX", "10 mail"),
        ("SRV", "0 5 8470 ps"),
    ],
)
def test_rrdatas_are_parsed_per_type(rtype: str, value: str) -> None:
    exc = error_of(lambda: record(type=rtype, rrdatas=[value]))
    assert exc.field == "rrdatas"
    assert exc.address == f"dns.RecordSet.ml-zone/a.ml.example.com./{rtype}"
    assert f"not valid {rtype} data" in exc.message
    assert repr(value)[:20] in exc.message


@pytest.mark.parametrize(
    ("rtype", "value"),
    [
        ("A", "10.0.0.1"),
        ("AAAA", "2001:DB8:0:0::1"),
        ("MX", "10 mail.example.com."),
        ("SRV", "10 5 8470 worker-0.ml.example.com."),
        ("CAA", '0 issue "letsencrypt.org"'),
        ("TXT", "unquoted words"),
        ("CNAME", "target.example.com."),
        ("PTR", "host.example.com."),
    ],
)
def test_valid_rrdatas_are_accepted(rtype: str, value: str) -> None:
    assert record(type=rtype, rrdatas=[value]).rrdatas == (value,)


@pytest.mark.parametrize(
    ("rrdatas", "fragment"),
    [
        ([], "non-empty list of strings"),
        ("10.0.0.1", "non-empty list of strings"),
        ([1], "non-empty list of strings"),
        ([f"10.0.{i // 256}.{i % 256}" for i in range(101)], "at most 100"),
    ],
)
def test_rrdatas_shape(rrdatas: Any, fragment: str) -> None:
    expect(lambda: record(rrdatas=rrdatas), REC, "rrdatas", fragment)


def test_cname_holds_exactly_one_record() -> None:
    exc = error_of(lambda: record(type="CNAME", rrdatas=["a.example.com.", "b.example.com."]))
    assert exc.field == "rrdatas"
    assert "exactly one" in exc.message


# --- rrdatas XOR routing, routing policies -------------------------------------------------------


def test_rrdatas_and_routing_are_exclusive() -> None:
    expect(
        lambda: record(routing=dns.Weighted([(1, ["10.0.0.1"])])),
        REC,
        "rrdatas",
        "either rrdatas or routing",
    )
    expect(lambda: record(rrdatas=None), REC, "rrdatas", "either rrdatas or routing")


def geo(items: Any, **kwargs: Any) -> dns.RecordSet:
    return record(rrdatas=None, routing=dns.Geo(items, **kwargs))


def test_geo_regions_must_be_unique() -> None:
    expect(
        lambda: geo([("us-east1", ["10.0.0.1"]), ("us-east1", ["10.0.0.2"])]),
        REC,
        "routing",
        "regions must be unique, us-east1 repeats",
    )


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ({}, "at least one region"),
        ({"": ["10.0.0.1"]}, "non-empty strings"),
        ({"us-east1": []}, "at least one target"),
        ({"us-east1": ["not-an-ip"]}, "not valid A data"),
    ],
)
def test_geo_items(items: Any, fragment: str) -> None:
    expect(lambda: geo(items), REC, "routing", fragment)


def test_geo_fencing_is_a_bool() -> None:
    expect(
        lambda: geo({"us-east1": ["10.0.0.1"]}, fencing="yes"),
        REC,
        "routing.fencing",
        "True or False",
    )


@pytest.mark.parametrize("weight", [-1, -0.5, True, "1", None])
def test_weights_are_non_negative_numbers(weight: Any) -> None:
    expect(
        lambda: record(rrdatas=None, routing=dns.Weighted([(weight, ["10.0.0.1"])])),
        REC,
        "routing",
        "non-negative numbers",
    )


def test_zero_weight_is_allowed() -> None:
    rs = record(rrdatas=None, routing=dns.Weighted([(0, ["10.0.0.1"]), (1, ["10.0.0.2"])]))
    assert rs.routing.items[0][0] == 0


def test_weighted_needs_items() -> None:
    expect(lambda: record(rrdatas=None, routing=dns.Weighted([])), REC, "routing", "at least one")


def test_routing_must_be_a_policy_object() -> None:
    expect(lambda: record(rrdatas=None, routing="geo"), REC, "routing", "dns.Geo")


def test_routing_only_for_routable_types() -> None:
    exc = error_of(
        lambda: dns.RecordSet(
            zone=ZONE, name="a", type="NS", routing=dns.Weighted([(1, ["ns1.example.com."])])
        )
    )
    assert exc.field == "routing"
    assert "not NS" in exc.message


def test_health_check_must_be_a_health_check_or_url() -> None:
    expect(
        lambda: record(rrdatas=None, routing=dns.Weighted([(1, ["10.0.0.1"])], health_check=42)),
        REC,
        "routing.health_check",
        "compute.HealthCheck",
    )


def test_health_checked_endpoints_are_ip_addresses() -> None:
    exc = error_of(
        lambda: dns.RecordSet(
            zone=ZONE,
            name="a",
            type="CNAME",
            routing=dns.Weighted([(1, ["target.example.com."])], health_check=HC),
        )
    )
    assert exc.field == "routing"
    assert "health-checked endpoints must be IP addresses" in exc.message
    ok = dns.RecordSet(
        zone=ZONE,
        name="a",
        type="AAAA",
        routing=dns.Weighted([(1, ["2001:db8::1"])], health_check=HC),
    )
    assert ok.routing.health_check == HC


def test_failover_primary_must_be_health_checked() -> None:
    expect(
        lambda: record(
            rrdatas=None, routing=dns.Failover(primary=["10.0.0.1"], backup={"us": ["10.0.0.2"]})
        ),
        REC,
        "routing.primary",
        "health-checked",
    )


@pytest.mark.parametrize("trickle", [-0.1, 1.5, "0.1", True])
def test_failover_trickle_is_a_fraction(trickle: Any) -> None:
    expect(
        lambda: record(
            rrdatas=None,
            routing=dns.Failover(
                primary=["10.0.0.1"],
                backup={"us-central1": ["10.0.0.2"]},
                trickle=trickle,
                health_check=HC,
            ),
        ),
        REC,
        "routing.trickle",
        "fraction",
    )


def test_failover_backup_regions_unique() -> None:
    expect(
        lambda: record(
            rrdatas=None,
            routing=dns.Failover(
                primary=["10.0.0.1"],
                backup=[("us", ["10.0.0.2"]), ("us", ["10.0.0.3"])],
                health_check=HC,
            ),
        ),
        REC,
        "routing.backup",
        "unique",
    )


# --- items of plain and health-checked answers ---------------------------------------------------


def test_answers_say_item_by_item_what_is_health_checked() -> None:
    """A failover with health-checked primaries and a plain backup (what gcloud makes), and a
    geo item of plain data beside health-checked endpoints: the wire says exactly that."""
    from mldns.providers.dns_format import record_body

    failover = record(
        rrdatas=None,
        routing=dns.Failover(
            primary=["10.0.0.1"],
            backup={"us-east1": dns.Answers(rrdatas=["10.0.0.2"]), "us-west1": ["10.0.0.3"]},
            health_check=HC,
            fencing=True,
        ),
    )
    pb = record_body(failover, "p")["routingPolicy"]["primaryBackup"]
    assert pb["backupGeoTargets"] == {
        "items": [
            {"location": "us-east1", "rrdatas": ["10.0.0.2"]},
            {"location": "us-west1", "healthCheckedTargets": {"externalEndpoints": ["10.0.0.3"]}},
        ],
        "enableFencing": True,
    }
    mixed = dns.RecordSet(
        zone=PRIVATE,
        name="m",
        type="A",
        routing=dns.Weighted(
            [(1, dns.Answers(rrdatas="10.0.0.9", checked=[ILB, "10.0.0.8"]))], health_check=HC
        ),
    )
    item = record_body(mixed, "p")["routingPolicy"]["wrr"]["items"][0]
    assert item["rrdatas"] == ["10.0.0.9"]
    assert item["healthCheckedTargets"]["externalEndpoints"] == ["10.0.0.8"]
    assert [t["ipAddress"] for t in item["healthCheckedTargets"]["internalLoadBalancers"]] == [
        "10.0.0.5"
    ]


def test_the_plan_names_an_item_by_its_location_or_data() -> None:
    """Making a backup item plain is a change of that item's fields, named by its location."""
    from mldns.providers.dns_format import record_body
    from mldns.render.diff import diff

    def body(backup: Any) -> dict[str, Any]:
        policy = dns.Failover(primary=["10.0.0.1"], backup={"us-east1": backup}, health_check=HC)
        return record_body(record(rrdatas=None, routing=policy), "p")

    lists = dns.RecordSet.list_items
    changes = diff(body(["10.0.0.2"]), body(dns.Answers(rrdatas=["10.0.0.2"])), lists=lists)
    item = 'routingPolicy.primaryBackup.backupGeoTargets.items["us-east1"]'
    assert {(c.where, c.op) for c in changes} == {
        (f"{item}.rrdatas", "add"),
        (f"{item}.healthCheckedTargets", "remove"),
    }
    wrr = [
        record_body(record(rrdatas=None, routing=dns.Weighted([(1, a)], health_check=HC)), "p")
        for a in (dns.Answers(rrdatas=["10.0.0.2"], checked=["10.0.0.3"]), ["10.0.0.3"])
    ]
    assert {(c.where, c.op) for c in diff(*wrr, lists=lists)} == {
        ('routingPolicy.wrr.items["10.0.0.3,10.0.0.2"]', "remove"),
        ('routingPolicy.wrr.items["10.0.0.3"]', "add"),
    }


@pytest.mark.parametrize(
    ("answers", "health_check", "fragment"),
    [
        (dns.Answers(), HC, "at least one target"),
        (dns.Answers(checked=["10.0.0.2"]), None, "need the policy's health_check"),
        (dns.Answers(checked=[ILB]), None, "need a private zone"),
        (dns.Answers(rrdatas=["10.0.0.999"]), None, "not valid A data"),
        (dns.Answers(rrdatas=[ILB]), None, "put them in checked"),
        (dns.Answers(rrdatas=["10.0.0.1"], checked=["2001:db8::1"]), HC, "IP addresses of an A"),
    ],
)
def test_answers_are_validated(answers: Any, health_check: Any, fragment: str) -> None:
    expect(
        lambda: geo({"us-central1": answers}, health_check=health_check), REC, "routing", fragment
    )


def test_health_checked_answers_are_for_a_and_aaaa_only() -> None:
    expect(
        lambda: record(
            type="TXT",
            rrdatas=None,
            routing=dns.Geo({"us-central1": dns.Answers(checked=["10.0.0.1"])}, health_check=HC),
        ),
        "dns.RecordSet.ml-zone/a.ml.example.com./TXT",
        "routing",
        "for A and AAAA records",
    )


# --- internal load balancers ---------------------------------------------------------------------


def test_internal_load_balancers_only_in_private_zones() -> None:
    expect(lambda: geo({"us-central1": [ILB]}), REC, "routing", "need a private zone")
    ok = dns.RecordSet(zone=PRIVATE, name="ps", type="A", routing=dns.Geo({"us-central1": [ILB]}))
    assert ok.routing.items[0][1] == (ILB,)


def test_item_cannot_mix_addresses_and_load_balancers() -> None:
    exc = error_of(
        lambda: dns.RecordSet(
            zone=PRIVATE, name="ps", type="A", routing=dns.Geo({"us-central1": [ILB, "10.0.0.9"]})
        )
    )
    assert exc.field == "routing"
    assert "not both" in exc.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ip": "10.0.0.256"}, "ip"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"protocol": "icmp"}, "protocol"),
        ({"lb_type": "global"}, "lb_type"),
        ({"network": ""}, "network"),
    ],
)
def test_internal_load_balancer_fields(kwargs: dict[str, Any], field: str) -> None:
    fields = {
        "ip": "10.0.0.5",
        "port": 443,
        "network": "projects/p/global/networks/training",
        "project": "p",
        "region": "us-central1",
        **kwargs,
    }
    assert error_of(lambda: dns.InternalLoadBalancer(**fields)).field == field


# --- the stack as a whole ------------------------------------------------------------------------


def stack_with_zone() -> mldns.Stack:
    stack = mldns.Stack("validation", project="p")
    stack.add(ZONE)
    return stack


def test_duplicate_resources_are_refused() -> None:
    stack = stack_with_zone()
    expect(
        lambda: stack.add(dns.ManagedZone(name="ml-zone", dns_name="other.example.com.")),
        "dns.ManagedZone.ml-zone",
        None,
        "declared twice",
    )
    stack.add(record())
    # Same name and type, written differently: still the same record set.
    expect(
        lambda: stack.add(record(name="A.ML.example.com.", type="a", rrdatas=["10.0.0.9"])),
        REC,
        None,
        "declared twice",
    )


def test_cname_exclusivity() -> None:
    stack = stack_with_zone()
    stack.add(record())
    expect(
        lambda: stack.add(record(type="CNAME", rrdatas=["x.example.com."])),
        "dns.RecordSet.ml-zone/a.ml.example.com./CNAME",
        "type",
        "cannot share its name",
    )
    stack.add(record(name="alias", type="CNAME", rrdatas=["x.example.com."]))
    exc = error_of(lambda: stack.add(record(name="alias", type="TXT", rrdatas=["hi"])))
    assert exc.field == "type"
    assert "dns.RecordSet.ml-zone/alias.ml.example.com./CNAME" in exc.message
    # The same name in another zone is no conflict.
    other = stack.add(dns.ManagedZone(name="other", dns_name="other.example.com."))
    stack.add(dns.RecordSet(zone=other, name="alias", type="TXT", rrdatas=["hi"]))


def test_references_to_undeclared_resources() -> None:
    stack = mldns.Stack("validation", project="p")
    expect(lambda: stack.add(record()), REC, None, "not declared in stack validation")
    stack.add(ZONE)
    twin = dns.ManagedZone(name="ml-zone", dns_name="ml.example.com.")
    # An equal-looking zone object that was never added is not the declared one.
    exc = error_of(
        lambda: stack.add(dns.RecordSet(zone=twin, name="b", type="A", rrdatas=["10.0.0.1"]))
    )
    assert "not declared" in exc.message
    assert len(stack) == 1


def test_outputs_must_refer_to_declared_resources() -> None:
    stack = mldns.Stack("validation", project="p")
    exc = error_of(lambda: stack.output("name_servers", ZONE.name_servers))
    assert exc.field == "output name_servers"
    assert "dns.ManagedZone.ml-zone" in exc.message
    exc = error_of(lambda: stack.output("not an identifier", 1))
    assert "identifiers" in exc.message


def test_stack_name_and_add_argument() -> None:
    assert error_of(lambda: mldns.Stack("bad name")).field == "name"
    assert error_of(lambda: mldns.Stack("ok", project=3)).field == "project"
    assert "expects a resource" in str(error_of(lambda: stack_with_zone().add("zone")))


def test_resources_are_frozen() -> None:
    rs = record()
    with pytest.raises(AttributeError):
        rs.ttl = 5  # type: ignore[misc]


def test_cname_cannot_sit_at_the_apex() -> None:
    expect(
        lambda: record(name="@", type="CNAME", rrdatas=["x.example.com."]),
        "dns.RecordSet.ml-zone/ml.example.com./CNAME",
        "type",
        "apex",
    )


@pytest.mark.parametrize(
    ("routing", "field"),
    [
        (lambda: dns.Geo({"us-centrl1": ["203.0.113.1"]}), "routing"),
        (
            lambda: dns.Failover(
                primary=["203.0.113.1"],
                backup={"europe-wst4": ["203.0.113.2"]},
                health_check="projects/p/global/healthChecks/hc",
            ),
            "routing.backup",
        ),
    ],
)
def test_routing_regions_are_google_cloud_regions(routing: Any, field: str) -> None:
    zone = dns.ManagedZone(name="z", dns_name="z.example.com.")
    with pytest.raises(ValidationError) as info:
        dns.RecordSet(zone=zone, name="a", type="A", routing=routing())
    assert info.value.field == field
    assert "is not a Google Cloud region; did you mean" in str(info.value)


def test_internal_load_balancer_region_is_checked() -> None:
    with pytest.raises(ValidationError, match="did you mean us-central1"):
        dns.InternalLoadBalancer(
            ip="10.0.0.1", port=80, network="n", project="p", region="us-centrl1"
        )
