"""`mldns generate`: pick the source, read it, write the stack, report what was not expressed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import click

from mldns.clients import Clients
from mldns.errors import UsageError
from mldns.generate import live
from mldns.generate.model import EXIT_NOT_EXPRESSED, Generated
from mldns.generate.output import check_target, write_target
from mldns.generate.writer import render, ruff_executable
from mldns.target import emulator_from_env, resolve_project
from mldns.words import count
from mldns.workspace import local_emulator

FILE_SOURCES = ("from_zone_file", "from_octodns", "from_terraform_state")


def run_generate(
    out: str | None, force: bool, opts: dict[str, Any], log: Callable[[str], None]
) -> int:
    """Generate, write to `out` (or stdout) and return the exit code: 0, or 3 when something
    could not be expressed."""
    sources = [s for s in FILE_SOURCES if opts.get(s)]
    if len(sources) > 1:
        raise UsageError("give one source: " + " or ".join(_flag(s) for s in sources))
    if (opts.get("dns_name") or opts.get("zone_name")) and sources != ["from_zone_file"]:
        raise UsageError("--dns-name and --zone-name go with --from-zone-file")
    if opts.get("zones") and sources and sources != ["from_octodns"]:
        raise UsageError("--zone picks zones of a live project or an octoDNS config")
    if opts.get("iam_bindings") and sources:
        raise UsageError("--iam-bindings goes with a live project")
    if out is not None:
        check_target(out, force)
    gen = _read(sources[0] if sources else None, opts)
    if opts.get("stack_name"):
        gen.stack_name = opts["stack_name"]
    text = render(gen)
    if ruff_executable() is None:
        log("warning: ruff is not installed, so the stack is not formatted")
    if out is None:
        click.echo(text, nl=False)
    else:
        write_target(out, text)
        log(f"Wrote {out}: {count(len(gen.resources), 'resource')} from {gen.source}.")
    for note in gen.notes:
        log(f"not expressed: {note}")
    return EXIT_NOT_EXPRESSED if gen.notes else 0


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def _read(source: str | None, opts: dict[str, Any]) -> Generated:
    if source == "from_zone_file":
        from mldns.generate.zonefile import origin_of, read_zone_file

        dns_name = opts.get("dns_name") or origin_of(opts["from_zone_file"])
        if not dns_name:
            raise UsageError(
                "--from-zone-file needs --dns-name (the zone's domain): the file does not start "
                "with an $ORIGIN"
            )
        return read_zone_file(
            opts["from_zone_file"], dns_name, opts.get("zone_name"), opts.get("project")
        )
    if source == "from_octodns":
        from mldns.generate.octodns import read_octodns

        return read_octodns(opts["from_octodns"], opts.get("zones") or (), opts.get("project"))
    if source == "from_terraform_state":
        from mldns.generate.terraform import read_terraform_state

        return read_terraform_state(opts["from_terraform_state"], opts.get("project"))
    return _read_live(opts)


def _read_live(opts: dict[str, Any]) -> Generated:
    if opts["local"] and opts["emulator"]:
        raise UsageError("--local and --emulator contradict each other: choose one")
    # Asked for some zones, a user asked for those zones: not the project's IAM and compute too.
    only = opts["only"] or ("dns" if opts["zones"] else ",".join(live.PARTS))
    parts = [p.strip() for p in only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(live.PARTS))
    if unknown or not parts:
        raise UsageError(f"--only takes {', '.join(live.PARTS)}; got {only!r}")
    with contextlib.ExitStack() as stack:
        emulator = opts["emulator"]
        if opts["local"]:
            emulator = stack.enter_context(local_emulator(opts["state_dir"] or "state"))
        project = resolve_project(opts["project"], None, bool(opts["local"] or emulator))
        clients = Clients(
            project,
            emulator_from_env(emulator),
            timeout=opts["timeout"],
            parallelism=opts["parallelism"],
        )
        return live.read_project(
            clients, project, opts["zones"], parts, iam_bindings=opts["iam_bindings"]
        )
