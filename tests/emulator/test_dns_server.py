"""The emulator's DNS server, queried with dnspython: seed 000 end to end, health (set and probed),
the admin tables, and bad or excessive queries."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest
import requests

import mldns
from mldns import compute
from mldns import dns as mdns
from mldns.emulator import Emulator
from mldns.stack import load_stack
from mldns.workspace import Workspace

SEED_000 = Path(__file__).resolve().parents[2] / "examples" / "seed_000_geo_routing" / "stack.py"
APEX = "mlworkloads.example.com."
REGIONS = {"10.1.0.0/16": "europe-west4", "10.2.0.0/16": "us-east1", "127.0.0.0/8": "asia-east1"}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(dns_port=0, dns_seed=7) as emulator:
        yield emulator


def apply(stack: mldns.Stack, emu: Emulator, tmp_path: Path) -> None:
    Workspace.for_stack(
        stack, emulator=emu.host_port, state_dir=str(tmp_path), log=lambda _: None
    ).apply()


def ask(emu: Emulator, name: str, rtype: str = "A", client: str | None = None, tcp: bool = False):
    options = [dns.edns.ECSOption(client, 24)] if client else []
    query = dns.message.make_query(name, rtype, use_edns=0 if client else None, options=options)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=emu.dns_port, timeout=3)


def addresses(reply) -> list[str]:
    return sorted(rd.to_text() for rrset in reply.answer if rrset.rdtype == 1 for rd in rrset)


def put(emu: Emulator, table: str, body) -> requests.Response:
    data = body if isinstance(body, str) else None
    return requests.put(
        f"{emu.url}/_emulator/dns/{table}", json=None if data else body, data=data, timeout=5
    )


@pytest.fixture
def seed(emu: Emulator, tmp_path: Path) -> Emulator:
    apply(load_stack(SEED_000), emu, tmp_path)
    assert put(emu, "client-regions", REGIONS).status_code == 200
    return emu


def test_seed_000_answers_each_region_its_endpoint_and_moves_when_one_is_down(seed):
    europe = ask(seed, APEX, client="10.1.7.0")
    assert addresses(europe) == ["203.0.113.20"]
    assert europe.flags & dns.flags.AA and europe.rcode() == dns.rcode.NOERROR
    (ecs,) = europe.options
    assert ecs.address == "10.1.7.0" and ecs.scopelen == 24
    assert addresses(ask(seed, APEX, client="10.2.0.9", tcp=True)) == ["203.0.113.10"]
    # no ECS: the source address (127.0.0.1, mapped to asia-east1) decides
    assert addresses(ask(seed, APEX)) == ["203.0.113.30"]

    assert put(seed, "health", {"203.0.113.20": False}).status_code == 200
    assert addresses(ask(seed, APEX, client="10.1.7.0")) == ["203.0.113.10"]
    assert put(seed, "health", {}).status_code == 200
    assert addresses(ask(seed, APEX, client="10.1.7.0")) == ["203.0.113.20"]

    # per source region: one of three failing leaves the endpoint up, two take it down
    sources = {"us-central1": True, "europe-west4": False, "asia-southeast1": True}
    assert put(seed, "health", {"203.0.113.20": sources}).status_code == 200
    assert addresses(ask(seed, APEX, client="10.1.7.0")) == ["203.0.113.20"]
    sources["asia-southeast1"] = False
    assert put(seed, "health", {"203.0.113.20": sources}).status_code == 200
    assert addresses(ask(seed, APEX, client="10.1.7.0")) == ["203.0.113.10"]


def test_queries_are_counted_with_the_api_calls(seed):
    seed.clear_requests()
    ask(seed, APEX, client="10.1.0.1")
    ask(seed, "gone." + APEX)
    summary = requests.get(f"{seed.url}/_emulator/requests", timeout=5).json()
    assert summary["by_api"] == {"dns-server": 2}
    assert summary["queries_by_rcode"] == {"NOERROR": 1, "NXDOMAIN": 1}
    assert summary["recent"][-1]["path"] == f"gone.{APEX} A"


def zone_stack(**records: mdns.RecordSet) -> mldns.Stack:
    stack = mldns.Stack("dns-server", project="p")
    zone = stack.add(mdns.ManagedZone(name="z", dns_name="ml.example.com."))
    private = stack.add(
        mdns.ManagedZone(
            name="inner", dns_name="train.internal.", visibility="private", networks=["n"]
        )
    )
    stack.add(mdns.RecordSet(zone=private, name="c", type="A", rrdatas=["10.0.0.1"]))
    stack.add(mdns.RecordSet(zone=zone, name="data", type="CNAME", rrdatas=["ps.ml.example.com."]))
    stack.add(
        mdns.RecordSet(
            zone=zone,
            name="ps",
            type="A",
            ttl=15,
            routing=mdns.Weighted([(0.25, ["10.1.0.10"]), (0.75, ["10.1.0.11"])]),
        )
    )
    texts = [f'"{i:03d} {"x" * 40}"' for i in range(30)]
    stack.add(mdns.RecordSet(zone=zone, name="big", type="TXT", rrdatas=texts))
    return stack


def test_cname_chains_nodata_nxdomain_refused_and_truncation(emu, tmp_path):
    apply(zone_stack(), emu, tmp_path)
    reply = ask(emu, "data.ml.example.com.")
    assert [r.rdtype for r in reply.answer] == [5, 1]  # CNAME, then the weighted A
    assert ask(emu, "ps.ml.example.com.", "TXT").answer == []
    assert ask(emu, "ps.ml.example.com.", "TXT").authority[0].rdtype == 6  # SOA
    assert ask(emu, "nope.ml.example.com.").rcode() == dns.rcode.NXDOMAIN
    assert ask(emu, "c.train.internal.").rcode() == dns.rcode.REFUSED  # private: not served
    assert ask(emu, "example.org.").rcode() == dns.rcode.REFUSED
    assert ask(emu, "ml.example.com.", "AXFR", tcp=True).rcode() == dns.rcode.REFUSED
    udp = dns.query.udp(
        dns.message.make_query("big.ml.example.com.", "TXT"),
        "127.0.0.1",
        port=emu.dns_port,
        timeout=3,
        ignore_trailing=True,
    )
    assert udp.flags & dns.flags.TC
    assert len(ask(emu, "big.ml.example.com.", "TXT", tcp=True).answer[0]) == 30


def test_weighted_answers_over_dns_follow_the_weights(emu, tmp_path):
    apply(zone_stack(), emu, tmp_path)
    seen = [addresses(ask(emu, "ps.ml.example.com."))[0] for _ in range(400)]
    share = seen.count("10.1.0.10") / len(seen)
    assert 0.15 < share < 0.35, share


# --- health probes -----------------------------------------------------------------------------


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _serve(host: str, port: int) -> http.server.HTTPServer:
    server = http.server.HTTPServer((host, port), _Ok)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def test_probed_target_that_stops_answering_moves_the_answer(tmp_path):
    first = _serve("127.0.0.2", 0)
    port = first.server_address[1]
    second = _serve("127.0.0.3", port)
    interval, threshold = 1, 2
    stack = mldns.Stack("probed", project="p")
    zone = stack.add(mdns.ManagedZone(name="z", dns_name="ml.example.com."))
    hc = stack.add(
        compute.HealthCheck(
            name="hc",
            type="HTTP",
            port=port,
            request_path="/healthz",
            check_interval_sec=interval,
            timeout_sec=1,
            unhealthy_threshold=threshold,
        )
    )
    geo = mdns.Geo({"us-central1": ["127.0.0.2"], "europe-west4": ["127.0.0.3"]}, health_check=hc)
    stack.add(mdns.RecordSet(zone=zone, name="ep", type="A", ttl=5, routing=geo))
    try:
        with Emulator(dns_port=0, probe_health=True) as emu:
            apply(stack, emu, tmp_path)
            emu.set_client_regions({"10.3.0.0/16": "us-central1"})
            assert addresses(ask(emu, "ep.ml.example.com.", client="10.3.0.0")) == ["127.0.0.2"]
            time.sleep(interval * 1.5)  # both probed healthy at least once
            first.shutdown()
            first.server_close()
            stopped = time.monotonic()
            deadline = stopped + interval * threshold + 1.5  # + one probe tick and a slow machine
            answer = ["127.0.0.2"]
            while answer == ["127.0.0.2"] and time.monotonic() < deadline:
                time.sleep(0.1)
                answer = addresses(ask(emu, "ep.ml.example.com.", client="10.3.0.0"))
            assert answer == ["127.0.0.3"], (
                f"still {answer} {time.monotonic() - stopped:.1f} s after the stop"
            )
            view = requests.get(f"{emu.url}/_emulator/dns", timeout=5).json()
            assert view["probed"]["127.0.0.2"] is False
    finally:
        second.shutdown()
        second.server_close()


# --- bad input and floods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "body", "message"),
    [
        ("client-regions", ["10.0.0.0/8"], "expected a JSON object"),
        ("client-regions", {"10.0.0.0/33": "us-east1"}, "'10.0.0.0/33' is not a network"),
        ("client-regions", {"10.0.0.0/8": "europe-wst4"}, "did you mean europe-west4?"),
        ("client-regions", "{not json", "expected a JSON object"),
        ("health", {"198.51.100": False}, "'198.51.100' is not an IP address"),
        ("health", {"198.51.100.20": "down"}, "must be true or false"),
        ("health", {"198.51.100.20": {"us-centrl1": False}}, "did you mean us-central1?"),
    ],
)
def test_malformed_admin_tables_get_400_in_googles_shape(emu, table, body, message):
    reply = put(emu, table, body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == 400 and error["errors"][0]["reason"] == "invalid"
    assert message in error["message"] and "\n" not in error["message"]
    assert requests.get(f"{emu.url}/_emulator/dns", timeout=5).json()["client_regions"] == {}


def test_malformed_queries_get_formerr_and_the_server_lives_on(seed):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff",
            ("127.0.0.1", seed.dns_port),
        )
        reply, _ = sock.recvfrom(512)
        assert reply[:2] == b"\x12\x34" and reply[3] & 0x0F == dns.rcode.FORMERR
        sock.sendto(b"\x01", ("127.0.0.1", seed.dns_port))  # too short to answer: dropped
    assert addresses(ask(seed, APEX, client="10.1.0.1")) == ["203.0.113.20"]


def test_a_burst_of_queries_is_answered_or_dropped_and_the_api_keeps_serving(seed):
    wire = dns.message.make_query(APEX, "A").to_wire()
    sent, answered = 3000, 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        for _ in range(sent):
            sock.sendto(wire, ("127.0.0.1", seed.dns_port))
        assert requests.get(f"{seed.url}/_emulator/health", timeout=5).json() == {"ok": True}
        try:
            while True:
                sock.recvfrom(512)
                answered += 1
        except TimeoutError:
            pass
    assert 0 < answered <= sent
    idle = [socket.create_connection(("127.0.0.1", seed.dns_port)) for _ in range(40)]
    try:
        assert requests.get(f"{seed.url}/_emulator/health", timeout=5).status_code == 200
    finally:
        for conn in idle:
            conn.close()
    assert addresses(ask(seed, APEX, client="10.1.0.1", tcp=True)) == ["203.0.113.20"]


def test_cli_starts_the_dns_server_and_refuses_probing_without_it(tmp_path):
    cmd = [sys.executable, "-c", "from mldns.cli import main; main()", "emulator", "--port", "0"]
    refused = subprocess.run([*cmd, "--probe-health"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and "give --dns-port too" in refused.stderr
    proc = subprocess.Popen([*cmd, "--dns-port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert (
            lines[1].startswith("mldns emulator DNS on 127.0.0.1:") and "(UDP and TCP)" in lines[1]
        )
        port = int(lines[1].split(":")[1].split()[0])
        reply = dns.query.udp(
            dns.message.make_query("x.example.", "A"), "127.0.0.1", port=port, timeout=3
        )
        assert reply.rcode() == dns.rcode.REFUSED
    finally:
        proc.terminate()
        proc.wait(timeout=10)
