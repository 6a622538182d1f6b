"""The stack file a person would write, from a list of resources.

One variable per zone and per health check, so references read as Python references; record sets
grouped by name in DNS order; a zone's many plain record sets of one type and TTL as one
dns.RecordTable; only values that differ from the defaults; formatted by ruff. The same resources
always give the same bytes.
"""

from __future__ import annotations

import functools
import keyword
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from mldns.generate.model import Generated
from mldns.resources.base import Resource
from mldns.resources.compute import Backend, BackendService, HealthCheck
from mldns.resources.dns import (
    Answers,
    Dnssec,
    Failover,
    Geo,
    InternalLoadBalancer,
    KeySpec,
    ManagedZone,
    ManagedZoneIamBinding,
    ManagedZoneIamMember,
    NameServer,
    Policy,
    Record,
    RecordSet,
    RecordTable,
    ResponsePolicy,
    ResponsePolicyRule,
    Weighted,
)
from mldns.resources.dns.response_policies import rule_name_for
from mldns.resources.iam import Condition, ProjectIamBinding, ProjectIamMember

# A zone's plain record sets of one type and TTL become a table when there are more than this.
TABLE_THRESHOLD = 20
LINE_LENGTH = 100
_DIGITS = re.compile(r"(\d+)")
RESERVED = frozenset({"mldns", "dns", "compute", "iam", "stack"})
MODULES = {
    ManagedZone: "dns",
    RecordSet: "dns",
    RecordTable: "dns",
    Geo: "dns",
    Weighted: "dns",
    Failover: "dns",
    InternalLoadBalancer: "dns",
    Answers: "dns",
    NameServer: "dns",
    Policy: "dns",
    Dnssec: "dns",
    KeySpec: "dns",
    ResponsePolicy: "dns",
    ResponsePolicyRule: "dns",
    Record: "dns",
    ManagedZoneIamBinding: "dns",
    ManagedZoneIamMember: "dns",
    HealthCheck: "compute",
    BackendService: "compute",
    Backend: "compute",
    ProjectIamBinding: "iam",
    ProjectIamMember: "iam",
    Condition: "iam",
}
# Fields written as the first positional argument rather than by keyword.
POSITIONAL = {Geo: "items", Weighted: "items"}
# Fields left out when they hold what the class derives by itself.
DERIVED = {(ResponsePolicyRule, "name"): lambda rule: rule_name_for(rule.dns_name)}
# Fields holding (region, targets) pairs, written as a dict as a person writes them.
REGION_PAIRS = {(Geo, "items"), (Failover, "backup")}


class FormatError(Exception):
    """ruff refused the generated code: a bug in the writer, never the user's input."""


def render(gen: Generated) -> str:
    """The stack file's text, formatted with ruff when ruff is installed."""
    code = _Writer(gen).code()
    return ruff_format(code) or code


def ruff_executable() -> str | None:
    found = shutil.which("ruff")
    if found:
        return found
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.exists() else None


def ruff_format(code: str) -> str | None:
    """`code` as `ruff format` writes it (line length 100, no project configuration), or None
    when ruff is not installed."""
    ruff = ruff_executable()
    if ruff is None:
        return None
    proc = subprocess.run(
        [ruff, "format", "--isolated", "--line-length", str(LINE_LENGTH), "-"],
        input=code,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise FormatError(f"ruff could not format the generated stack: {proc.stderr.strip()}")
    return proc.stdout


def dns_order(fqdn: str) -> tuple[tuple[Any, ...], ...]:
    """Names sorted as DNS sorts them, label by label from the root, so a name's children follow
    it; numbers within a label in numeric order (worker-2 before worker-10)."""
    return tuple(map(_natural, reversed(fqdn.rstrip(".").split("."))))


@functools.lru_cache(maxsize=1 << 16)
def _natural(label: str) -> tuple[Any, ...]:
    """A label's sort key: its text, numbers compared as numbers (cached: a zone's names share
    most of their labels)."""
    return tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(label)))


class _Writer:
    def __init__(self, gen: Generated) -> None:
        self.gen = gen
        self.names: dict[int, str] = {}  # variable of a resource, by id
        self.taken: set[str] = set(RESERVED)
        self.modules: set[str] = set()

    # --- the file --------------------------------------------------------------------------------

    def code(self) -> str:
        gen = self.gen
        by_kind: dict[type, list[Any]] = {}
        for resource in gen.resources:
            by_kind.setdefault(type(resource), []).append(resource)
        checks = sorted(by_kind.get(HealthCheck, []), key=_name)
        services = sorted(by_kind.get(BackendService, []), key=_name)
        zones = sorted(by_kind.get(ManagedZone, []), key=_name)
        records: dict[int, list[RecordSet]] = {}
        for rs in by_kind.get(RecordSet, []):
            records.setdefault(id(rs.zone), []).append(rs)
        tables: dict[int, list[RecordTable]] = {}
        for table in by_kind.get(RecordTable, []):
            tables.setdefault(id(table.zone), []).append(table)
        iam = sorted(
            by_kind.get(ProjectIamBinding, []) + by_kind.get(ProjectIamMember, []),
            key=lambda r: r.address,
        )

        blocks: list[list[str]] = []
        compute = [
            self._declare(hc, self._var(hc, _suffixed(hc.name, "hc", "check"))) for hc in checks
        ]
        compute += [self._declare(bs) for bs in services]
        if compute:
            blocks.append(["# Health checks and backend services", *compute])
        policies = sorted(by_kind.get(Policy, []), key=_name)
        if policies:
            blocks.append(["# Server policies", *(self._declare(p) for p in policies)])
        rules: dict[int, list[ResponsePolicyRule]] = {}
        for rule in by_kind.get(ResponsePolicyRule, []):
            rules.setdefault(id(rule.policy), []).append(rule)
        for rp in sorted(by_kind.get(ResponsePolicy, []), key=_name):
            var = self._var(rp, _suffixed(rp.name, "policy", "rp"))
            block = [f"# Response policy {rp.name}", self._declare(rp, var)]
            block += [self._declare(r) for r in sorted(rules.get(id(rp), []), key=_name)]
            blocks.append(block)
        grants: dict[int, list[Any]] = {}
        for grant in by_kind.get(ManagedZoneIamBinding, []) + by_kind.get(ManagedZoneIamMember, []):
            grants.setdefault(id(grant.zone), []).append(grant)
        for zone in zones:
            blocks.extend(self._zone(zone, records.get(id(zone), []), tables.get(id(zone), [])))
            if grants.get(id(zone)):
                ordered = sorted(grants[id(zone)], key=lambda g: g.address)
                blocks.append([self._declare(g) for g in ordered])
        if iam:
            blocks.append(["# Project IAM", *(self._declare(r) for r in iam)])

        head = [f'"""{_header(gen)}"""', "", "import mldns"]
        if self.modules:
            head.append(f"from mldns import {', '.join(sorted(self.modules))}")
        if gen.notes:
            head += ["", "# Not expressed in this file (mldns cannot declare these):"]
            head += [f"# - {_comment(note)}" for note in gen.notes]
        project = f", project={gen.project!r}" if gen.project else ""
        head += ["", f"stack = mldns.Stack({gen.stack_name!r}{project})"]
        return "\n\n".join("\n".join(block) for block in [head, *blocks]) + "\n"

    def _zone(
        self, zone: ManagedZone, records: list[RecordSet], declared_tables: list[RecordTable]
    ) -> list[list[str]]:
        zone_var = self._var(zone, _suffixed(zone.name, "zone"))
        blocks = [[f"# Zone {zone.name} ({zone.dns_name})", self._declare(zone, zone_var)]]
        groups: dict[tuple[str, int], list[RecordSet]] = {}
        for rs in records:
            if rs.rrdatas is not None and not rs.protect:
                groups.setdefault((rs.type, rs.ttl), []).append(rs)
        big = {key: g for key, g in groups.items() if len(g) > TABLE_THRESHOLD}
        in_tables = {id(rs) for g in big.values() for rs in g}
        types = [t for t, _ in big]
        for (rtype, ttl), group in sorted(big.items()):
            name = f"{rtype.lower()}-records"
            if types.count(rtype) > 1:
                name += f"-ttl{ttl}"
            rows = {zone.relative(rs.fqdn): _data(rs.rrdatas or ()) for rs in _sorted(group)}
            blocks.append(self._table(zone, zone_var, name, rtype, ttl, rows))
        for table in sorted(declared_tables, key=_name):
            rows = {zone.relative(fqdn): _data(data) for fqdn, data in table.rows.items()}
            blocks.append(self._table(zone, zone_var, table.name, table.type, table.ttl, rows))
        current: list[str] = []
        last = None
        for rs in _sorted(r for r in records if id(r) not in in_tables):
            if rs.fqdn != last and current:
                blocks.append(current)
                current = []
            last = rs.fqdn
            current.append(self._declare(rs))
        if current:
            blocks.append(current)
        return blocks

    def _table(
        self, zone: ManagedZone, zone_var: str, name: str, rtype: str, ttl: int, rows: dict
    ) -> list[str]:
        self.modules.add("dns")
        var = self._unique(f"{_snake(zone.name)}_{_snake(name)}")
        args = [f"zone={zone_var}", f"name={name!r}", f"type={rtype!r}"]
        if ttl != 300:
            args.append(f"ttl={ttl}")
        args.append(f"records={var}")
        return [
            f"{var} = {self._value(rows)}",
            f"stack.add({RecordTable.kind}({', '.join(args)}))",
        ]

    # --- statements and values -------------------------------------------------------------------

    def _declare(self, resource: Resource, var: str | None = None) -> str:
        call = f"stack.add({self._call(resource)})"
        return f"{var} = {call}" if var else call

    def _var(self, resource: Resource, wanted: str) -> str:
        var = self._unique(wanted)
        self.names[id(resource)] = var
        return var

    def _unique(self, wanted: str) -> str:
        var, n = wanted, 2
        while var in self.taken:
            var, n = f"{wanted}_{n}", n + 1
        self.taken.add(var)
        return var

    def _call(self, obj: Any) -> str:
        cls = type(obj)
        module = MODULES[cls]
        self.modules.add(module)
        positional = POSITIONAL.get(cls)
        args: list[str] = []
        for field in attrs.fields(cls):
            if not field.init:
                continue
            value = getattr(obj, field.name)
            if (cls, field.name) in REGION_PAIRS:
                value = {region: _item(targets) for region, targets in value}
            elif cls is Weighted and field.name == "items":
                value = [(weight, _item(targets)) for weight, targets in value]
            derive = DERIVED.get((cls, field.name))
            if derive is not None and derive(obj) == value:
                continue
            if field.name == positional:
                args.append(self._value(value))
            elif not _is_default(field, value):
                args.append(f"{field.name}={self._value(value)}")
        return f"{module}.{cls.__name__}({', '.join(args)})"

    def _value(self, value: Any) -> str:
        if isinstance(value, Resource):
            return self.names[id(value)]
        if isinstance(value, NameServer) and not value.private:
            return repr(value.ip)  # as a person writes it: the address alone
        if isinstance(value, Dnssec) and value == Dnssec():
            return "True"  # Google's defaults, as a person writes them
        if type(value) in MODULES:
            return self._call(value)
        if isinstance(value, dict):
            return (
                "{"
                + ", ".join(f"{self._value(k)}: {self._value(v)}" for k, v in value.items())
                + "}"
            )
        if isinstance(value, list):
            return "[" + ", ".join(self._value(v) for v in value) + "]"
        if isinstance(value, tuple):
            if (
                len(value) == 2
                and isinstance(value[0], (int, float))
                and isinstance(value[1], (list, Answers))
            ):
                return f"({self._value(value[0])}, {self._value(value[1])})"
            return "[" + ", ".join(self._value(v) for v in value) + "]"
        return repr(value)


def _item(targets: Any) -> Any:
    """A routing item as a person writes it: a list, or dns.Answers."""
    return targets if isinstance(targets, Answers) else list(targets)


def _is_default(field: attrs.Attribute, value: Any) -> bool:
    default = field.default  # (no resource field has a factory default)
    if value == default:
        return True
    return default is None and value in ({}, ())


def _data(values: Iterable[str]) -> str | list[str]:
    values = list(values)
    return values[0] if len(values) == 1 else values


def _sorted(records: Iterable[RecordSet]) -> list[RecordSet]:
    return sorted(records, key=lambda rs: (dns_order(rs.fqdn), rs.fqdn, rs.type))


def _name(resource: Any) -> str:
    return resource.name


def _snake(text: str) -> str:
    var = re.sub(r"\W+", "_", text).strip("_").lower() or "resource"
    if var[0].isdigit():
        var = "r_" + var
    return var + "_" if keyword.iskeyword(var) else var


def _suffixed(name: str, suffix: str, *also: str) -> str:
    """A variable name that says what it holds: ml-zone -> ml_zone, prod -> prod_zone."""
    var = _snake(name)
    return var if var.endswith((suffix, *also)) else f"{var}_{suffix}"


def _comment(text: str) -> str:
    return " ".join(text.split())


def _header(gen: Generated) -> str:
    return (
        f"Generated by `mldns generate` from {_comment(gen.source)}.\n\n"
        "Review it, then `mldns plan` it: every resource found as declared is recorded without a\n"
        "write.\n"
    ).replace('"""', "'''")
