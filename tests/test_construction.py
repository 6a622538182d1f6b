"""The short construction path of a record set agrees with the full one, value for value and error
for error: it is only a faster way to reach the same object."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mldns import dns
from mldns.errors import ValidationError

ZONE = dns.ManagedZone(name="z", dns_name="z.example.com.")
FIELDS = ("zone", "name", "type", "ttl", "rrdatas", "routing", "protect", "fqdn", "address")

labels = st.from_regex(r"[A-Za-z0-9_*-]{0,64}", fullmatch=True)
names = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["@", "w1.z.example.com.", "x.other.com.", "", "a..b", "w" * 250]),
    st.integers(),
)
# Mostly the short path's shape, so that most examples take it; the rest probe its edges.
quads = st.one_of(
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))),
    st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(map(str, t))),
    st.sampled_from(["010.0.0.1", "1.2.3", "::1", "10.0.0.1\n", " 10.0.0.1"]),
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
)
def test_the_short_path_builds_what_the_full_path_builds(
    name: Any, rtype: str, ttl: Any, data: Any, protect: Any
) -> None:
    kwargs = {"zone": ZONE, "name": name, "type": rtype, "ttl": ttl, "rrdatas": data}
    kwargs["protect"] = protect
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
