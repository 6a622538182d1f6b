"""Generated zones round trip: whatever names, types, TTLs and routing policies a zone holds, the
stack generated from it plans as adoptions only, with no write."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_generate import assert_adopts_without_writes

import mldns
from mldns import dns
from mldns.clients import Clients
from mldns.emulator import Emulator
from mldns.generate.live import read_project
from mldns.generate.writer import render
from mldns.workspace import Workspace

PROJECT = "roundtrip"
REGIONS = ["us-central1", "us-east1", "europe-west4", "asia-southeast1"]
LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,6}[a-z0-9]", fullmatch=True)
IPV4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
DATA = {
    "A": IPV4,
    "AAAA": st.integers(1, 2**16 - 1).map(lambda n: f"2001:db8::{n:x}"),
    "TXT": st.from_regex(r"[a-z0-9=; ]{1,20}", fullmatch=True).map(lambda t: f'"{t}"'),
    "MX": st.tuples(st.integers(0, 100), LABEL).map(lambda t: f"{t[0]} {t[1]}.mail.example."),
    "SRV": st.tuples(st.integers(0, 9), st.integers(1, 65535)).map(
        lambda t: f"{t[0]} 1 {t[1]} host.example."
    ),
    "CNAME": LABEL.map(lambda t: f"{t}.example.net."),
}


@st.composite
def zone_contents(draw: Any) -> list[dict[str, Any]]:
    """Record sets as (name, type, ttl, rrdatas | routing), one CNAME per name at most."""
    names = draw(
        st.lists(
            st.one_of(st.just("@"), LABEL, LABEL.map(lambda n: f"{n}.sub")),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    records = []
    for name in names:
        types = draw(st.lists(st.sampled_from(sorted(DATA)), min_size=1, max_size=3, unique=True))
        if "CNAME" in types:
            types = ["CNAME"] if name != "@" else [t for t in types if t != "CNAME"] or ["A"]
        for rtype in types:
            ttl = draw(st.integers(0, 86400))
            values = st.lists(DATA[rtype], min_size=1, max_size=1 if rtype == "CNAME" else 3)
            kind = draw(st.sampled_from(["plain", "plain", "geo", "weighted"]))
            if kind == "geo" and rtype != "CNAME":
                regions = draw(
                    st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True)
                )
                routing: Any = dns.Geo(
                    {r: draw(values) for r in regions}, fencing=draw(st.booleans())
                )
                records.append({"name": name, "type": rtype, "ttl": ttl, "routing": routing})
            elif kind == "weighted" and rtype != "CNAME":
                weights = draw(
                    st.lists(st.sampled_from([0, 0.25, 0.5, 1, 3]), min_size=1, max_size=3)
                )
                routing = dns.Weighted([(w, draw(values)) for w in weights])
                records.append({"name": name, "type": rtype, "ttl": ttl, "routing": routing})
            else:
                records.append({"name": name, "type": rtype, "ttl": ttl, "rrdatas": draw(values)})
    if draw(st.booleans()):  # a fleet: a table's worth of plain record sets of one type and TTL
        for i in range(draw(st.integers(21, 30))):
            records.append(
                {"name": f"worker-{i}.fleet", "type": "A", "ttl": 60, "rrdatas": [f"10.0.{i}.1"]}
            )
    return records


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents=zone_contents(), private=st.booleans())
def test_generated_zones_round_trip(contents: list[dict[str, Any]], private: bool) -> None:
    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        stack = mldns.Stack("source", project=PROJECT)
        zone = stack.add(
            dns.ManagedZone(
                name="gen-zone",
                dns_name="gen.example.com.",
                visibility="private" if private else "public",
                networks=[f"projects/{PROJECT}/global/networks/vpc"] if private else [],
                labels={"made-by": "hypothesis"},
            )
        )
        for record in contents:
            stack.add(dns.RecordSet(zone=zone, **record))
        Workspace(
            stack_name=stack.name,
            project=PROJECT,
            stack=stack,
            state_dir=str(Path(tmp) / "src"),
            emulator=emu.host_port,
            log=lambda line: None,
        ).apply()
        generated = read_project(Clients(PROJECT, emu.host_port), PROJECT, only=["dns"])
        assert generated.notes == []
        path = Path(tmp) / "stack.py"
        path.write_text(render(generated))
        assert_adopts_without_writes(path, emu, Path(tmp) / "fresh")
