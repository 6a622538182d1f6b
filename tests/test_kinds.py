"""The kind registry: kinds are named only where they are declared and served."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mldns
from mldns import kinds
from mldns.plan import Action, Plan
from mldns.planner import destructive_reasons
from mldns.render import render_text

PACKAGE = Path(mldns.__file__).parent
# The registry, the resource modules and the providers may name kinds; nothing else may.
ALLOWED = ("kinds.py", "resources/", "providers/")


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module, docstrings excepted."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_kind_string_outside_the_registry_the_resources_and_the_providers() -> None:
    names = kinds.names()
    families = {name.split(".")[0] + "." for name in names}
    # A kind's name, but not a call of the class of that name in generated source: `dns.RecordSet(`.
    named = re.compile("|".join(re.escape(name) + r"(?!\()" for name in sorted(names)))
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ALLOWED) or relative.startswith("emulator/"):
            continue
        for line, value in _strings(path):
            if value in families or named.search(value):
                offenders.append(f"{relative}:{line}: {value!r}")
    assert names >= {"dns.ManagedZone", "dns.RecordSet", "iam.ProjectIamMember"}
    assert offenders == []


def test_a_kind_is_registered_once() -> None:
    class Impostor(mldns.dns.RecordSet):
        pass

    try:
        kinds.register(Impostor)
    except ValueError as exc:
        assert "dns.RecordSet is already registered" in str(exc)
    else:
        raise AssertionError("a second class took over dns.RecordSet")
    assert kinds.lookup("dns.RecordSet") is mldns.dns.RecordSet


def test_deleting_a_project_iam_member_reads_as_a_loss_and_needs_consent() -> None:
    """The plan text and the safety check share one rule for who loses a role."""
    member = Action(
        address="iam.ProjectIamMember.roles/dns.admin/user:bob@example.com",
        kind="iam.ProjectIamMember",
        op="delete",
        project="p",
        before={"role": "roles/dns.admin", "member": "user:bob@example.com"},
    )
    reasons = destructive_reasons([member], {})
    plan = Plan("s", "p", None, 0, [member], destructive_reasons=reasons)
    assert reasons == (f"{member.address} removes user:bob@example.com",)
    assert "loses roles/dns.admin: user:bob@example.com" in render_text(plan)
