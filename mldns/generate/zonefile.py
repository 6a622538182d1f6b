"""A BIND zone file, parsed by dnspython ($ORIGIN, $TTL, relative names, multi-line records).

The apex SOA and NS are left out: Cloud DNS creates and owns them.
"""

from __future__ import annotations

from pathlib import Path

from mldns.generate.convert import record_set
from mldns.generate.model import Generated, SourceError, stack_name_for, zone_name_for
from mldns.resources.dns import ManagedZone


def read_zone_file(
    path: str, dns_name: str, zone_name: str | None = None, project: str | None = None
) -> Generated:
    import dns.exception
    import dns.name
    import dns.rdataclass
    import dns.zone

    if not dns_name.endswith("."):
        dns_name += "."
    gen = Generated(
        source=f"zone file {Path(path).name} ({dns_name})",
        stack_name=stack_name_for(dns_name.rstrip(".")),
        project=project,
    )
    try:
        origin = dns.name.from_text(dns_name)
    except dns.exception.DNSException as exc:
        raise SourceError(f"--dns-name {dns_name!r} is not a domain name: {exc}") from None
    try:
        with open(path, encoding="utf-8") as handle:
            parsed = dns.zone.from_file(
                handle, origin=origin, relativize=False, check_origin=False, filename=path
            )
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not a text file ({exc.reason})") from None
    except dns.exception.DNSException as exc:
        # dnspython names the file and line: "zone.txt:6: bad IPv4 address"
        message = str(exc)
        raise SourceError(message if message.startswith(path) else f"{path}: {message}") from None
    zone = gen.add(
        ManagedZone(name=zone_name or zone_name_for(dns_name), dns_name=dns_name.lower())
    )
    assert isinstance(zone, ManagedZone)
    for name, rdataset in parsed.iterate_rdatasets():
        rtype = dns.rdatatype.to_text(rdataset.rdtype)
        fqdn = name.to_text().lower()
        if rdataset.rdclass != dns.rdataclass.IN:
            gen.note(f"{fqdn} {rtype}", "only class IN records can be declared")
            continue
        raw = {
            "name": fqdn,
            "type": rtype,
            "ttl": rdataset.ttl,
            "rrdatas": [rdata.to_text(origin=None, relativize=False) for rdata in rdataset],
        }
        gen.add(record_set(gen, zone, raw, {}))
    return gen
