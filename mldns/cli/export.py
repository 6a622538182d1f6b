"""`mldns export`: the managed zones as BIND zone files or octoDNS YAML, to leave mldns."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from mldns import export as formats
from mldns.cli.options import engine_options, local_cloud, only_stack, state_store, workspace
from mldns.errors import UsageError
from mldns.resources.dns import ManagedZone
from mldns.rules.registry import did_you_mean
from mldns.state import backend
from mldns.target import PROJECT_ENV, emulator_from_env

EXIT_PARTIAL = 3


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["bind", "octodns"]), required=True, help="The format."
)
@click.option(
    "--zone",
    "zones",
    multiple=True,
    metavar="Z",
    help="A zone (name or DNS name); repeatable; default: every managed zone.",
)
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="The directory to write.",
)
@click.option(
    "--stack", "stack_name", help="Which stack's state (needed when the backend holds several)."
)
@engine_options
def export(fmt: str, zones: tuple[str, ...], out: str, stack_name: str | None, **opts: Any) -> None:
    """Write the zones the state manages, as they are live, as BIND zone files (one
    DNS_NAME.zone each) or octoDNS YAML (DNS_NAME.yaml each and a config.yaml that loads them).
    Record sets a format cannot hold (routing policies) are named on stderr, and the exit
    code is 3.

    \b
    Examples:
      mldns export --format bind -o exported --local
      mldns export --format octodns --zone ml-zone -o octodns --emulator 127.0.0.1:8475
    """
    url = backend.resolve(opts["backend"], opts["state_dir"])
    with local_cloud(opts) as opts:
        if stack_name is None:
            stack_name = only_stack(url, emulator_from_env(opts["emulator"]))
        state = None
        if not opts["project"] and not any(os.environ.get(v) for v in PROJECT_ENV):
            # No stack file names the project: the state records where its zones are (the
            # first in order, if several). Read here once, and used below.
            state = state_store(opts, stack_name).read()
            projects = sorted({e["project"] for e in _zones(state).values()})
            opts = {**opts, "project": projects[0] if projects else None}
        with workspace(None, opts, stack_name=stack_name) as ws:
            state = state or ws.store.read()
            if state is None:
                raise UsageError(f"no state for stack {stack_name} at {url}")
            entries = _zones(state)
            managed = {name: e["attributes"]["dnsName"] for name, e in entries.items()}
            chosen = _chosen(zones, managed)
            listed = {name: _records(ws, entries[name]["project"], name) for name in chosen}
    directory = Path(out)
    written, skipped = [], []
    files: dict[Path, str] = {}
    for name, records in listed.items():
        dns_name = managed[name]
        if fmt == "bind":
            text, left = formats.bind_zone(dns_name, records)
            files[directory / f"{dns_name}zone"] = text
        else:
            text, left = formats.octodns_zone(dns_name, records)
            files[directory / f"{dns_name}yaml"] = text
        skipped += [f"{name}: {s}" for s in left]
    if fmt == "octodns":
        files[directory / "config.yaml"] = formats.octodns_config(
            directory, (managed[n] for n in chosen)
        )
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        written.append(path)
    click.echo(
        f"Wrote {len(chosen)} zone{'s' if len(chosen) != 1 else ''} to {directory}/ ({fmt})."
    )
    if skipped:
        for line in skipped:
            click.echo(f"not exported: {line}", err=True)
        n = len(skipped)
        sets = "record set cannot" if n == 1 else "record sets cannot"
        click.echo(f"{n} {sets} be held in {fmt}: left out (exit 3).", err=True)
        sys.exit(EXIT_PARTIAL)


def _zones(state: Any) -> dict[str, dict[str, Any]]:
    """The state's managed zones' entries by zone name (none for no state)."""
    resources = state.resources.values() if state is not None else ()
    return {e["attributes"]["name"]: e for e in resources if e["kind"] == ManagedZone.kind}


def _records(ws: Any, project: str, zone: str) -> list[dict[str, Any]]:
    from google.api_core import exceptions as gexc

    from mldns.providers.dns import DnsProvider

    try:
        return DnsProvider(ws.clients).list_records(project, zone)
    except gexc.NotFound:
        raise UsageError(
            f"zone {zone} is in the state but not in project {project}: plan to see why"
        ) from None


def _chosen(zones: tuple[str, ...], managed: dict[str, str]) -> list[str]:
    """The zones named (by name or DNS name), each one the state holds; all of them if none."""
    if not zones:
        if not managed:
            raise UsageError("the state holds no managed zone to export")
        return sorted(managed)
    by_dns = {d: n for n, d in managed.items()}
    chosen = []
    for zone in zones:
        name = zone if zone in managed else by_dns.get(zone if zone.endswith(".") else zone + ".")
        if name is None:
            raise UsageError(
                f"--zone {zone}: the state holds no such zone{did_you_mean(zone, [*managed, *by_dns])}"
            )
        chosen.append(name)
    return chosen
