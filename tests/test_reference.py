"""The reference documentation: every public class documents each argument and gives an example;
docs/reference.md is what `make docs` writes from them; every CLI verb's help ends with examples."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click
import pytest

from mldns.cli import cli

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("reference", ROOT / "tools" / "reference.py")
assert spec and spec.loader
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)
CLASSES = [cls for _, classes in reference.SECTIONS for cls in classes]


def test_docs_reference_is_current() -> None:
    written = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert written == reference.generate(), "docs/reference.md is stale: run `make docs`"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_public_class_documents_its_arguments_and_an_example(cls: type) -> None:
    intro, described, example = reference.parse(cls.__doc__)
    assert intro and example, f"{cls.__name__}: needs a summary and an Example: section"
    if cls is not reference.Plan:
        missing = [name for name, _, _ in reference.arguments(cls) if name not in described]
        assert missing == [], f"{cls.__name__}: Args: lacks {missing}"
    for name in reference.METHODS.get(cls, []):
        method = getattr(cls, name)
        _, args, code = reference.parse(method.__doc__)
        assert code, f"{cls.__name__}.{name}: needs an Example: section"
        params = [p for p, _, _ in reference.callable_arguments(method)]
        assert [p for p in params if p not in args] == [], f"{cls.__name__}.{name}: Args:"


def _verbs(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # `mldns` imports a verb's module when it is looked up
        command = group.get_command(ctx, name)
        assert command is not None, f"mldns {prefix}{name} is listed but cannot be loaded"
        out.append((prefix + name, command))
        if isinstance(command, click.Group):
            out += _verbs(command, prefix + name + " ")
    return out


@pytest.mark.parametrize("name,command", _verbs(cli), ids=[n for n, _ in _verbs(cli)])
def test_every_verb_help_ends_with_an_example(name: str, command: click.Command) -> None:
    lines = (command.help or "").strip().splitlines()
    heading = next(
        (i for i, line in enumerate(lines) if line.strip() in ("Example:", "Examples:")), None
    )
    assert heading is not None, f"mldns {name} --help has no Examples: section"
    examples = [line.strip() for line in lines[heading + 1 :] if line.strip()]
    assert examples and all(line.startswith("mldns ") for line in examples), examples
