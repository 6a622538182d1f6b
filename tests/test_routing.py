"""The routing rules, on record set bodies in Cloud DNS's JSON shape: Google's documented vectors
and the choices mldns made where the documentation is silent."""

from __future__ import annotations

import ast
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mldns.regions import distance_km, regions
from mldns.routing import Zone, down_set, endpoint_up, nearest, pick, resolve, sample, zone_of

ZONE = "ml.example.com."
HC = "https://www.googleapis.com/compute/v1/projects/p/global/healthChecks/hc"


def checked(*ips: str) -> dict[str, Any]:
    return {"healthCheckedTargets": {"externalEndpoints": list(ips)}}


def geo(items: dict[str, list[str]], fencing: bool = False, plain: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": [
            {"location": loc, **({"rrdatas": ips} if plain else checked(*ips))}
            for loc, ips in items.items()
        ]
    }
    if fencing:
        body["enableFencing"] = True
    return body


def record(name: str, policy: dict[str, Any] | None = None, rtype: str = "A", **extra: Any):
    body: dict[str, Any] = {"name": f"{name}.{ZONE}", "type": rtype, "ttl": 30, **extra}
    if policy is not None:
        body["routingPolicy"] = {**policy, "healthCheck": HC}
    return body


def zone(*records: dict[str, Any]) -> Zone:
    return Zone.of(ZONE, records)


def answer(z: Zone, name: str, region: str | None, down=(), rtype: str = "A"):
    res = resolve(z, f"{name}.{ZONE}", rtype, region, down_set(down))
    assert len(res.outcomes) == 1, res
    return res.outcomes[0]


TWO = {"us-central1": ["203.0.113.10"], "europe-west4": ["203.0.113.20"]}


# --- geo ---------------------------------------------------------------------------------------


def test_geo_exact_match_answers_every_ip_of_the_item():
    z = zone(record("w", {"geo": geo({**TWO, "us-central1": ["203.0.113.10", "203.0.113.11"]})}))
    out = answer(z, "w", "us-central1")
    assert out.data == ("203.0.113.10", "203.0.113.11")
    assert out.why == ()


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("us-east1", "203.0.113.10"),
        ("europe-west2", "203.0.113.20"),
        ("asia-east1", "203.0.113.20"),
    ],
)
def test_geo_documented_vectors_nearest_by_great_circle(client, expected):
    # asia-east1 (Changhua) is 9,313 km from europe-west4 (Eemshaven), 11,842 from us-central1.
    out = answer(zone(record("w", {"geo": geo(TWO)})), "w", client)
    assert out.data == (expected,)
    assert out.why[0].startswith(f"{client} has no item; nearest is ")


def test_nearest_order_for_a_region_with_no_item():
    items = ["asia-southeast1", "us-central1", "europe-west4", "europe-west1"]
    order = nearest("europe-west2", items)
    assert [loc for loc, _ in order] == [
        "europe-west1",
        "europe-west4",
        "us-central1",
        "asia-southeast1",
    ]
    distances = [km for _, km in order]
    assert distances == sorted(distances)
    assert 250 < distances[0] < 400  # London to St. Ghislain


def test_nearest_breaks_ties_by_name_and_ranks_unknown_locations_last():
    order = nearest("us-central1", ["mars-north1", "us-central1", "europe-west4"])
    assert [loc for loc, _ in order] == ["us-central1", "europe-west4", "mars-north1"]
    assert order[0][1] == 0.0 and order[2][1] is None
    unknown = nearest(None, ["us-central1", "europe-west4"])
    assert [loc for loc, _ in unknown] == ["europe-west4", "us-central1"]


def test_geo_why_names_the_nearest_region_and_distance():
    out = answer(zone(record("w", {"geo": geo(TWO)})), "w", "europe-west2")
    km = round(distance_km("europe-west2", "europe-west4"))
    assert out.why == (f"europe-west2 has no item; nearest is europe-west4, {km} km",)


def test_geo_down_target_is_left_out_of_its_item():
    z = zone(record("w", {"geo": geo({**TWO, "europe-west4": ["203.0.113.20", "203.0.113.21"]})}))
    out = answer(z, "w", "europe-west4", down=["203.0.113.20"])
    assert out.data == ("203.0.113.21",)
    assert "target 203.0.113.20 is down" in out.why[0]


def test_geo_item_all_down_without_fencing_moves_to_next_nearest():
    z = zone(record("w", {"geo": geo(TWO)}))
    out = answer(z, "w", "europe-west2", down=["203.0.113.20"])
    assert out.data == ("203.0.113.10",)
    assert out.why[-1] == "target 203.0.113.20 is down in europe-west4, so us-central1 answers"


def test_geo_fencing_keeps_the_nearest_item_with_all_its_targets():
    items = {**TWO, "europe-west4": ["203.0.113.20", "203.0.113.21"]}
    z = zone(record("w", {"geo": geo(items, fencing=True)}))
    both_down = answer(z, "w", "europe-west4", down=["203.0.113.20", "203.0.113.21"])
    assert both_down.data == ("203.0.113.20", "203.0.113.21")
    assert "fencing keeps europe-west4" in both_down.why[-1]
    one_down = answer(z, "w", "europe-west4", down=["203.0.113.20"])
    assert one_down.data == ("203.0.113.21",)


def test_geo_every_item_down_fails_open_to_the_nearest():
    z = zone(record("w", {"geo": geo(TWO)}))
    out = answer(z, "w", "us-east1", down=["203.0.113.10", "203.0.113.20"])
    assert out.data == ("203.0.113.10",)
    assert "fail open" in out.why[-1]


def test_geo_plain_rrdatas_are_never_unhealthy():
    z = zone(record("w", {"geo": geo(TWO, plain=True)}))
    assert answer(z, "w", "us-central1", down=["203.0.113.10"]).data == ("203.0.113.10",)


def test_internal_load_balancer_health_is_read_by_its_address():
    ilb = {"ipAddress": "10.0.0.5", "port": "80", "ipProtocol": "tcp"}
    items = [
        {"location": "us-central1", "healthCheckedTargets": {"internalLoadBalancers": [ilb]}},
        {"location": "us-east1", "rrdatas": ["10.0.1.5"]},
    ]
    z = zone(record("w", {"geo": {"items": items}}))
    assert answer(z, "w", "us-central1").data == ("10.0.0.5",)
    assert answer(z, "w", "us-central1", down=["10.0.0.5"]).data == ("10.0.1.5",)


def test_an_item_with_rrdatas_and_checked_targets_answers_its_plain_data_always():
    """One item may hold both; its plain data is never unhealthy, so the item keeps answering
    with it, and with whichever checked targets are up."""
    ilb = {"ipAddress": "10.0.0.6", "port": "80", "ipProtocol": "tcp"}
    mixed = {
        "location": "us-central1",
        "rrdatas": ["10.0.0.1"],
        "healthCheckedTargets": {"externalEndpoints": ["10.0.0.2"], "internalLoadBalancers": [ilb]},
    }
    z = zone(
        record("w", {"geo": {"items": [mixed, {"location": "us-east1", "rrdatas": ["10.0.9.9"]}]}})
    )
    assert answer(z, "w", "us-central1").data == ("10.0.0.1", "10.0.0.6", "10.0.0.2")
    assert answer(z, "w", "us-central1", down=["10.0.0.2"]).data == ("10.0.0.1", "10.0.0.6")
    # Every checked target down: the item still answers, with its plain data only.
    both_down = answer(z, "w", "us-central1", down=["10.0.0.2", "10.0.0.6"])
    assert both_down.data == ("10.0.0.1",)
    # In wrr the same: the mixed item keeps its weight.
    items = [{"weight": 1, **mixed}, {"weight": 1, "rrdatas": ["10.0.9.9"]}]
    res = resolve(
        zone(record("p", {"wrr": {"items": items}})),
        "p." + ZONE,
        "A",
        None,
        down_set(["10.0.0.2", "10.0.0.6"]),
    )
    assert shares(res) == {("10.0.0.1",): 0.5, ("10.0.9.9",): 0.5}


def test_a_plain_backup_item_answers_when_the_primaries_are_down():
    """What gcloud makes: primaries health-checked, backups plain rrdatas."""
    pb = {
        "primaryTargets": {"externalEndpoints": ["203.0.113.10"]},
        "backupGeoTargets": {"items": [{"location": "us-east1", "rrdatas": ["203.0.113.20"]}]},
    }
    z = zone(record("f", {"primaryBackup": pb}))
    assert answer(z, "f", "us-east1").data == ("203.0.113.10",)
    assert answer(z, "f", "us-east1", down=["203.0.113.10", "203.0.113.20"]).data == (
        "203.0.113.20",
    )


def test_one_failing_source_region_of_three_leaves_an_endpoint_healthy_two_do_not():
    seen = {"us-central1": True, "europe-west4": True, "asia-southeast1": True}
    assert endpoint_up(seen)
    assert endpoint_up({**seen, "europe-west4": False})
    assert not endpoint_up({**seen, "europe-west4": False, "asia-southeast1": False})
    assert not endpoint_up(dict.fromkeys(seen, False))


# --- wrr ---------------------------------------------------------------------------------------


def wrr(*items: tuple[float, list[str]]) -> dict[str, Any]:
    return {"wrr": {"items": [{"weight": w, **checked(*ips)} for w, ips in items]}}


def shares(res) -> dict[tuple[str, ...], float]:
    return {o.data: o.share for o in res.outcomes}


QUARTER = wrr((0.25, ["10.1.0.10"]), (0.75, ["10.1.0.11"]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_wrr_25_75_over_4000_samples_is_within_3_points(seed):
    res = resolve(zone(record("ps", QUARTER)), "ps." + ZONE, "A", "us-central1")
    assert shares(res) == {("10.1.0.10",): 0.25, ("10.1.0.11",): 0.75}
    drawn = sample(res, 4000, random.Random(seed))
    assert abs(drawn[("10.1.0.10",)] - 0.25) <= 0.03
    assert abs(drawn[("10.1.0.11",)] - 0.75) <= 0.03


def test_wrr_down_item_is_left_out_and_the_rest_renormalised():
    policy = wrr((1, ["10.1.0.10"]), (1, ["10.1.0.11"]), (2, ["10.1.0.12"]))
    res = resolve(zone(record("ps", policy)), "ps." + ZONE, "A", None, down_set(["10.1.0.12"]))
    assert shares(res) == {("10.1.0.10",): 0.5, ("10.1.0.11",): 0.5}
    assert "renormalised" in res.outcomes[0].why[0]


def test_wrr_every_item_down_fails_open_by_weight():
    res = resolve(
        zone(record("ps", QUARTER)),
        "ps." + ZONE,
        "A",
        None,
        down_set(["10.1.0.10", "10.1.0.11"]),
    )
    assert shares(res) == {("10.1.0.10",): 0.25, ("10.1.0.11",): 0.75}
    assert "fail open" in res.outcomes[0].why[0]


def test_wrr_weight_0_is_never_chosen_while_a_healthy_item_has_weight():
    policy = wrr((0, ["10.1.0.9"]), (3, ["10.1.0.10"]))
    res = resolve(zone(record("ps", policy)), "ps." + ZONE, "A", None)
    assert shares(res) == {("10.1.0.10",): 1.0}
    assert set(sample(res, 500, random.Random(0))) == {("10.1.0.10",)}
    # With the weighted item down, the weight-0 items are what is left: they share equally.
    policy = wrr((0, ["10.1.0.8"]), (0, ["10.1.0.9"]), (3, ["10.1.0.10"]))
    res = resolve(zone(record("ps", policy)), "ps." + ZONE, "A", None, down_set(["10.1.0.10"]))
    assert shares(res) == {("10.1.0.8",): 0.5, ("10.1.0.9",): 0.5}


# --- primaryBackup -----------------------------------------------------------------------------


def failover(trickle: float = 0.0) -> dict[str, Any]:
    pb: dict[str, Any] = {
        "primaryTargets": {"externalEndpoints": ["198.51.100.1", "198.51.100.2"]},
        "backupGeoTargets": geo(TWO),
    }
    if trickle:
        pb["trickleTraffic"] = trickle
    return {"primaryBackup": pb}


def test_primary_backup_healthy_primaries_answer():
    out = answer(zone(record("ep", failover())), "ep", "europe-west4", down=["198.51.100.2"])
    assert out.data == ("198.51.100.1",)


def test_primary_backup_all_primaries_down_backups_answer_by_geo():
    down = ["198.51.100.1", "198.51.100.2"]
    out = answer(zone(record("ep", failover(0.1))), "ep", "europe-west2", down=down)
    assert out.data == ("203.0.113.20",)
    assert out.why[0].startswith("every primary is down")
    # and the backups fail over among themselves by the geo rules
    out = answer(zone(record("ep", failover())), "ep", "europe-west2", down=[*down, "203.0.113.20"])
    assert out.data == ("203.0.113.10",)


@pytest.mark.parametrize("seed", [1, 2])
def test_trickle_0_1_sends_a_tenth_to_the_backups_within_3_points(seed):
    res = resolve(zone(record("ep", failover(0.1))), "ep." + ZONE, "A", "us-central1")
    assert shares(res) == pytest.approx(
        {("198.51.100.1", "198.51.100.2"): 0.9, ("203.0.113.10",): 0.1}
    )
    drawn = sample(res, 4000, random.Random(seed))
    assert abs(drawn[("203.0.113.10",)] - 0.10) <= 0.03


def test_trickle_1_is_a_manual_failover():
    res = resolve(zone(record("ep", failover(1.0))), "ep." + ZONE, "A", "us-central1")
    assert shares(res) == {("203.0.113.10",): 1.0}


# --- the zone: plain sets, CNAME chains, NXDOMAIN and NODATA -----------------------------------


def plain(name: str, rtype: str, *data: str) -> dict[str, Any]:
    return {"name": name + ZONE if name else ZONE, "type": rtype, "ttl": 60, "rrdatas": list(data)}


def test_plain_record_set_answers_as_it_is():
    z = zone(plain("coordinator.", "A", "10.0.0.2", "10.0.0.3"))
    res = resolve(z, "Coordinator." + ZONE, "a", "us-central1")
    assert res.status == "NOERROR" and res.name == "coordinator." + ZONE
    assert res.outcomes[0].records[0].ttl == 60
    assert res.outcomes[0].data == ("10.0.0.2", "10.0.0.3")


def test_cname_chain_is_followed_within_the_zone_to_a_routed_set():
    z = zone(
        plain("data.", "CNAME", "mirror.ml.example.com."),
        plain("mirror.", "CNAME", "geo"),
        record("geo", {"geo": geo(TWO)}),
    )
    res = resolve(z, "data." + ZONE, "A", "europe-west1")
    (out,) = res.outcomes
    assert [(r.name, r.type) for r in out.records] == [
        ("data." + ZONE, "CNAME"),
        ("mirror." + ZONE, "CNAME"),
        ("geo." + ZONE, "A"),
    ]
    assert out.data == ("203.0.113.20",)
    # asked for the CNAME itself, the alias is the answer
    assert resolve(z, "data." + ZONE, "CNAME", None).outcomes[0].data == ("mirror.ml.example.com.",)


def test_cname_out_of_the_zone_and_loops_stop():
    z = zone(
        plain("ext.", "CNAME", "storage.googleapis.com."),
        plain("a.", "CNAME", "b.ml.example.com."),
        plain("b.", "CNAME", "a.ml.example.com."),
    )
    (out,) = resolve(z, "ext." + ZONE, "A", None).outcomes
    assert out.data == ("storage.googleapis.com.",) and "outside the zone" in out.why[-1]
    dangling = Zone.of(ZONE, [plain("d.", "CNAME", "gone.ml.example.com.")])
    res = resolve(dangling, "d." + ZONE, "A", None)
    assert res.status == "NXDOMAIN" and res.outcomes[0].data == ("gone.ml.example.com.",)
    (loop,) = resolve(z, "a." + ZONE, "A", None).outcomes
    assert len(loop.records) == 8 and "too long" in loop.why[-1]


def test_nxdomain_nodata_and_empty_non_terminals():
    z = zone(plain("w.", "A", "10.0.0.1"), plain("x.pool.", "A", "10.0.0.2"))
    missing = resolve(z, "nope." + ZONE, "A", None)
    assert missing.status == "NXDOMAIN" and missing.outcomes[0].why == (
        f"nope.{ZONE} does not exist",
    )
    nodata = resolve(z, "w." + ZONE, "TXT", None)
    assert nodata.status == "NOERROR" and nodata.nodata
    assert nodata.outcomes[0].why == (f"w.{ZONE} holds A; no TXT",)
    assert resolve(z, "pool." + ZONE, "A", None).nodata  # an empty non-terminal exists
    assert resolve(z, ZONE, "A", None).nodata  # the apex always exists


def test_wildcard_answers_names_below_its_closest_encloser():
    z = zone(plain("*.workers.", "A", "10.0.9.9"), plain("x.workers.", "A", "10.0.0.1"))
    (out,) = resolve(z, "w7.workers." + ZONE, "A", None).outcomes
    assert out.data == ("10.0.9.9",) and out.records[0].name == "w7.workers." + ZONE
    assert resolve(z, "x.workers." + ZONE, "A", None).outcomes[0].data == ("10.0.0.1",)
    assert resolve(z, "a.x.workers." + ZONE, "A", None).status == "NXDOMAIN"


def test_zone_of_picks_the_longest_containing_zone():
    outer, inner = Zone.of("example.com.", []), Zone.of("ml.example.com.", [])
    assert zone_of([outer, inner], "w.ml.example.com.") is inner
    assert zone_of([outer, inner], "w.example.com.") is outer
    assert zone_of([outer, inner], "example.org.") is None


def test_raw_bodies_as_the_emulator_stores_them():
    raw = {
        "kind": "dns#resourceRecordSet",
        "name": "W." + ZONE,
        "type": "A",
        "ttl": 5,
        "routingPolicy": {
            "kind": "dns#rRSetRoutingPolicy",
            "wrr": {"kind": "x", "items": [{"kind": "y", "weight": 2, "rrdatas": ["10.0.0.1"]}]},
        },
    }
    res = resolve(Zone.of(ZONE, [raw]), "w." + ZONE, "A", None)
    assert pick(res, random.Random(0)).data == ("10.0.0.1",)


def test_the_emulator_and_the_resolver_import_nothing_of_the_engine():

    package = Path(__file__).resolve().parent.parent / "mldns"
    allowed = {"mldns", "mldns.routing", "mldns.regions", "mldns.metrics_server", "mldns.stopping"}
    files = [
        *sorted((package / "emulator").glob("*.py")),
        package / "routing.py",
        package / "regions.py",
        package / "metrics_server.py",
        package / "stopping.py",
    ]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "mldns":
                names = [f"mldns.{a.name}" for a in node.names]  # from mldns import routing
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            engine = [n for n in names if n.split(".")[0] == "mldns" and n not in allowed]
            assert not engine, f"{path.name} imports {engine}"


# --- properties over generated policies --------------------------------------------------------


IPS = [f"192.0.2.{i}" for i in range(1, 9)]
region_names = st.sampled_from(sorted(regions()))
targets = st.lists(st.sampled_from(IPS), min_size=1, max_size=3, unique=True)


@settings(max_examples=150, deadline=None)
@given(
    items=st.dictionaries(region_names, targets, min_size=1, max_size=5),
    down=st.sets(st.sampled_from(IPS)),
    client=st.one_of(st.none(), region_names),
    fencing=st.booleans(),
)
def test_geo_answers_a_healthy_item_whenever_one_is_left(items, down, client, fencing):
    z = zone(record("w", {"geo": geo(items, fencing=fencing)}))
    (out,) = resolve(z, "w." + ZONE, "A", client, down_set(down)).outcomes
    assert out.share == 1.0
    assert any(set(out.data) <= set(ips) for ips in items.values())
    some_healthy = any(set(ips) - down for ips in items.values())
    fenced = any("fencing keeps" in reason for reason in out.why)
    if some_healthy and not fenced:
        assert not set(out.data) & down
    if client in items and set(items[client]) - down:
        assert out.data == tuple(ip for ip in items[client] if ip not in down)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.tuples(st.sampled_from([0, 0.5, 1, 3]), targets), min_size=1, max_size=5),
    down=st.sets(st.sampled_from(IPS)),
)
def test_wrr_shares_sum_to_one_and_avoid_down_targets_while_any_item_is_up(items, down):
    res = resolve(zone(record("ps", wrr(*items))), "ps." + ZONE, "A", None, down_set(down))
    assert abs(sum(o.share for o in res.outcomes) - 1.0) < 1e-9
    up = [(w, ips) for w, ips in items if set(ips) - down]
    if up:
        assert all(not set(o.data) & down for o in res.outcomes)
    if any(w > 0 for w, _ in up):
        zero_only = {tuple(ip for ip in ips if ip not in down) for w, ips in up if w == 0}
        weighted = {tuple(ip for ip in ips if ip not in down) for w, ips in up if w > 0}
        assert all(o.data in weighted or o.data not in zero_only for o in res.outcomes)
