"""Record data in one canonical text form, via dnspython, so equal data always compares equal."""

from __future__ import annotations

import functools
import re
from typing import Any

RECORD_TYPES = frozenset(
    [
        "A",
        "AAAA",
        "CAA",
        "CNAME",
        "DNSKEY",
        "DS",
        "HTTPS",
        "IPSECKEY",
        "MX",
        "NAPTR",
        "NS",
        "PTR",
        "SOA",
        "SPF",
        "SRV",
        "SSHFP",
        "SVCB",
        "TLSA",
        "TXT",
    ]
)
# Types whose data holds only names and numbers: case-insensitive, so compared lower-cased.
CASE_INSENSITIVE = frozenset(["CNAME", "MX", "NS", "PTR", "SRV"])
ROUTABLE_TYPES = frozenset(["A", "AAAA", "CNAME", "MX", "PTR", "SRV", "TXT"])
# Types whose data is character strings: an unquoted value is one string (see `canonical`).
TEXT_TYPES = frozenset(["TXT", "SPF"])
MAX_STRING = 255  # bytes in one character string of a record


# An IPv4 address in the form dnspython prints it: four decimal octets, no leading zeros.
# (Written so that a match over 100,000 quads at once takes 13 ms rather than 34 ms.)
_OCTET = r"(?:[0-9]|[1-9][0-9]|1[0-9][0-9]|2(?:[0-4][0-9]|5[0-5]))"
CANONICAL_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


class RdataError(ValueError):
    """Record data that dnspython cannot parse for its type."""


@functools.lru_cache(maxsize=1 << 18)
def canonical(rtype: str, text: str) -> str:
    """The canonical presentation form of one rrdata (IPv6 compressed, TXT quoted, names lower).

    TXT and SPF data without a leading quote is one string (`v=spf1 include:_spf.google.com ~all`
    is one, not three), in 255-byte pieces; quoted data is read as a zone file reads it.

    Memoised: a plan canonicalises each value when it is declared, when its body is built and when
    it comes back from Google. A dotted quad already in canonical form (what dnspython returns
    for it unchanged) skips the parser.
    """
    if rtype == "A" and CANONICAL_IPV4.fullmatch(text):
        return text
    if "\n" in text or "\r" in text:  # dnspython would read up to the line break, drop the rest
        raise RdataError(
            f"{text!r} is not valid {rtype} data (it holds a line break; give each record as a string of its own)"
        )
    # Imported on first use: dnspython takes longer to import than a stack of plain A records
    # takes to check.
    import dns.exception
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    try:
        if rtype in TEXT_TYPES and not is_quoted(text):
            rdata = _one_string(rtype, text)
        else:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN,
                dns.rdatatype.from_text(rtype),
                text,
                origin=dns.name.root,
                relativize=False,
            )
    except (dns.exception.DNSException, ValueError) as exc:
        raise RdataError(f"{text!r} is not valid {rtype} data ({exc})") from None
    _refuse_bare_label(rtype, text, rdata)
    out = rdata.to_text()
    return out.lower() if rtype in CASE_INSENSITIVE else out


def _one_string(rtype: str, text: str) -> Any:
    """Unquoted TXT or SPF data as one string, as octoDNS and most people read it (a zone file
    would split it at its spaces), cut into the 255-byte pieces a record holds. Backslash
    escapes keep their zone-file meaning."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.tokenizer

    quoted = '"' + re.sub(r'(?<!\\)((?:\\\\)*)"', r'\1\\"', text) + '"'
    data = dns.tokenizer.Tokenizer(quoted).get().unescape_to_bytes().value
    pieces = [data[i : i + MAX_STRING] for i in range(0, len(data), MAX_STRING)] or [b""]
    cls = dns.rdata.get_rdata_class(dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
    return cls(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), pieces)


def pieces(rtype: str, text: str) -> int:
    """How many character strings TXT or SPF data holds on the wire."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    wire = canonical(rtype, text)
    rdtype = dns.rdatatype.from_text(rtype)
    return len(dns.rdata.from_text(dns.rdataclass.IN, rdtype, wire).strings)  # type: ignore[attr-defined]


def is_quoted(text: str) -> bool:
    """TXT or SPF data given as quoted strings (kept as a zone file reads it)."""
    return text.lstrip().startswith('"')


def _refuse_bare_label(rtype: str, text: str, rdata: Any) -> None:
    """A target without its final dot is read as fully qualified, as Cloud DNS reads it; but a
    single label such as 'ps' is a relative name that would point outside the zone."""
    for attr in ("target", "exchange"):
        name = getattr(rdata, attr, None)
        if name is not None and len(name.labels) == 2 and not text.rstrip().endswith("."):
            label = name.labels[0].decode()
            raise RdataError(
                f"{text!r} is not valid {rtype} data ({label!r} is a single label, which would "
                f"point outside the zone: write the full name, such as '{label}.example.com.')"
            )


def canonical_set(rtype: str, rrdatas: list[str] | tuple[str, ...]) -> list[str]:
    """Canonical, sorted and de-duplicated: record order carries no meaning in DNS."""
    if len(rrdatas) == 1:
        return [canonical(rtype, rrdatas[0])]
    return sorted({canonical(rtype, text) for text in rrdatas})


def size(rrdatas: list[str]) -> int:
    return sum(len(r) for r in rrdatas)
