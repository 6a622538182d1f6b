"""An octoDNS configuration and its YamlProvider zone files, as mldns resources.

One file per zone (`<directory>/<zone>yaml`), `''` for the apex, `value` or `values`, and each
type's value shape (MX, SRV, CAA, TXT, ...). `dynamic` records become a Weighted policy (one rule,
weighted values) or a Geo policy (rules by continent, each answered from one Google Cloud region,
a catch-all rule from the regions of the continents left); what neither can say is noted, every
pool no region serves named with its values, and a record without a policy keeps its plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from mldns.generate.convert import build
from mldns.generate.model import Generated, SourceError, stack_name_for, zone_name_for
from mldns.resources import rdata
from mldns.resources.base import Resource
from mldns.resources.dns import Geo, ManagedZone, RecordSet, Routing, Weighted

YAML_PROVIDER = "YamlProvider"
DEFAULT_TTL = 3600
# Cloud DNS answers a geo policy from the region nearest the client; an octoDNS rule for a
# continent is answered from one region on it.
CONTINENT_REGIONS = {
    "AF": "africa-south1",
    "AS": "asia-southeast1",
    "EU": "europe-west1",
    "NA": "us-central1",
    "OC": "australia-southeast1",
    "SA": "southamerica-east1",
}


def read_octodns(config: str, zones: Iterable[str] = (), project: str | None = None) -> Generated:
    data = _yaml(Path(config))
    if not isinstance(data, dict) or not isinstance(data.get("zones"), dict):
        raise SourceError(f"{config}: not an octoDNS config (no zones: mapping)")
    declared = {str(z).lower(): v for z, v in data["zones"].items()}
    wanted = [_absolute(z) for z in zones] or sorted(declared)
    missing = [z for z in wanted if z not in declared]
    if missing:
        raise SourceError(f"{config}: the config has no zone {', '.join(missing)}")
    providers = data.get("providers") or {}
    gen = Generated(
        source=f"octoDNS config {Path(config).name}",
        stack_name=stack_name_for(Path(config).stem if len(wanted) > 1 else wanted[0]),
        project=project,
    )
    for name in wanted:
        directory, ttl = _yaml_source(config, name, declared[name] or {}, providers)
        path = directory / f"{name}yaml"
        if not path.exists() and not directory.is_absolute():
            raise SourceError(
                f"{path}: no such zone file (octoDNS reads the YamlProvider's directory "
                f"{str(directory)!r} relative to the working directory, {Path.cwd()})"
            )
        _read_zone(gen, path, name, ttl)
    return gen


def _absolute(zone: str) -> str:
    zone = zone.lower()
    return zone if zone.endswith(".") else zone + "."


def _yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not a text file ({exc.reason})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(f"{path}{where}: not valid YAML: {problem}") from None


def _yaml_source(
    config: str, zone: str, settings: dict[str, Any], providers: dict[str, Any]
) -> tuple[Path, int]:
    """The directory and default TTL of the zone's YamlProvider source."""
    for source in settings.get("sources") or []:
        provider = providers.get(source) or {}
        if str(provider.get("class", "")).endswith(YAML_PROVIDER):
            # Relative to the working directory, as octoDNS itself reads it.
            directory = Path(str(provider.get("directory", ".")))
            return directory, int(provider.get("default_ttl", DEFAULT_TTL))
    raise SourceError(f"{config}: zone {zone} has no YamlProvider source to read")


def _read_zone(gen: Generated, path: Path, name: str, default_ttl: int) -> None:
    records = _yaml(path)
    if records is None:
        records = {}
    if not isinstance(records, dict):
        raise SourceError(f"{path}: not an octoDNS zone file (top level is not a mapping)")
    zone = ManagedZone(name=zone_name_for(name), dns_name=name)
    gen.add(zone)
    for key in sorted(records, key=str):
        entries = records[key]
        for entry in entries if isinstance(entries, list) else [entries]:
            gen.add(_record(gen, zone, str(key or "@").lower(), entry, default_ttl, path))


def _record(
    gen: Generated, zone: ManagedZone, name: str, entry: Any, default_ttl: int, path: Path
) -> Resource | None:
    fqdn = zone.dns_name if name == "@" else f"{name}.{zone.dns_name}"
    if not isinstance(entry, dict) or "type" not in entry:
        raise SourceError(f"{path}: record {name!r} has no type")
    rtype = str(entry["type"]).upper()
    address = f"{RecordSet.kind}.{zone.name}/{fqdn}/{rtype}"
    if (entry.get("octodns") or {}).get("ignored"):
        return None
    if rtype not in rdata.RECORD_TYPES or rtype == "SOA":
        gen.note(address, f"type {rtype} cannot be declared")
        return None
    if rtype == "NS" and name == "@":
        return None  # Cloud DNS owns the apex NS
    ttl = int(entry.get("ttl", default_ttl))
    values = entry.get("values", entry.get("value"))
    values = values if isinstance(values, list) else [values]
    try:
        rrdatas = [_rdata(rtype, v) for v in values if v is not None]
        dynamic = entry.get("dynamic")
        routing = _dynamic(gen, address, rtype, dynamic) if isinstance(dynamic, dict) else None
    except (KeyError, TypeError, ValueError) as exc:
        gen.note(address, f"value cannot be read ({exc!r})")
        return None
    if routing is not None:
        return build(
            gen,
            address,
            lambda: RecordSet(zone=zone, name=name, type=rtype, ttl=ttl, routing=routing),
        )
    return build(
        gen, address, lambda: RecordSet(zone=zone, name=name, type=rtype, ttl=ttl, rrdatas=rrdatas)
    )


def _rdata(rtype: str, value: Any) -> str:
    """One octoDNS value as presentation-format record data."""
    if isinstance(value, dict):
        v = value
        if rtype == "MX":
            return f"{v.get('preference', v.get('priority'))} {v.get('exchange', v.get('value'))}"
        if rtype == "SRV":
            return f"{v['priority']} {v['weight']} {v['port']} {v['target']}"
        if rtype == "CAA":
            return f'{v.get("flags", 0)} {v["tag"]} "{v["value"]}"'
        if rtype == "SSHFP":
            return f"{v['algorithm']} {v['fingerprint_type']} {v['fingerprint']}"
        if rtype == "NAPTR":
            return (
                f'{v["order"]} {v["preference"]} "{v["flags"]}" "{v["service"]}" '
                f'"{v["regexp"]}" {v["replacement"]}'
            )
        if rtype == "TLSA":
            return (
                f"{v['certificate_usage']} {v['selector']} {v['matching_type']} "
                f"{v['certificate_association_data']}"
            )
        if rtype == "DS":
            return f"{v['key_tag']} {v['algorithm']} {v['digest_type']} {v['digest']}"
        raise ValueError(f"{rtype} values are not mappings")
    text = str(value)
    if rtype in ("TXT", "SPF"):
        return _txt(text)
    return text


def _txt(text: str) -> str:
    """octoDNS escapes ';' as '\\;'; Cloud DNS wants quoted strings of at most 255 characters."""
    if text.startswith('"'):
        return text  # already chunked and quoted
    text = text.replace("\\;", ";").replace('"', '\\"')
    chunks = [text[i : i + 255] for i in range(0, len(text), 255)] or [""]
    return " ".join(f'"{c}"' for c in chunks)


def _dynamic(gen: Generated, address: str, rtype: str, dynamic: dict[str, Any]) -> Routing | None:
    """A dynamic record as a policy. octoDNS answers by the first rule whose geos match (a rule
    without geos matches every client); Cloud DNS by the region nearest the client. A continent
    rule becomes an item in that continent's region (CONTINENT_REGIONS); a catch-all rule, items
    in the regions of the continents no earlier rule took. A pool that no region serves is named,
    with its values, in a note."""
    pools = {str(k): v for k, v in (dynamic.get("pools") or {}).items() if isinstance(v, dict)}
    rules = dynamic.get("rules") or []

    def pool_values(name: str) -> list[tuple[float, str]]:
        return [
            (float(v.get("weight", 1)), _rdata(rtype, v["value"]))
            for v in (pools.get(name) or {}).get("values") or []
        ]

    if any(p.get("fallback") for p in pools.values()):
        gen.note(address, "pool fallbacks have no Cloud DNS counterpart; left out")
    served: set[str] = set()
    routing: Routing | None = None
    if not any(r.get("geos") for r in rules):
        if len(rules) != 1:
            gen.note(
                address, "a dynamic record without geos needs exactly one rule; plain values kept"
            )
        elif len(pool_values(rules[0]["pool"])) < 2:
            gen.note(address, "a dynamic record of one value is its plain value")
            served.add(str(rules[0]["pool"]))  # if the plain value is the pool's
        else:
            routing = Weighted([(_number(w), [v]) for w, v in pool_values(rules[0]["pool"])])
            served.add(str(rules[0]["pool"]))
    else:
        regions = _geo_regions(gen, address, rules, pool_values)
        served.update(pool for pool, _ in regions.values())
        if regions:
            routing = Geo(sorted((region, values) for region, (_, values) in regions.items()))
    for name in pools:
        if name not in served:
            values = ", ".join(v for _, v in pool_values(name)) or "no values"
            gen.note(address, f"pool {name} ({values}) is served by no region; not expressed")
    return routing


def _geo_regions(
    gen: Generated, address: str, rules: list[dict[str, Any]], pool_values: Any
) -> dict[str, tuple[str, list[str]]]:
    """Region -> (pool, values) for the rules of a geo record, taken in octoDNS's order."""
    regions: dict[str, tuple[str, list[str]]] = {}
    for rule in rules:
        pool = str(rule["pool"])
        values = pool_values(pool)
        if len({w for w, _ in values}) > 1:
            gen.note(address, f"weights within pool {pool} cannot be kept in a geo policy")
        geos = rule.get("geos")
        if not geos:  # the catch-all: every continent no earlier rule took
            for continent_region in CONTINENT_REGIONS.values():
                regions.setdefault(continent_region, (pool, [v for _, v in values]))
            continue
        for code in geos:
            region = CONTINENT_REGIONS.get(str(code).upper())
            if region is None:
                gen.note(
                    address,
                    f"geo {code} (pool {pool}) is not a continent; Cloud DNS routes by region; "
                    "left out",
                )
            elif region in regions:
                gen.note(address, f"geo {code} repeats region {region}; left out")
            else:
                regions[region] = (pool, [v for _, v in values])
    return regions


def _number(weight: float) -> float | int:
    return int(weight) if weight.is_integer() else weight
