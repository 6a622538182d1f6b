"""The short construction path of a record set agrees with the full one, value for value and error
for error: it is only a faster way to reach the same object. So does the stack's check of names
with a scan of every declaration before it."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mldns import dns
from mldns.errors import ValidationError
from mldns.resources.dns import records
from mldns.stack import Stack

ZONE = dns.ManagedZone(name="z", dns_name="z.example.com.")
NET = "projects/p/global/networks/n"
# The short path takes plain zones only: forwarding and peering zones hold no record sets.
ZONES = (
    ZONE,
    dns.ManagedZone(name="p", dns_name="z.example.com.", visibility="private", networks=[NET]),
    dns.ManagedZone(
        name="f", dns_name="z.example.com.", visibility="private", forwarding=["10.0.0.53"]
    ),
    dns.ManagedZone(name="g", dns_name="z.example.com.", visibility="private", peering_network=NET),
)
FIELDS = ("zone", "name", "type", "ttl", "rrdatas", "routing", "protect", "fqdn", "address")
FIELDS += ("ignore_changes",)

labels = st.from_regex(r"[A-Za-z0-9_*-]{0,64}", fullmatch=True)
names = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["@", "w1.z.example.com.", "x.other.com.", "", "a..b", "w" * 250]),
    # Letters and digits beyond ASCII: str.isalnum says yes, a DNS name says no.
    st.sampled_from(["w\u00e9", "w\u00b2", "\uff571", "\u0661", "W" * 63, "W" * 64]),
    st.integers(),
)
# Mostly the short path's shape, so that most examples take it; the rest probe its edges.
quads = st.one_of(
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))),
    st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(map(str, t))),
    st.sampled_from(["010.0.0.1", "1.2.3", "::1", "10.0.0.1\n", " 10.0.0.1", "00.1.2.3"]),
    st.sampled_from(["1.2.3.\u0664", "1.2.3.4\x00", "1.2.3.4/8", "0x1.2.3.4", "1..2.3"]),
)
ttls = st.one_of(st.integers(0, 86400), st.integers(-1, 2**31), st.sampled_from([True, 1.5]))


def built(construct: Any) -> tuple[str, Any]:
    try:
        record = construct()
    except ValidationError as exc:
        return "error", str(exc)
    return "ok", tuple(getattr(record, f) for f in FIELDS)


def full_path(**kwargs: Any) -> dns.RecordSet:
    record = object.__new__(dns.RecordSet)
    record.__attrs_init__(**kwargs)
    return record


@settings(max_examples=400, deadline=None)
@given(
    name=names,
    rtype=st.sampled_from(["A"] * 6 + ["a", "AAAA", "TXT"]),
    ttl=ttls,
    data=st.one_of(
        st.lists(quads, min_size=1, max_size=1),
        st.tuples(quads),
        st.lists(quads, min_size=0, max_size=2),
        quads,
    ),
    protect=st.sampled_from([False] * 4 + [True, 0]),
    zone=st.sampled_from([ZONE] * 5 + list(ZONES[1:])),
    ignored=st.sampled_from([()] * 4 + [("ttl",), "rrdatas", ("tll",)]),
)
def test_the_short_path_builds_what_the_full_path_builds(
    name: Any, rtype: str, ttl: Any, data: Any, protect: Any, zone: Any, ignored: Any
) -> None:
    kwargs = {"zone": zone, "name": name, "type": rtype, "ttl": ttl, "rrdatas": data}
    kwargs["protect"] = protect
    if ignored != ():
        kwargs["ignore_changes"] = ignored
    assert built(lambda: dns.RecordSet(**kwargs)) == built(lambda: full_path(**kwargs))


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("w1", ["10.0.0.999"], "rrdatas: '10.0.0.999' is not valid A data"),
        ("a..b", ["10.0.0.1"], "is not a valid DNS name"),
        ("x.other.com.", ["10.0.0.1"], "lies outside the zone"),
    ],
)
def test_a_record_set_off_the_short_path_names_its_field(
    name: str, data: list[str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        dns.RecordSet(zone=ZONE, name=name, type="A", ttl=60, rrdatas=data)


SHORT = {"zone": ZONE, "name": "w1", "type": "A", "ttl": 300, "rrdatas": ["10.0.0.1"]}
# Each argument of the short path's shape, moved one at a time off it and onto its edges.
EDGES: list[tuple[str, list[Any]]] = [
    ("zone", [*ZONES, "z"]),
    ("name", ["w\u00e9", "w\u00b2", "\uff571", "\u0661", "W" * 63, "W" * 64, "w-1", "w_1", "@"]),
    ("name", ["a.b", "a..b", "", "W1", "w1.", 1, "w" * 230]),
    ("type", ["a", "AAAA", "", None]),
    ("ttl", [0, 2**31 - 1, 2**31, -1, True, 1.0, "300"]),
    ("rrdatas", [("10.0.0.1",), "10.0.0.1", [], ["10.0.0.1"] * 2, [b"10.0.0.1"], ["010.0.0.1"]]),
    ("rrdatas", [["256.0.0.1"], ["1.2.3.\u0664"], ["1.2.3.4\x00"], ["\ud800"], ["1.2.3.4 "]]),
    ("routing", [dns.Geo({"us-east1": ["10.0.0.1"]})]),
    ("protect", [True, 0, None]),
    ("ignore_changes", [(), [], "ttl", ("ttl",), ("tll",)]),
]


@pytest.mark.parametrize("ipv4", ["chosen", "regex"])
@pytest.mark.parametrize("field, values", EDGES, ids=[f for f, _ in EDGES])
def test_each_edge_of_the_short_path_builds_what_the_full_path_builds(
    field: str, values: list[Any], ipv4: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ipv4 == "regex":  # as where the C library's parser takes other forms
        monkeypatch.setattr(records, "_canonical_ipv4", records._regex_ipv4)
    for value in values:
        kwargs = {**SHORT, field: value}
        if field == "routing":
            kwargs["rrdatas"] = None
        short = built(lambda: dns.RecordSet(**kwargs))  # noqa: B023  called at once
        assert short == built(lambda: full_path(**kwargs)), value  # noqa: B023


def test_the_c_librarys_parser_of_quads_stands_in_for_the_regex_here() -> None:
    """glibc's and musl's inet_pton take exactly the canonical dotted quads, so the short path
    asks them rather than the regex."""
    if sys.platform != "linux":
        pytest.skip("another C library: the short path uses whichever agrees with the regex")
    assert records._parser_agrees()
    assert records._canonical_ipv4 is records.inet_pton


# The stack check of names, against a model that scans every declaration before it: a record set
# meets the tables of its zone holding its name, then the record sets there, in the order they
# were declared; a table meets each table before it at their first shared name, then the record
# sets at each name it shares with them.
DATA = {"A": "10.0.0.1", "AAAA": "::1", "CNAME": "x.example.com.", "TXT": "hello"}
declarations = st.lists(
    st.one_of(
        st.tuples(
            st.just("set"),
            st.integers(0, 1),
            st.sampled_from("abc@"),
            st.sampled_from(sorted(DATA)),
        ),
        st.tuples(
            st.just("table"),
            st.integers(0, 1),
            st.sets(st.sampled_from("abc@"), min_size=1),
            st.sampled_from(sorted(DATA)),
        ),
    ),
    max_size=12,
)


def _clash(address: str, fqdn: str, rtype: str, claims: list[Any]) -> str | None:
    for other in claims:
        if other.type == rtype:
            return str(
                ValidationError(
                    address, "name", f"{fqdn} {rtype} is also declared by {other.address}"
                )
            )
        if "CNAME" in (other.type, rtype):
            message = f"a CNAME cannot share its name with another record set ({other.address})"
            return str(ValidationError(address, "type", message))
    return None


def _model(declared: list[Any], resource: Any) -> str | None:
    if any(r.address == resource.address for r in declared):
        return str(ValidationError(resource.address, None, "is declared twice"))
    same_zone = [r for r in declared if r.zone is resource.zone]
    tables = [r for r in same_zone if isinstance(r, dns.RecordTable)]
    sets = [r for r in same_zone if isinstance(r, dns.RecordSet)]
    if isinstance(resource, dns.RecordSet):
        claims = [t for t in tables if resource.fqdn in t.rows]
        claims += [r for r in sets if r.fqdn == resource.fqdn]
        return _clash(resource.address, resource.fqdn, resource.type, claims)
    for other in tables:
        for fqdn in sorted(resource.rows.keys() & other.rows.keys())[:1]:
            found = _clash(resource.address, fqdn, resource.type, [other])
            if found:
                return found
    for fqdn in sorted(resource.rows.keys() & {r.fqdn for r in sets}):
        found = _clash(resource.address, fqdn, resource.type, [r for r in sets if r.fqdn == fqdn])
        if found:
            return found
    return None


@settings(max_examples=300, deadline=None)
@given(declarations)
# Several record sets at one name before the first CNAME or table of their zone: the claims are
# named in the order they were declared, and none is left out.
@example([("set", 0, "a", "A"), ("set", 0, "a", "AAAA"), ("set", 0, "a", "CNAME")])
@example([("set", 0, "a", "A"), ("set", 0, "a", "AAAA"), ("set", 0, "a", "TXT")] * 2)
@example(
    [("set", 0, "a", "A"), ("set", 0, "a", "AAAA"), ("set", 0, "a", "TXT")]
    + [("set", 1, "b", "CNAME"), ("table", 0, {"a", "b"}, "TXT"), ("set", 0, "a", "CNAME")]
)
@example(
    [("set", 0, "b", "CNAME"), ("set", 0, "a", "A"), ("set", 0, "a", "AAAA")]
    + [("set", 0, "a", "TXT"), ("table", 0, {"a"}, "TXT")]
)
def test_the_stack_refuses_what_a_scan_of_every_declaration_refuses(steps: list[Any]) -> None:
    stack = Stack("names", project="p")
    zones = [stack.add(dns.ManagedZone(name=f"z{i}", dns_name="z.example.com.")) for i in (0, 1)]
    declared: list[Any] = []
    for i, (what, zone, names, rtype) in enumerate(steps):
        if rtype == "CNAME" and "@" in names:
            continue  # refused as it is built (a CNAME at the apex), before the stack sees it
        if what == "set":
            data = [DATA[rtype]]
            resource: Any = dns.RecordSet(zone=zones[zone], name=names, type=rtype, rrdatas=data)
        else:
            records = {name: DATA[rtype] for name in sorted(names)}
            resource = dns.RecordTable(zone=zones[zone], name=f"t{i}", type=rtype, records=records)
        expected = _model(declared, resource)
        try:
            stack.add(resource)
        except ValidationError as exc:
            assert str(exc) == expected
        else:
            assert expected is None
            declared.append(resource)
    assert list(stack)[2:] == declared


def test_a_record_set_of_a_zone_not_in_the_stack_is_refused() -> None:
    stack = Stack("refs", project="p")
    elsewhere = dns.ManagedZone(name="z", dns_name="z.example.com.")
    stack.add(dns.ManagedZone(name="z", dns_name="z.example.com."))  # the same name, another zone
    with pytest.raises(ValidationError, match="refers to dns.ManagedZone.z, which is not declared"):
        stack.add(dns.RecordSet(**{**SHORT, "zone": elsewhere}))
    with pytest.raises(ValidationError, match="expects a resource, got dict"):
        stack.add(SHORT)  # type: ignore[type-var]
