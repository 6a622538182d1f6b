"""Write docs/reference.md from the public classes' docstrings (`make docs`).

Each class's docstring says what it is, then `Args:` (one entry per constructor argument) and
`Example:`; the argument table adds each argument's type and default, read from the class itself,
so the reference cannot drift from the code. tests/test_reference.py checks the file is current.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any

import attrs

import mldns
from mldns import compute, dns, fleet, iam
from mldns.plan import Plan

SECTIONS: list[tuple[str, list[Any]]] = [
    ("Stacks and notebooks", [mldns.Stack, Plan]),
    (
        "Cloud DNS",
        [
            dns.ManagedZone,
            dns.RecordSet,
            dns.RecordTable,
            dns.Geo,
            dns.Weighted,
            dns.Failover,
            dns.InternalLoadBalancer,
            dns.Policy,
            dns.NameServer,
            dns.Dnssec,
            dns.KeySpec,
        ],
    ),
    (
        "Private networks",
        [
            dns.private_google_apis,
            dns.ResponsePolicy,
            dns.ResponsePolicyRule,
            dns.Record,
            dns.ZoneNetwork,
        ],
    ),
    ("Zone IAM", [dns.ManagedZoneIamBinding, dns.ManagedZoneIamMember]),
    ("Compute", [compute.HealthCheck, compute.BackendService, compute.Backend]),
    ("Fleet sources", [fleet.Instances, fleet.ManagedInstanceGroup, fleet.TpuNodes]),
    ("Project IAM", [iam.ProjectIamBinding, iam.ProjectIamMember, iam.Condition]),
]
METHODS = {
    mldns.Stack: ["add", "output", "plan", "apply", "destroy"],
    Plan: ["apply"],
    fleet.Instances: ["records", "addresses", "srv"],
}
# Arguments every resource takes, documented once (see `generate`).
COMMON = {
    "ignore_changes": 'Fields another system manages (`ignore_changes=("rrdatas",)`): the plan '
    "keeps their live values, shows them as ignored and never writes them once the resource "
    "exists; a field the kind does not have is refused."
}
OUT = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def parse(doc: str | None) -> tuple[str, dict[str, str], str]:
    """A docstring's text, its `Args:` entries and its `Example:` code."""
    text = inspect.cleandoc(doc or "")
    parts = re.split(r"^(Args|Example):\s*$", text, flags=re.M)
    intro, args, example = parts[0].strip(), {}, ""
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        body = inspect.cleandoc(body)
        if title == "Example":
            example = body.strip()
            continue
        name = None
        for line in body.splitlines():
            found = re.match(r"^(\w+): (.*)$", line)
            if found:
                name = found.group(1)
                args[name] = found.group(2).strip()
            elif name and line.strip():
                args[name] += " " + line.strip()
    return intro, args, example


def arguments(cls: Any) -> list[tuple[str, str, str]]:
    """(name, type, default) of each constructor argument."""
    if attrs.has(cls):
        out = []
        for field in attrs.fields(cls):
            if not field.init or field.name in COMMON:
                continue
            default = field.default
            if default is attrs.NOTHING:
                shown = "required"
            elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                shown = "empty"
            else:
                shown = f"`{default!r}`"
            out.append((field.name, str(field.type or ""), shown))
        return out
    if inspect.isfunction(cls):  # a function that returns resources
        return callable_arguments(cls, skip=0)
    return callable_arguments(cls.__init__)


def callable_arguments(func: Any, skip: int = 1) -> list[tuple[str, str, str]]:
    out = []
    for param in list(inspect.signature(func).parameters.values())[skip:]:
        if param.kind is param.VAR_KEYWORD:
            out.append((param.name, "keyword arguments", "none"))
            continue
        empty = param.default is inspect.Parameter.empty
        shown = "required" if empty else f"`{param.default!r}`"
        out.append((param.name, str(param.annotation).strip("'"), shown))
    return out


def table(rows: list[tuple[str, str, str]], described: dict[str, str]) -> list[str]:
    if not rows:
        return []
    out = ["| argument | type | default | meaning |", "|---|---|---|---|"]
    for name, kind, default in rows:
        meaning = described.get(name, "").replace("|", "\\|")
        kind = kind.replace("|", "\\|")
        out.append(f"| `{name}` | `{kind}` | {default} | {meaning} |")
    return out + [""]


def example(code: str) -> list[str]:
    return ["```python", code, "```", ""] if code else []


def qualified(cls: Any) -> str:
    """The name a user writes: `mldns.dns.RecordSet`, `mldns.Stack`."""
    module = cls.__module__.replace("mldns.resources.", "mldns.").replace("mldns.stack", "mldns")
    module = ".".join(module.split(".")[:2])  # a kind's package, not the module inside it
    return f"{module}.{cls.__name__}"


def document(cls: Any) -> list[str]:
    intro, described, code = parse(cls.__doc__)
    out = [f"### `{qualified(cls)}`", "", intro, ""]
    if cls is not Plan:
        out += table(arguments(cls), described)
    out += example(code)
    for name in METHODS.get(cls, []):
        method = getattr(cls, name)
        m_intro, m_args, m_code = parse(method.__doc__)
        signature = str(inspect.signature(method)).replace("'", "").replace("(self, ", "(")
        out += [f"#### `{cls.__name__}.{name}{signature}`", "", m_intro, ""]
        out += table(callable_arguments(method), m_args)
        out += example(m_code)
    return out


def generate() -> str:
    out = [
        "# Reference",
        "",
        "Generated from the docstrings by `make docs` (tools/reference.py); do not edit by hand.",
        "",
        "Every resource also takes, as a keyword:",
        "",
        *(f"- `{name}`: {meaning}" for name, meaning in COMMON.items()),
        "",
    ]
    for title, classes in SECTIONS:
        out += [f"## {title}", ""]
        for cls in classes:
            out += document(cls)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if OUT.read_text(encoding="utf-8") == generate() else 1)
    OUT.write_text(generate(), encoding="utf-8")
    print(f"wrote {OUT}")
