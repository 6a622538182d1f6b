"""The emulator's DNS server: authoritative answers for its zones over UDP and TCP.

A client mapped to a VPC network (the client-networks table) is answered as Cloud DNS answers a
VM there: its network's response policy first, then the private zones visible to the network,
then public zones (`dns_private`). Other clients see public zones only.

Answers go through `mldns.routing`, the rules `mldns resolve` uses (a standalone module of the
standard library and the regions data, so the emulator still imports nothing of the engine). The
client's region comes from the EDNS Client Subnet option when the query carries one, else from
the source address, each mapped through the client-regions table; target health comes from the
health table (set by the admin API, or by the prober).

UDP is served by one thread, so a flood queues in the socket buffer and the excess is dropped by
the kernel; TCP takes at most `MAX_TCP` connections at once. Neither can starve the API server.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from mldns import routing
from mldns.regions import region_problem

from . import dns_private
from .records import served
from .store import Store, Zone

MAX_TCP = 32
BIND_TRIES = 20
ZONE_TRANSFERS = (dns.rdatatype.AXFR, dns.rdatatype.IXFR)  # not offered
TCP_IDLE_S = 5.0
UDP_PAYLOAD = 512
Record = Callable[[str, str, str], None]


class DnsTables:
    """Where clients are (network -> region) and which targets are down, as the admin API sets
    them; probe results sit under the admin's word."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.client_regions: dict[str, str] = {}
        self._networks: list[tuple[Any, str]] = []
        self.health: dict[str, bool] = {}
        self.probed: dict[str, bool] = {}
        self.networks = dns_private.ClientNetworks()

    def set_client_networks(self, body: Any) -> None:
        self.networks.set(body)

    def set_client_regions(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise ValueError(
                'expected a JSON object of network -> region, e.g. {"10.1.0.0/16": "europe-west4"}'
            )
        networks = []
        for cidr, region in body.items():
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"client-regions: {cidr!r} is not a network (CIDR)") from None
            problem = region_problem(region) if isinstance(region, str) else "must be a string"
            if problem:
                raise ValueError(f"client-regions[{cidr!r}]: {problem}")
            networks.append((network, region))
        networks.sort(key=lambda n: -n[0].prefixlen)  # the longest prefix matches first
        with self._lock:
            self.client_regions = dict(body)
            self._networks = networks

    def set_health(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise ValueError(
                'expected a JSON object of address -> true/false, e.g. {"198.51.100.20": false}'
            )
        health = {}
        for ip, up in body.items():
            try:
                address = str(ipaddress.ip_address(ip))
            except ValueError:
                raise ValueError(f"health: {ip!r} is not an IP address") from None
            health[address] = _verdict(ip, up)
        with self._lock:
            self.health = health

    def set_probed(self, ip: str, up: bool) -> None:
        with self._lock:
            self.probed[ip] = up

    def region_of(self, address: str) -> str | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        with self._lock:
            networks = self._networks
        return next(
            (region for net, region in networks if ip.version == net.version and ip in net), None
        )

    def is_up(self, ip: str) -> bool:
        with self._lock:
            if ip in self.health:
                return self.health[ip]
            return self.probed.get(ip, True)

    def view(self) -> dict[str, Any]:
        with self._lock:
            return {
                "client_regions": dict(self.client_regions),
                "client_networks": dict(self.networks.table),
                "health": dict(self.health),
                "probed": dict(self.probed),
            }


def _verdict(ip: str, up: Any) -> bool:
    """true/false, or what each source region sees ({"us-central1": false, ...}): down when at
    least two of them see the endpoint fail, as Google decides."""
    if isinstance(up, bool):
        return up
    if isinstance(up, dict) and up and all(isinstance(v, bool) for v in up.values()):
        for region in up:
            problem = region_problem(region)
            if problem:
                raise ValueError(f"health[{ip!r}]: {problem}")
        return routing.endpoint_up(up)
    raise ValueError(
        f"health[{ip!r}]: must be true or false, or an object of source region -> true/false, got {up!r}"
    )


class Answerer:
    """Turns one query's wire bytes into the reply's (None: drop it)."""

    def __init__(
        self, store: Store, tables: DnsTables, record: Record, seed: int | None = None
    ) -> None:
        self.store = store
        self.tables = tables
        self.record = record
        self.rng = random.Random(seed)
        self._zones: dict[int, tuple[list[Any], routing.Zone]] = {}

    def reply(self, wire: bytes, source: str, max_size: int | None) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.message.ShortHeader:
            return None
        except Exception:
            self.record("?", "?", "FORMERR")
            return _formerr(wire)
        try:
            response = self._answer(query, source)
        except Exception:
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
        question = query.question[0] if query.question else None
        self.record(
            question.name.to_text() if question is not None else "?",
            dns.rdatatype.to_text(question.rdtype) if question is not None else "?",
            dns.rcode.to_text(response.rcode()),
        )
        return _to_wire(response, max_size if max_size is not None else _payload(query))

    def _answer(self, query: dns.message.Message, source: str) -> dns.message.Message:
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname = question.name.to_text().lower()
        if question.rdclass != dns.rdataclass.IN or question.rdtype in ZONE_TRANSFERS:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        ecs = next((o for o in query.options if isinstance(o, dns.edns.ECSOption)), None)
        client = ecs.address if ecs is not None else source
        if ecs is not None:
            response.use_edns(
                0, 0, 1232, options=[dns.edns.ECSOption(ecs.address, ecs.srclen, ecs.srclen)]
            )
        region = self.tables.region_of(client)
        network = self.tables.networks.network_of(client)
        rtype = dns.rdatatype.to_text(question.rdtype)
        with self.store.lock:
            rule = dns_private.rule_for(self.store, network, qname) if network else None
            if rule is not None and network and rule.get("localData"):
                chain = dns_private.local_chain(self.store, network, rule, qname, rtype)
                return _local(response, chain)
            zone = None
            if network:
                zone = routing.zone_of(
                    [z for _, z in self._zones_where(lambda r: dns_private.visible(r, network))],
                    qname,
                )
            if zone is None:
                zone = routing.zone_of([z for _, z in self._public_zones()], qname)
            if zone is None:
                response.set_rcode(dns.rcode.REFUSED)
                return response
            result = routing.resolve(zone, qname, rtype, region, self.tables.is_up)
            outcome = routing.pick(result, self.rng)
            soa = zone.rrsets.get((zone.dns_name, "SOA"))
        response.flags |= dns.flags.AA
        for rrset in outcome.records:
            response.answer.append(
                dns.rrset.from_text_list(
                    rrset.name,
                    rrset.ttl,
                    "IN",
                    rrset.type,
                    [served(rrset.type, data) for data in rrset.rrdatas],
                )
            )
        if result.status == "NXDOMAIN":
            response.set_rcode(dns.rcode.NXDOMAIN)
        if not outcome.records and soa is not None:
            data = list(soa.get("rrdatas") or ())
            ttl = min(int(soa.get("ttl", 300)), int(data[0].split()[-1])) if data else 300
            response.authority.append(
                dns.rrset.from_text_list(zone.dns_name, ttl, "IN", "SOA", data)
            )
        return response

    def _public_zones(self) -> Iterator[tuple[Zone, routing.Zone]]:
        return self._zones_where(lambda r: r.get("visibility", "public") == "public")

    def _zones_where(
        self, wanted: Callable[[dict[str, Any]], bool]
    ) -> Iterator[tuple[Zone, routing.Zone]]:
        """The zones of every project whose resource is `wanted`, as routing reads them; a
        zone's name index is rebuilt only when its set of record set keys changes."""
        for project in self.store.projects.values():
            for zone in project.zones.values():
                if not wanted(zone.resource):
                    continue
                keys = zone.sorted_keys()
                cached = self._zones.get(id(zone))
                if cached is None or cached[0] is not keys:
                    view = routing.Zone(
                        zone.resource["dnsName"], zone.rrsets, zone.resource["name"]
                    )
                    cached = self._zones[id(zone)] = (keys, view)
                yield zone, cached[1]


def _local(
    response: dns.message.Message, records: list[tuple[str, int, str, list[str]]]
) -> dns.message.Message:
    """A response policy's local data as the answer (empty: NODATA)."""
    for owner, ttl, rtype, rrdatas in records:
        response.answer.append(dns.rrset.from_text_list(owner, ttl, "IN", rtype, rrdatas))
    return response


def _payload(query: dns.message.Message) -> int:
    return max(UDP_PAYLOAD, query.payload) if query.edns >= 0 else UDP_PAYLOAD


def _to_wire(response: dns.message.Message, max_size: int) -> bytes:
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        response.answer.clear()
        response.authority.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=max_size)


def _formerr(wire: bytes) -> bytes:
    """A bare FORMERR reply carrying the query's id and opcode: all a broken query lets us echo."""
    (qid, flags) = struct.unpack("!HH", wire[:4])
    return struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7800) | dns.rcode.FORMERR, 0, 0, 0, 0)


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        server: Any = self.server
        reply = server.answerer.reply(data, self.client_address[0], None)
        if reply is not None:
            with contextlib.suppress(OSError):
                sock.sendto(reply, self.client_address)


class _Tcp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Any = self.server
        if not server.slots.acquire(blocking=False):
            return  # over the limit: close at once
        try:
            self.request.settimeout(TCP_IDLE_S)
            while True:
                head = _read(self.request, 2)
                if head is None:
                    return
                wire = _read(self.request, struct.unpack("!H", head)[0])
                if wire is None:
                    return
                reply = server.answerer.reply(wire, self.client_address[0], 65535)
                if reply is None:
                    return
                self.request.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            server.slots.release()


def _read(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class _UdpServer(socketserver.UDPServer):
    allow_reuse_address = True
    max_packet_size = 65535
    answerer: Answerer


class _TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    answerer: Answerer
    slots: threading.BoundedSemaphore


class _UdpServer6(_UdpServer):
    address_family = socket.AF_INET6


class _TcpServer6(_TcpServer):
    address_family = socket.AF_INET6


class DnsServer:
    """UDP and TCP listeners on one port, each served from its own thread."""

    def __init__(self, answerer: Answerer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.answerer = answerer
        self.host = host
        self.port = port
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> DnsServer:
        udp, tcp = self._bind()
        self.port = udp.server_address[1]
        udp.answerer = tcp.answerer = self.answerer
        tcp.slots = threading.BoundedSemaphore(MAX_TCP)
        self._servers = [udp, tcp]
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
                name=f"mldns-dns-{type(server).__name__}-{self.port}",
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _bind(self) -> tuple[_UdpServer, _TcpServer]:
        """UDP and TCP on one port; with port 0, the first free for both of a few tries."""
        v6 = ":" in self.host
        udp_server, tcp_server = (_UdpServer6, _TcpServer6) if v6 else (_UdpServer, _TcpServer)
        for attempt in range(BIND_TRIES):
            udp = udp_server((self.host, self.port), _Udp)
            try:
                return udp, tcp_server((self.host, udp.server_address[1]), _Tcp)
            except OSError:
                udp.server_close()
                if self.port or attempt + 1 == BIND_TRIES:
                    raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []
