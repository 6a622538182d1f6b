"""A BIND zone file, parsed by dnspython ($ORIGIN, $TTL, relative names, multi-line records).

The zone's domain is `--dns-name`, else the file's leading `$ORIGIN`. The apex SOA and NS are
left out: Cloud DNS creates and owns them. A record set whose name lies
outside `--dns-name` (an `$ORIGIN` elsewhere, an absolute name of another domain) is refused
rather than dropped, and an error names the line its record starts on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mldns.generate.convert import record_set
from mldns.generate.model import Generated, SourceError, stack_name_for, zone_name_for
from mldns.resources.dns import ManagedZone

SHOWN_OUTSIDE = 3  # record sets named in the refusal of a zone file outside --dns-name


def origin_of(path: str) -> str | None:
    """The domain a zone file's leading `$ORIGIN` names (before any record), or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                words = line.split(";", 1)[0].split()
                if not words:
                    continue
                directive = words[0].upper()
                if directive == "$ORIGIN" and len(words) > 1:
                    return words[1]
                if directive != "$TTL":
                    return None  # a record, or $INCLUDE, before any $ORIGIN
    except (OSError, UnicodeDecodeError):
        return None  # reading the file says why, in its own words
    return None


def read_zone_file(
    path: str, dns_name: str, zone_name: str | None = None, project: str | None = None
) -> Generated:
    import dns.exception
    import dns.name
    import dns.rdataclass

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
            text = handle.read()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not a text file ({exc.reason})") from None
    try:
        parsed, lines = _parse(text, origin, path)
    except dns.exception.DNSException as exc:
        # "zone.txt:6: bad IPv4 address", the line being the one the record starts on
        message = str(exc)
        raise SourceError(message if message.startswith(path) else f"{path}: {message}") from None
    outside = [(name, rdataset) for name, rdataset in parsed if not name.is_subdomain(origin)]
    if outside:
        shown = ", ".join(
            f"{name} (line {lines.get((name, rdataset.rdtype), '?')})"
            for name, rdataset in outside[:SHOWN_OUTSIDE]
        )
        more = ", ..." if len(outside) > SHOWN_OUTSIDE else ""
        raise SourceError(
            f"{path}: {len(outside)} of {len(parsed)} record sets lie outside --dns-name "
            f"{dns_name}: {shown}{more} (check $ORIGIN and --dns-name)"
        )
    zone = gen.add(
        ManagedZone(name=zone_name or zone_name_for(dns_name), dns_name=dns_name.lower())
    )
    assert isinstance(zone, ManagedZone)
    for name, rdataset in parsed:
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


def _parse(text: str, origin: Any, path: str) -> tuple[list[Any], dict[Any, int]]:
    """Every record set of the file, names absolute (none dropped for lying outside `origin`),
    and the line each (name, type) is first declared on."""
    import dns.name
    import dns.rdataclass
    import dns.rdataset
    import dns.tokenizer
    import dns.zonefile

    class Tokenizer(dns.tokenizer.Tokenizer):
        """Remembers the line the current record starts on, and reports errors there (dnspython
        reports the line it stopped reading on, often the next one)."""

        start = 1

        def get(self, want_leading: bool = False, want_comment: bool = False) -> Any:
            line = self.line_number
            token = super().get(want_leading, want_comment)
            if want_leading and want_comment:  # the reader asks for a line's first token
                self.start = line if token.is_eol() else self.line_number
            return token

        def where(self) -> tuple[str, int]:
            return self.filename, self.start - 1  # less the $ORIGIN line put first

    found: dict[tuple[Any, int, int], Any] = {}
    lines: dict[Any, int] = {}

    class Records:
        """What the reader adds to, in place of a zone: it keeps every name (a zone drops those
        outside its origin) and the line each (name, type) is first added on."""

        class manager:  # noqa: N801 - the attribute the reader reads
            @staticmethod
            def origin_information() -> tuple[Any, bool, Any]:
                return dns.name.root, False, dns.name.root

        def add(self, name: Any, ttl: int, rdata: Any) -> None:
            key = (name, rdata.rdclass, rdata.rdtype)
            if key not in found:
                found[key] = dns.rdataset.Rdataset(rdata.rdclass, rdata.rdtype)
                lines[(name, rdata.rdtype)] = tok.start - 1
            found[key].add(rdata, ttl)

        def check_put_rdataset(self, check: Any) -> None:
            """Cloud DNS, not the reader, judges what a name may hold."""

        def _set_origin(self, origin: Any) -> None:
            """Names are kept absolute."""

        def add_unicode(self, value: Any) -> None:
            """Names are kept as written."""

    # The $ORIGIN put first makes relative names before the file's own $ORIGIN relative to
    # --dns-name.
    tok = Tokenizer(f"$ORIGIN {origin}\n{text}", path)
    dns.zonefile.Reader(tok, dns.rdataclass.IN, Records(), allow_include=True).read()  # type: ignore[arg-type]
    return [(name, rdataset) for (name, _, _), rdataset in found.items()], lines
