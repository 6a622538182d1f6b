"""How Cloud DNS answers a query for a routed record set: one implementation, as data in and out.

`mldns resolve` and the emulator's DNS server both answer through `resolve()`. It reads record sets
in Cloud DNS's JSON shape (the bodies of `resourceRecordSets`: `name`, `type`, `ttl`, `rrdatas` or
`routingPolicy`), as the engine's canonical bodies and as the emulator stores them, raw. It imports
only the standard library and `mldns.regions` (a data module), so the emulator, which imports
nothing of the engine, may use it too.

A resolution is exact: the answers a client in one region can get, each with its share of the
queries (1 for geo, weight / sum for wrr, 1 - trickle and trickle for primaryBackup), and why.
`pick()` draws one answer by share, as a server does per query.

Where Google's documentation is silent, these are the choices (docs/routing.md restates them):
- Distance: great-circle distance between the regions' locations (`mldns.regions.distance_km`);
  equal distances are broken by location name. A location that is not a known region sorts
  after every known one.
- A client of no known region (the emulator saw an address it has no mapping for) takes geo items
  in location-name order: map `0.0.0.0/0` to a region to give such clients one.
- wrr: an item of weight 0 is never chosen while a healthy item has weight; when every healthy
  item weighs 0 they share the answers equally.
- Fencing keeps only the nearest item in place; fail open answers the nearest item whole (geo), or
  every item by weight (wrr).
- primaryBackup with every primary down answers from the backup items by the geo rules, which
  fail open among the backups.
- An item's plain `rrdatas` are never unhealthy: an item holding them always answers, with them
  and whichever of its health-checked targets are up (an item with both is unhealthy only in
  the sense that its checked targets are left out). A health-checked target's health is looked
  up by its IP address (internal load balancers by `ipAddress`).
- CNAME chains are followed within the zone up to 8 links; a wildcard `*.<closest encloser>`
  answers names that do not exist (RFC 4592).
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mldns import regions as _regions

MAX_CHAIN = 8
Health = Callable[[str], bool]


def always_up(_ip: str) -> bool:
    return True


def down_set(down: Iterable[str]) -> Health:
    """A health lookup in which the given addresses are down and every other one is up."""
    gone = frozenset(down)
    return lambda ip: ip not in gone


def endpoint_up(seen_up: Mapping[str, bool]) -> bool:
    """An external endpoint's health from what each of its health check's three source regions
    sees: Google calls it unhealthy when at least two of them see it fail."""
    return sum(1 for up in seen_up.values() if not up) < 2


@dataclass(frozen=True)
class RRset:
    """One record set of an answer, with the data chosen for this query."""

    name: str
    type: str
    ttl: int
    rrdatas: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """One answer a client can get, the share of queries that get it, and why."""

    records: tuple[RRset, ...]
    share: float
    why: tuple[str, ...]
    # A CNAME chain cut at MAX_CHAIN links (a loop, as a rule): a resolver gives the client no
    # address but SERVFAIL, whatever the links hold.
    cut: bool = False

    @property
    def data(self) -> tuple[str, ...]:
        """The final record data (after any CNAME links); empty for NODATA and NXDOMAIN."""
        return self.records[-1].rrdatas if self.records else ()

    def chain(self) -> str:
        """The CNAME links as `a -> b -> a`: each name once, then where the last one points."""
        names: list[str] = []
        for record in self.records:
            if record.name in names:
                break
            names.append(record.name)
        last = self.records[-1].rrdatas if self.records else ()
        return " -> ".join([*names, *last[:1]])

    @property
    def shown(self) -> tuple[str, ...]:
        """What a reader is shown as the answer: the data, or SERVFAIL for a cut chain."""
        return ("SERVFAIL (the CNAME chain is too long)",) if self.cut else self.data

    def to_dict(self) -> dict[str, Any]:
        out = {
            "share": self.share,
            "records": [
                {"name": r.name, "type": r.type, "ttl": r.ttl, "rrdatas": list(r.rrdatas)}
                for r in self.records
            ],
            "why": list(self.why),
        }
        if self.cut:
            out["servfail"] = True
        return out


@dataclass(frozen=True)
class Resolution:
    """What a zone answers `name`/`type` to a client in `region`: NOERROR, NODATA or NXDOMAIN."""

    name: str
    type: str
    region: str | None
    zone: str
    status: str  # "NOERROR" (answers or NODATA) or "NXDOMAIN"
    outcomes: tuple[Outcome, ...]

    @property
    def nodata(self) -> bool:
        return self.status == "NOERROR" and not any(o.records for o in self.outcomes)

    @property
    def shown_status(self) -> str:
        """NODATA for an answer without records, SERVFAIL when every chain was cut."""
        if self.nodata:
            return "NODATA"
        if self.outcomes and all(o.cut for o in self.outcomes):
            return "SERVFAIL"
        return self.status

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "from": self.region,
            "zone": self.zone,
            "status": self.shown_status,
            "answers": [o.to_dict() for o in self.outcomes],
        }

    def __str__(self) -> str:
        head = f"{self.name} {self.type} from {self.region or 'an unknown region'}:"
        lines = [head]
        for o in self.outcomes:  # one rrdata a line, the share beside the first
            data = list(o.shown) or [self.status if self.status != "NOERROR" else "NODATA"]
            share = "" if o.share == 1 else f"  ({o.share:.0%} of queries)"
            lines.append(f"  {data[0]}{share}")
            lines.extend(f"  {datum}" for datum in data[1:])
            lines.extend(f"      {reason}" for reason in o.why)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr><td>{}</td><td>{:.1%}</td><td>{}</td></tr>".format(
                html.escape(" ".join(o.shown) or self.to_dict()["status"]),
                o.share,
                "<br>".join(html.escape(w) for w in o.why),
            )
            for o in self.outcomes
        )
        return (
            f"<p><b>{html.escape(self.name)} {html.escape(self.type)}</b> from "
            f"{html.escape(self.region or 'an unknown region')}</p>"
            "<table><tr><th>answer</th><th>share</th><th>why</th></tr>"
            f"{rows}</table>"
        )


def pick(resolution: Resolution, rng: random.Random) -> Outcome:
    """One outcome, drawn by share: what one query gets."""
    outcomes = resolution.outcomes
    if len(outcomes) == 1:
        return outcomes[0]
    return rng.choices(outcomes, weights=[o.share for o in outcomes])[0]


def sample(resolution: Resolution, n: int, rng: random.Random) -> dict[tuple[str, ...], float]:
    """The share of each answer (final record data) over `n` drawn queries."""
    counts: dict[tuple[str, ...], int] = {}
    for _ in range(n):
        data = pick(resolution, rng).data
        counts[data] = counts.get(data, 0) + 1
    return {data: count / n for data, count in sorted(counts.items())}


# --- zones -------------------------------------------------------------------------------------


class Zone:
    """A zone's record sets by (lower-case name, type), read through; names indexed once."""

    def __init__(
        self, dns_name: str, rrsets: Mapping[tuple[str, str], Mapping[str, Any]], name: str = ""
    ) -> None:
        self.dns_name = dns_name.lower()
        self.name = name or self.dns_name
        self.rrsets = rrsets
        self._types: dict[str, set[str]] | None = None
        self._enclosers: set[str] | None = None

    @classmethod
    def of(cls, dns_name: str, records: Iterable[Mapping[str, Any]], name: str = "") -> Zone:
        """A zone from a list of record set bodies."""
        return cls(dns_name, {(r["name"].lower(), r["type"]): r for r in records}, name)

    def types_at(self, name: str) -> set[str]:
        if self._types is None:
            types: dict[str, set[str]] = {}
            for owner, rtype in self.rrsets:
                types.setdefault(owner, set()).add(rtype)
            self._types = types
        return self._types.get(name, set())

    def exists(self, name: str) -> bool:
        """The name owns a record set or is an empty non-terminal (an ancestor of one)."""
        if name == self.dns_name or self.types_at(name):
            return True
        if self._enclosers is None:
            enclosers: set[str] = set()
            for owner, _ in self.rrsets:
                while owner != self.dns_name and "." in owner[:-1]:
                    owner = owner.split(".", 1)[1]
                    enclosers.add(owner)
            self._enclosers = enclosers
        return name in self._enclosers

    def contains(self, name: str) -> bool:
        return name == self.dns_name or name.endswith("." + self.dns_name)

    def wildcard(self, name: str) -> str | None:
        """The wildcard owner that answers a name that does not exist, if any (RFC 4592)."""
        encloser = name
        while encloser != self.dns_name:
            encloser = encloser.split(".", 1)[1]
            if self.exists(encloser):
                source = "*." + encloser
                return source if self.types_at(source) else None
        return None


def zone_of(zones: Iterable[Zone], name: str) -> Zone | None:
    """The zone with the longest name that contains `name`."""
    best = None
    for zone in zones:
        if zone.contains(name) and (best is None or len(zone.dns_name) > len(best.dns_name)):
            best = zone
    return best


# --- resolving a name --------------------------------------------------------------------------


def resolve(
    zone: Zone,
    name: str,
    rtype: str,
    region: str | None,
    health: Health = always_up,
) -> Resolution:
    """What `zone` answers for `name`/`rtype` to a client in `region`, given target `health`."""
    name = name.lower() if name.endswith(".") else name.lower() + "."
    rtype = rtype.upper()
    status, outcomes = _lookup(zone, name, rtype, region, health, depth=0)
    return Resolution(name, rtype, region, zone.name, status, tuple(outcomes))


def _lookup(
    zone: Zone, name: str, rtype: str, region: str | None, health: Health, depth: int
) -> tuple[str, list[Outcome]]:
    owner = name
    why: tuple[str, ...] = ()
    if not zone.exists(name):
        source = zone.wildcard(name)
        if source is None:
            return "NXDOMAIN", [Outcome((), 1.0, why + (f"{name} does not exist",))]
        owner, why = source, (f"{name} does not exist; the wildcard {source} answers",)
    body = zone.rrsets.get((owner, rtype))
    if body is not None:
        return "NOERROR", [
            Outcome((RRset(name, rtype, _ttl(body), data),), share, why + reasons)
            for data, share, reasons in answers(body, region, health)
        ]
    cname = zone.rrsets.get((owner, "CNAME")) if rtype != "CNAME" else None
    if cname is None:
        held = ", ".join(sorted(zone.types_at(owner))) or "no record set (an empty non-terminal)"
        return "NOERROR", [Outcome((), 1.0, why + (f"{name} holds {held}; no {rtype}",))]
    results = []
    status = "NOERROR"
    for data, share, reasons in answers(cname, region, health):
        link = RRset(name, "CNAME", _ttl(cname), data)
        target = data[0].lower() if data else ""
        if not target.endswith("."):
            target = f"{target}.{zone.dns_name}"
        if depth + 1 >= MAX_CHAIN or not zone.contains(target):
            cut = zone.contains(target)  # the limit reached inside the zone, not left it
            stop = "the chain is too long" if cut else "outside the zone"
            results.append(
                Outcome((link,), share, why + reasons + (f"{target} is {stop}",), cut=cut)
            )
            continue
        status, tail = _lookup(zone, target, rtype, region, health, depth + 1)
        for o in tail:
            step = why + reasons + (f"{name} is an alias of {target}",)
            results.append(Outcome((link, *o.records), share * o.share, step + o.why, o.cut))
    return status, results


def _ttl(body: Mapping[str, Any]) -> int:
    return int(body.get("ttl", 300))


# --- routing policies --------------------------------------------------------------------------

Answer = tuple[tuple[str, ...], float, tuple[str, ...]]


def answers(body: Mapping[str, Any], region: str | None, health: Health) -> list[Answer]:
    """The answers of one record set: (record data, share, reasons), shares summing to 1."""
    policy = body.get("routingPolicy")
    if not policy:
        return [(tuple(body.get("rrdatas") or ()), 1.0, ())]
    if "geo" in policy:
        return [_geo(policy["geo"], region, health)]
    if "wrr" in policy:
        return _wrr(policy["wrr"].get("items") or [], health)
    if "primaryBackup" in policy:
        return _primary_backup(policy["primaryBackup"], region, health)
    return [((), 1.0, ("the routing policy holds no geo, wrr or primaryBackup",))]


def _targets(item: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """An item's plain record data and its health-checked addresses (internal load balancers
    by `ipAddress`, then external endpoints)."""
    checked = item.get("healthCheckedTargets") or {}
    ips = [str(t.get("ipAddress")) for t in checked.get("internalLoadBalancers") or ()]
    ips.extend(checked.get("externalEndpoints") or ())
    return tuple(item.get("rrdatas") or ()), tuple(ips)


def _all(item: Mapping[str, Any]) -> tuple[str, ...]:
    """Everything an item can answer, healthy or not."""
    plain, checked = _targets(item)
    return plain + checked


def _healthy(item: Mapping[str, Any], health: Health) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The item's data that may answer (its plain data and its healthy targets), and its
    targets that are down."""
    plain, checked = _targets(item)
    down = tuple(ip for ip in checked if not health(ip))
    return plain + tuple(ip for ip in checked if ip not in down), down


def _down_text(down: tuple[str, ...]) -> str:
    return f"target{'s' if len(down) > 1 else ''} {', '.join(down)} {'are' if len(down) > 1 else 'is'} down"


def nearest(region: str | None, locations: Iterable[str]) -> list[tuple[str, float | None]]:
    """Locations nearest first, with their distance in km (None when it cannot be measured)."""
    known = _regions.regions()

    def distance(location: str) -> float | None:
        if region is None or location not in known or region not in known:
            return 0.0 if location == region else None
        return _regions.distance_km(region, location)

    ranked = [(loc, distance(loc)) for loc in locations]
    return sorted(ranked, key=lambda p: (p[1] is None, p[1] or 0.0, p[0]))


def _geo(geo: Mapping[str, Any], region: str | None, health: Health) -> Answer:
    items = {str(i.get("location")): i for i in geo.get("items") or ()}
    order = nearest(region, items)
    why: list[str] = []
    first, km = order[0]
    if region is None:
        why.append(f"the client's region is unknown; items taken in location order: {first} first")
    elif first != region:
        far = f", {km:.0f} km" if km is not None else ""
        why.append(f"{region} has no item; nearest is {first}{far}")
    for i, (location, _) in enumerate(order):
        data, down = _healthy(items[location], health)
        if data:
            if down:
                why.append(f"{_down_text(down)}, left out of {location}'s answer")
            if i:
                why[-1] += f", so {location} answers"
            return data, 1.0, tuple(why)
        if i == 0 and geo.get("enableFencing"):
            why.append(
                f"{_down_text(down)}; fencing keeps {location}, which answers all its targets"
            )
            return _all(items[location]), 1.0, tuple(why)
        why.append(_down_text(down) + ("" if i + 1 == len(order) else f" in {location}"))
    all_data = _all(items[first])
    why.append(f"every item is down: fail open, {first} answers as if all were healthy")
    return all_data, 1.0, tuple(why)


def _wrr(items: list[Mapping[str, Any]], health: Health) -> list[Answer]:
    live = [(float(i.get("weight", 0)), *_healthy(i, health), i) for i in items]
    up = [(w, data, down) for w, data, down, _ in live if data]
    why: tuple[str, ...] = ()
    if not up:
        why = ("every item is down: fail open, all items by weight",)
        up = [(w, _all(i), ()) for w, _, _, i in live]
    elif len(up) < len(live):
        gone = sorted({ip for _, _, down, _ in live if down for ip in down})
        why = (f"{_down_text(tuple(gone))}; the remaining weights are renormalised",)
    total = sum(w for w, _, _ in up)
    shares = [(w / total if total else 1 / len(up)) for w, _, _ in up]
    if not total:
        why += ("every healthy item weighs 0: they share equally",)
    return [
        (data, share, why + ((f"{_down_text(down)}, left out",) if down else ()))
        for (w, data, down), share in zip(up, shares, strict=True)
        if share > 0
    ]


def _primary_backup(pb: Mapping[str, Any], region: str | None, health: Health) -> list[Answer]:
    data, down = _healthy({"healthCheckedTargets": pb.get("primaryTargets") or {}}, health)
    backup = pb.get("backupGeoTargets") or {}
    if not data:
        b_data, _, b_why = _geo(backup, region, health)
        return [
            (b_data, 1.0, (f"every primary is down ({_down_text(down)}): backups answer",) + b_why)
        ]
    trickle = float(pb.get("trickleTraffic") or 0)
    primary_why = (f"{_down_text(down)}, left out of the primaries",) if down else ()
    results: list[Answer] = []
    if trickle < 1:
        results.append((data, 1 - trickle, ("the primaries are healthy",) + primary_why))
    if trickle > 0:
        b_data, _, b_why = _geo(backup, region, health)
        results.append(
            (b_data, trickle, (f"trickleTraffic sends {trickle:g} to the backups",) + b_why)
        )
    return results


__all__ = [
    "Outcome",
    "RRset",
    "Resolution",
    "Zone",
    "always_up",
    "answers",
    "down_set",
    "endpoint_up",
    "nearest",
    "pick",
    "resolve",
    "sample",
    "zone_of",
]
